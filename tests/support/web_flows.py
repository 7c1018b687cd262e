"""Steps of the web app that several browser tests walk through: a student from the consent
screen to the first question, a teacher writing a question in the test editor."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from tests.support.browser import screenshots

SLOW = 30_000  # ms: the server analyses video on a busy machine


async def through_consent_and_device_check(page: Page, *, camera: bool = True, shots: str = "") -> None:
    """From the consent screen to the first question."""
    await expect(page.get_by_role("heading", name="Before you begin")).to_be_visible()
    if shots:
        await screenshots(page, f"{shots}-consent")
    go_on = page.get_by_role("button", name="Continue to device check")
    await expect(go_on).to_be_disabled()
    await page.get_by_label("I understand what is recorded").check()
    await go_on.click()
    await expect(page.get_by_role("heading", name="Check your camera and microphone")).to_be_visible()
    if camera:
        await expect(page.get_by_text("Camera: working")).to_be_visible(timeout=SLOW)
        await expect(page.get_by_text("Microphone: working")).to_be_visible()
        # The live picture plays in the page.
        await page.wait_for_function(
            "() => document.querySelector('video.camera-preview').videoWidth === 640"
        )
    else:
        await expect(page.get_by_text("Camera: not available (optional)")).to_be_visible(timeout=SLOW)
    if shots:
        await screenshots(page, f"{shots}-device-check")
    await (
        page.get_by_role("button", name="Start test")
        .or_(page.get_by_role("button", name="Resume test"))
        .click()
    )
    await expect(page.locator("[data-question-id]").first).to_be_visible(timeout=SLOW)


def question(page: Page, number: int) -> Locator:
    return page.get_by_role("article", name=f"Question {number}", exact=True)


async def write_question(page: Page, kind: str, text: str) -> Locator:
    """Adds a question of that kind at the end of the editor and writes its text."""
    count = await page.get_by_role("article").count()
    await page.get_by_role("group", name="Add a question").get_by_role("button", name=kind).click()
    card = question(page, count + 1)
    await card.get_by_label("Question", exact=True).fill(text)
    return card
