"""The web app's shell in real Chromium: landing, registration, sign-in, profile, sign-out; the
session survives a reload through the refresh cookie, a deep link comes back after sign-in, and
an ended login returns to sign-in with the page to come back to."""

from __future__ import annotations

import httpx
from playwright.async_api import Locator, Page, expect

from tests.support.api import PASSWORD, Api, published_test
from tests.support.browser import PageErrors, chromium, screenshots, skip_without_chromium

skip_without_chromium()


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_newcomer_registers_edits_the_profile_and_signs_out(base_url: str, api: Api) -> None:
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1366, "height": 768})
        page = await context.new_page()
        errors = PageErrors(page)

        await page.goto(base_url + "/")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("exams")
        await screenshots(page, "landing")
        await page.get_by_role("link", name="Create an account").first.click()
        await expect(page).to_have_url(base_url + "/register")
        await screenshots(page, "register")
        await page.get_by_label("Full name").fill("Grace Hopper")
        await page.get_by_label("Email").fill("grace@school.test")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_label("Teacher").check()
        await page.get_by_role("button", name="Create account").click()
        await expect(page).to_have_url(base_url + "/teacher")
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="New test")).to_be_visible()  # the teacher's bar

        await nav.get_by_role("link", name="Grace Hopper").click()
        await expect(page).to_have_url(base_url + "/profile")
        await screenshots(page, "profile")
        await page.get_by_label("Name shown to teachers and students").fill("Grace B. Hopper")
        await page.get_by_role("button", name="Save name").click()
        await expect(page.get_by_test_id("toast").filter(has_text="Your name is saved")).to_be_visible()
        await expect(nav.get_by_role("link", name="Grace B. Hopper")).to_be_visible()

        await page.get_by_label("Current password").fill("not my password")
        await page.get_by_label("New password", exact=True).fill("a-new-password-1")
        await page.get_by_label("New password again").fill("a-new-password-1")
        await page.get_by_role("button", name="Change password").click()
        refused = page.get_by_role("alert").filter(has_text="The password was not changed")
        await expect(refused).to_be_visible()  # the server's problem details, in words
        await page.get_by_label("Current password").fill(PASSWORD)
        await page.get_by_role("button", name="Change password").click()
        await expect(page.get_by_test_id("toast").filter(has_text="Password changed")).to_be_visible()

        await page.reload()  # the access token was in memory only: the cookie brings the login back
        await expect(page).to_have_url(base_url + "/profile")
        await expect(page.get_by_label("Name shown to teachers and students")).to_have_value(
            "Grace B. Hopper"
        )

        await nav.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(base_url + "/login")
        cookies = await context.cookies()
        assert not [c for c in cookies if c["name"] == "protolearn_refresh"]
        await page.goto(base_url + "/profile")
        await expect(page).to_have_url(base_url + "/login?next=/profile")
        await screenshots(page, "login")
        await sign_in(page, "grace@school.test", "a-new-password-1")
        await expect(page).to_have_url(base_url + "/profile")  # back where the link pointed
        assert errors.unexpected("401", "403", "Failed to load resource") == []

    login = await api.client.post(
        "/api/auth/login", json={"email": "grace@school.test", "password": "a-new-password-1"}
    )
    assert login.json()["user"]["name"] == "Grace B. Hopper"
    assert login.json()["user"]["role"] == "teacher"


async def test_an_ended_login_returns_to_sign_in_with_the_page_to_come_back_to(
    base_url: str, api: Api
) -> None:
    student = await api.user("student")
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1366, "height": 768})
        page = await context.new_page()
        await page.goto(base_url + "/login")
        await sign_in(page, student.user["email"], "wrong password")
        await expect(page.get_by_role("alert").filter(has_text="Sign-in failed")).to_be_visible()
        await sign_in(page, student.user["email"])
        await expect(page).to_have_url(base_url + "/student")
        await page.goto(base_url + "/profile")
        await expect(page.get_by_label("Name shown to teachers and students")).to_have_value(
            student.user["name"]
        )

        # The password changes elsewhere: every login of this browser ends.
        async with httpx.AsyncClient(base_url=base_url) as elsewhere:
            changed = await elsewhere.post(
                "/api/auth/password",
                headers={"Authorization": f"Bearer {student.access_token}"},
                json={"current_password": PASSWORD, "new_password": "changed-elsewhere-1"},
            )
            assert changed.status_code == 200
        await page.get_by_label("Name shown to teachers and students").fill("Someone else")
        await page.get_by_role("button", name="Save name").click()
        await expect(page).to_have_url(base_url + "/login?next=/profile")
        await expect(page.get_by_test_id("toast").filter(has_text="sign-in has expired")).to_be_visible()

        await page.goto(base_url + "/no/such/page")
        await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        await screenshots(page, "not-found")


async def tab_to(page: Page, target: Locator, most: int = 25) -> None:
    """Presses Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(most):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    await expect(target).to_be_focused()


async def test_signing_in_and_taking_a_question_work_by_keyboard_alone(base_url: str, api: Api) -> None:
    teacher = await api.user("teacher")
    student = await api.user("student")
    await published_test(
        teacher, title="Keyboard quiz", proctoring={"camera_required": False, "microphone_required": False}
    )
    async with chromium() as browser:
        page = await (await browser.new_context(viewport={"width": 1366, "height": 768})).new_page()
        await page.goto(base_url + "/")
        await page.keyboard.press("Tab")  # the skip link comes first
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        await tab_to(page, page.get_by_role("banner").get_by_role("link", name="Sign in"))
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(base_url + "/login")
        await page.get_by_label("Email", exact=True).focus()
        await page.keyboard.type(student.user["email"])
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")  # the form submits
        await expect(page).to_have_url(base_url + "/student")

        start = page.get_by_role("link", name="Start Keyboard quiz")
        await start.focus()
        await page.keyboard.press("Enter")
        agree = page.get_by_label("I understand what is recorded")
        await agree.focus()
        await page.keyboard.press("Space")
        await expect(agree).to_be_checked()
        await tab_to(page, page.get_by_role("button", name="Continue to device check"))
        await page.keyboard.press("Enter")
        begin = page.get_by_role("button", name="Start test")
        await expect(begin).to_be_enabled(timeout=30_000)
        await begin.focus()
        await page.keyboard.press("Enter")
        first_option = page.get_by_label("Paris")
        await first_option.focus()
        await page.keyboard.press("ArrowDown")  # radio groups move with the arrows
        await expect(page.get_by_label("Lyon")).to_be_checked()
        await expect(page.get_by_test_id("save-status")).to_contain_text("Saved at", timeout=30_000)
