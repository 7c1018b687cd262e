"""AI authoring and the tutor in real Chromium against the real server (offline provider): a
teacher uploads a PDF, reads its extracted text, generates questions, edits one, rejects one,
accepts the rest and publishes; a student takes exactly those questions and, on the result page,
has a wrong answer explained. Every page state passes axe-core."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from playwright.async_api import Page, expect

from protolearn.config import Settings
from tests.support.ai_material import BIOLOGY, scanned_pdf, text_pdf
from tests.support.api import PASSWORD, Actor, Api
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium
from tests.support.web_flows import SLOW

skip_without_chromium()

expect.set_options(timeout=20_000)

EXPECTED_CONSOLE = ("Failed to load resource",)
EDITED_PREFIX = "From chapter 1: "


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The upload answers at once, before the extraction ends: the page follows its progress."""
    return msgspec.structs.replace(settings, ai_upload_wait_seconds=0.0)


async def sign_in(page: Page, base_url: str, actor: Actor, then: str) -> None:
    await page.goto(base_url + "/login?next=" + then)
    await page.get_by_label("Email", exact=True).fill(actor.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base_url + then)


def wrong_answer(question: dict[str, Any]) -> str:
    if question["question_type"] == "mcq":
        return next(o for o in question["options"] if o != question["correct_answer"])
    if question["question_type"] == "true_false":
        return "false" if question["correct_answer"] == "true" else "true"
    return "a guess that has nothing to do with it"


async def test_a_teacher_drafts_questions_from_a_pdf_and_a_student_has_a_wrong_answer_explained(
    base_url: str, api: Api
) -> None:
    teacher = await api.user("teacher")
    student = await api.user("student")
    created = await teacher.post(
        "/api/tests",
        json={
            "title": "The cell",
            "subject": "Biology",
            "time_limit": 20,
            "passing_score": 50,
            "review_mode": "answers",
        },
    )
    assert created.status_code == 201, created.text
    test_id = created.json()["id"]
    pdf = text_pdf([BIOLOGY[0], BIOLOGY[1]])

    async with chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()
        errors = PageErrors(page)
        await sign_in(page, base_url, teacher, f"/teacher/tests/{test_id}")
        await page.get_by_role("link", name="Draft questions with AI").click()
        await expect(page).to_have_url(f"{base_url}/teacher/tests/{test_id}/ai")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Draft questions with AI")
        await screenshots(page, "ai-authoring-start")

        await page.get_by_label("File (PDF, PNG, JPEG or Word)").set_input_files(
            {"name": "the-cell.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        await expect(page.get_by_label("Title")).to_have_value("the-cell")
        await page.get_by_label("Title").fill("The cell, chapter 1")
        await page.get_by_role("button", name="Upload", exact=True).click()
        await expect(page.get_by_text("Text extracted from “The cell, chapter 1”: 2 pages")).to_be_visible()
        as_read = page.get_by_label("The material as read: headings, lists, tables and formulas")
        await expect(as_read).to_contain_text("The cell is the basic unit of life.")
        await expect(as_read.get_by_text("Text layer of the PDF")).to_have_count(2)
        await page.get_by_role("button", name="Plain text").click()
        material_text = page.get_by_label("The extracted text of the material")
        await expect(material_text).to_contain_text("The cell is the basic unit of life.")
        await expect(material_text).to_contain_text("Photosynthesis takes place in the chloroplast")
        await screenshots(page, "ai-authoring-material")

        await page.get_by_label("Number of questions").fill("4")
        await page.get_by_label("Difficulty").select_option("easy")
        await page.get_by_role("button", name="Generate questions").click()
        cards = page.locator("article.ai-card")
        await expect(cards).to_have_count(4)
        await expect(page.get_by_text("of 4 asked for")).to_be_visible()
        # Each question's passage is highlighted in the material's text.
        await expect(material_text.locator("mark")).not_to_have_count(0)
        await page.get_by_role("button", name="Show source of question 1").click()
        await expect(material_text.locator("mark.ai-mark--active")).to_have_count(1)
        source = await cards.nth(0).locator(".ai-card__passage").inner_text()
        active = await material_text.locator("mark.ai-mark--active").inner_text()
        assert " ".join(active.split()) == " ".join(source.split())
        await screenshots(page, "ai-authoring-generated")

        generated = (await teacher.get(f"/api/tests/{test_id}")).json()["questions"]
        assert len(generated) == 4 and all(q["ai_generated"] for q in generated)
        first, second = generated[0], generated[1]

        await page.get_by_role("button", name="Edit question 1").click()
        edited_text = EDITED_PREFIX + first["question_text"]
        await cards.nth(0).get_by_label("Question text").fill(edited_text)
        await screenshots(page, "ai-authoring-editing")
        await cards.nth(0).get_by_role("button", name="Save question").click()
        await expect(cards.nth(0).locator(".ai-card__text")).to_have_text(edited_text)

        # Refined with feedback: what changed is listed on the card; feedback the offline
        # assistant cannot apply is refused with what it understands.
        third = cards.nth(2)
        await page.get_by_role("button", name="Refine question 3").click()
        await third.get_by_label("How should it change?").fill("Please add an explanation.")
        await third.get_by_role("button", name="Refine question").click()
        changes = third.get_by_role("list", name="What the refinement changed")
        await expect(changes).to_contain_text("explained the answer with the source passage")
        await expect(page.get_by_test_id("toast").filter(has_text="Question refined.")).to_be_visible()
        await screenshots(page, "ai-authoring-refined")
        await page.get_by_role("button", name="Refine question 3").click()
        await third.get_by_label("How should it change?").fill("Sing it as a song.")
        await third.get_by_role("button", name="Refine question").click()
        refused = page.get_by_test_id("toast").filter(has_text="The question was not refined")
        await expect(refused).to_contain_text("it understands")
        await third.get_by_role("button", name="Cancel").click()

        await page.get_by_role("button", name="Reject question 2").click()
        await expect(cards.nth(1).get_by_text("Rejected", exact=True)).to_be_visible()
        await page.get_by_role("button", name="Accept question 3").click()
        await expect(cards.nth(2).get_by_text("Accepted", exact=True)).to_be_visible()
        await page.get_by_role("button", name="Accept all").click()
        await expect(page.get_by_text("3 accepted · 0 to review")).to_be_visible()
        await screenshots(page, "ai-authoring-reviewed")

        await page.get_by_role("link", name="Done: back to the test").click()
        await expect(page).to_have_url(f"{base_url}/teacher/tests/{test_id}")
        await page.get_by_role("button", name="Publish").click()
        await expect(page.get_by_text("Published", exact=True).first).to_be_visible()
        await expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
        await context.close()

        kept = (await teacher.get(f"/api/tests/{test_id}")).json()
        assert kept["is_published"] is True
        kept_ids = [q["id"] for q in kept["questions"]]
        assert second["id"] not in kept_ids and len(kept_ids) == 3
        assert kept["questions"][0]["id"] == first["id"]
        assert kept["questions"][0]["question_text"] == edited_text
        assert kept["questions"][1]["explanation"].startswith("The material says: ")

        started = await student.post(f"/api/tests/{test_id}/start")
        assert started.status_code == 200, started.text
        attempt = started.json()
        assert [q["id"] for q in attempt["questions"]] == kept_ids
        answers = {str(q["id"]): wrong_answer(q) for q in kept["questions"]}
        submitted = await student.post(
            f"/api/tests/{test_id}/submit", json={"attempt_id": attempt["attempt_id"], "answers": answers}
        )
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["score"] == 0

        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()
        errors = PageErrors(page)
        await sign_in(page, base_url, student, f"/student/attempts/{attempt['attempt_id']}")
        await expect(page.get_by_role("heading", level=1)).to_have_text("The cell")
        await page.get_by_role("button", name="Explain question 1").click()
        explanation = page.locator(".tutor-explain__body").first
        await expect(explanation.locator(".tutor-explain__text")).not_to_be_empty()
        await expect(explanation.get_by_text("The cell, chapter 1, page", exact=False).first).to_be_visible()

        await page.get_by_label("Your question").fill("What does the nucleus contain?")
        await page.get_by_role("button", name="Ask", exact=True).click()
        await expect(page.locator(".tutor-box__answer .tutor-explain__text")).not_to_be_empty()
        await screenshots(page, "ai-result-explained")
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
        await context.close()


async def test_the_upload_and_the_reading_of_a_scan_show_their_progress(base_url: str, api: Api) -> None:
    teacher = await api.user("teacher")
    created = await teacher.post("/api/tests", json={"title": "Scanned notes", "time_limit": 20})
    assert created.status_code == 201, created.text
    scan = scanned_pdf(BIOLOGY[:3])

    async with chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()
        errors = PageErrors(page)
        await sign_in(page, base_url, teacher, f"/teacher/tests/{created.json()['id']}/ai")
        # A slow uplink, as at home: the upload takes a few seconds.
        network = await context.new_cdp_session(page)
        await network.send("Network.enable")
        slow = {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": len(scan) / 4}
        await network.send("Network.emulateNetworkConditions", slow)

        await page.get_by_label("File (PDF, PNG, JPEG or Word)").set_input_files(
            {"name": "scanned-notes.pdf", "mimeType": "application/pdf", "buffer": scan}
        )
        await page.get_by_role("button", name="Upload", exact=True).click()
        uploading = page.locator("label[for=ai-upload-progress]")
        await expect(uploading).to_have_text(re.compile(r"Uploading [1-9][0-9]?%"))
        await expect(page.locator("progress#ai-upload-progress")).to_be_visible()
        await screenshots(page, "ai-authoring-uploading")
        await network.send("Network.emulateNetworkConditions", {**slow, "latency": 0, "uploadThroughput": -1})

        # Every page needs OCR: the page follows the extraction until the text is there.
        reading = page.locator("label[for=ai-extract-progress]")
        await expect(reading).to_have_text(re.compile(r"Reading the text of “scanned-notes”… \d+%"))
        await expect(page.locator("progress#ai-extract-progress")).to_be_visible()
        await screenshots(page, "ai-authoring-reading")
        done = page.get_by_text("Text extracted from “scanned-notes”: 3 pages")
        await expect(done).to_be_visible(timeout=4 * SLOW)
        await expect(done).to_contain_text("3 read by OCR")
        await expect(done).to_contain_text(re.compile(r"OCR confidence \d+%"))
        as_read = page.get_by_label("The material as read: headings, lists, tables and formulas")
        await expect(as_read).to_contain_text("nucleus")
        await expect(as_read.get_by_text(re.compile(r"Read by OCR · \d+% confidence"))).to_have_count(3)
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
        await context.close()
