"""The admin's pages in real Chromium against the real server: the overview shows the platform's
figures and the AI provider's health; an auditor created through the users page can sign in; a
deactivated student, signed in elsewhere, is sent back to sign-in at their next action; the audit
log shows each change. Every page and dialog passes axe-core. Pages on the live channel when an
account's sessions end: the student's test page publishes again after a new password set in
another tab, and goes to sign-in when the student is deactivated; the teacher's monitor goes to
sign-in when they are signed out everywhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.support.api import PASSWORD, Actor, Api, published_test
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium, write_y4m
from tests.support.web_flows import SLOW, through_consent_and_device_check

skip_without_chromium()

expect.set_options(timeout=15_000)

EXPECTED_CONSOLE = ("Failed to load resource",)

# Counts the live-channel sockets a page opens, to see that a closed-out page does not loop.
COUNT_SOCKETS = """
window.liveSockets = 0;
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
        super(...args);
        window.liveSockets += 1;
    }
};
"""


@asynccontextmanager
async def browser_page(browser: Browser) -> AsyncIterator[tuple[Page, PageErrors]]:
    context = await browser.new_context(viewport=LAPTOP)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    errors = PageErrors(page)
    try:
        yield page, errors
    finally:
        await context.close()


async def sign_in(page: Page, base_url: str, actor: Actor, lands_on: str) -> None:
    await page.goto(base_url + "/login")
    await page.get_by_label("Email", exact=True).fill(actor.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base_url + lands_on)


async def test_an_admin_runs_the_platform_from_the_admin_pages(base_url: str, api: Api) -> None:
    admin = await api.user("admin")
    teacher = await api.user("teacher")
    student = await api.user("student")
    await published_test(teacher)
    async with (
        chromium() as browser,
        browser_page(browser) as (page, errors),
        browser_page(browser) as (
            student_page,
            student_errors,
        ),
    ):
        # The overview: figures from the server and the AI provider's health.
        await sign_in(page, base_url, admin, "/admin")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Platform overview")
        users_card = page.locator("section", has=page.get_by_role("heading", name="Users", exact=True))
        await expect(users_card.get_by_text("3 accounts, 3 active")).to_be_visible()
        await expect(page.get_by_role("heading", name="AI provider")).to_be_visible()
        await expect(page.get_by_text("Reachable", exact=True)).to_be_visible()
        await expect(page.get_by_role("status").filter(has_text="Last updated")).to_be_visible()
        tests_card = page.locator("section", has=page.get_by_role("heading", name="Tests", exact=True))
        await expect(tests_card.locator("dd").nth(1)).to_have_text("1")  # published
        await screenshots(page, "admin-overview")

        # Create an auditor through the UI.
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        await expect(page).to_have_url(base_url + "/admin/users")
        await expect(page.get_by_role("status").filter(has_text="3 accounts")).to_be_visible()
        await screenshots(page, "admin-users")
        await page.get_by_role("button", name="+ New user").click()
        dialog = page.get_by_role("dialog", name="New user")
        await expect(dialog).to_be_visible()
        await screenshots(page, "admin-user-new")
        await dialog.get_by_label("Full name").fill("Margaret Auditor")
        await dialog.get_by_label("Email").fill("margaret@school.test")
        await dialog.get_by_label("First password").fill(PASSWORD)
        await dialog.get_by_label("Role").select_option("auditor")
        await dialog.get_by_role("button", name="Create user").click()
        await expect(dialog).to_be_hidden()
        await expect(page.get_by_role("row").filter(has_text="margaret@school.test")).to_be_visible()
        auditor = await api.login("margaret@school.test")
        assert auditor.user["role"] == "auditor"

        # The role filter narrows the list.
        role_filter = page.get_by_role("search", name="Filter users").get_by_label("Role")
        await role_filter.select_option("auditor")
        await expect(page.get_by_role("status").filter(has_text="1 account")).to_be_visible()
        await role_filter.select_option("")
        await expect(page.get_by_role("status").filter(has_text="4 accounts")).to_be_visible()

        # A student signed in elsewhere is deactivated; their next action returns them to sign-in.
        await sign_in(student_page, base_url, student, "/student")
        await student_page.goto(base_url + "/profile")
        name_field = student_page.get_by_label("Name shown to teachers and students")
        await expect(name_field).to_have_value(student.user["name"])

        await page.get_by_role("button", name="Deactivate " + student.user["name"]).click()
        confirm = page.get_by_role("dialog", name=f"Deactivate {student.user['name']}?")
        await expect(confirm).to_be_visible()
        await screenshots(page, "admin-user-deactivate")
        await confirm.get_by_role("button", name="Deactivate").click()
        await expect(confirm).to_be_hidden()
        row = page.get_by_role("row").filter(has_text=student.email)
        await expect(row.get_by_text("Deactivated")).to_be_visible()
        assert (await student.get("/api/auth/me")).status_code == 401

        await name_field.fill("Someone else")
        await student_page.get_by_role("button", name="Save name").click()
        await expect(student_page).to_have_url(base_url + "/login?next=/profile")

        # Change the teacher's role, with confirmation.
        await page.get_by_label("Role of " + teacher.user["name"]).select_option("auditor")
        role_dialog = page.get_by_role("dialog", name=f"Make {teacher.user['name']} an auditor?")
        await expect(role_dialog).to_be_visible()
        await screenshots(page, "admin-user-role")
        await role_dialog.get_by_role("button", name="Change role").click()
        await expect(role_dialog).to_be_hidden()
        await expect(page.get_by_label("Role of " + teacher.user["name"])).to_have_value("auditor")

        # End the auditor's sessions.
        await page.get_by_role("button", name="End sessions of Margaret Auditor").click()
        end_dialog = page.get_by_role("dialog", name="Sign Margaret Auditor out everywhere?")
        await screenshots(page, "admin-user-sessions")
        await end_dialog.get_by_role("button", name="End sessions").click()
        await expect(end_dialog).to_be_hidden()
        assert (await auditor.get("/api/auth/me")).status_code == 401

        # The audit log shows every change.
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
        await expect(page).to_have_url(base_url + "/admin/audit")
        table = page.get_by_role("table")
        await expect(table.get_by_text("User create")).to_be_visible()
        await expect(table.get_by_text("User update")).to_have_count(2)
        await expect(table.get_by_text("User sessions revoke")).to_be_visible()
        await expect(table.get_by_text("is_active: False")).to_be_visible()
        await screenshots(page, "admin-audit")
        await page.get_by_label("Action").fill("user.update")
        await page.get_by_label("Object id").fill(str(student.id))
        await page.get_by_role("button", name="Apply").click()
        await expect(page.get_by_role("status").filter(has_text="1 entry")).to_be_visible()
        await page.get_by_label("Object id").fill("nope")
        await page.get_by_role("button", name="Apply").click()
        await expect(page.get_by_role("alert").filter(has_text="whole numbers")).to_be_visible()

        # The overview counts the change.
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
        await expect(users_card.get_by_text("4 accounts, 3 active")).to_be_visible()

        assert not errors.unexpected(*EXPECTED_CONSOLE), errors.messages
        assert not student_errors.unexpected(*EXPECTED_CONSOLE), student_errors.messages


async def test_pages_on_the_live_channel_follow_the_end_of_their_sessions(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    admin = await api.user("admin")
    teacher = await api.user("teacher")
    student = await api.user("student")
    test = await published_test(teacher, title="Live quiz", proctoring={"camera_required": True})
    async with chromium(camera=write_y4m(tmp_path / "face.y4m")) as browser:
        student_context = await browser.new_context(viewport=LAPTOP)
        await student_context.add_init_script(COUNT_SOCKETS)
        exam = await student_context.new_page()
        errors = PageErrors(exam)
        await sign_in(exam, base_url, student, "/student")
        await exam.goto(f"{base_url}/student/tests/{test['id']}")
        await through_consent_and_device_check(exam)
        camera_status = exam.get_by_test_id("camera-status")
        await expect(camera_status).to_have_text("Camera live")

        # A new password set in another tab ends every session but that tab's, which holds the
        # cookie: the test page refreshes from it and publishes again.
        profile = await student_context.new_page()
        await profile.goto(base_url + "/profile")
        await profile.get_by_label("Current password").fill(PASSWORD)
        await profile.get_by_label("New password", exact=True).fill("a-new-password-1")
        await profile.get_by_label("New password again").fill("a-new-password-1")
        await profile.get_by_role("button", name="Change password").click()
        await expect(profile.get_by_test_id("toast").filter(has_text="Password changed")).to_be_visible()
        await exam.wait_for_function("() => window.liveSockets === 2", timeout=SLOW)
        await expect(camera_status).to_have_text("Camera live", timeout=SLOW)
        assert "/student/tests/" in exam.url

        # Deactivated: the test page goes to sign-in instead of publishing again.
        deactivated = await admin.patch(f"/api/users/{student.id}", json={"is_active": False})
        assert deactivated.status_code == 200, deactivated.text
        await expect(exam).to_have_url(re.compile(r"/login\?next=/student/tests/"))
        await expect(exam.get_by_text("Your sign-in has expired")).to_be_visible()
        assert await exam.evaluate("window.liveSockets") == 2

        # The teacher's monitor, signed out everywhere: its refresh is refused, so sign-in too.
        monitor_context = await browser.new_context(viewport=LAPTOP)
        await monitor_context.add_init_script(COUNT_SOCKETS)
        monitor = await monitor_context.new_page()
        monitor_errors = PageErrors(monitor)
        await sign_in(monitor, base_url, teacher, "/teacher")
        await monitor.goto(f"{base_url}/teacher/tests/{test['id']}/live")
        await expect(monitor.get_by_role("heading", level=1)).to_have_text("Live: Live quiz")
        await monitor.wait_for_function("() => window.liveSockets === 1")
        revoked = await admin.post(f"/api/users/{teacher.id}/sessions/revoke")
        assert revoked.status_code == 204, revoked.text
        await expect(monitor).to_have_url(re.compile(r"/login\?next=/teacher/tests/"))
        # Sent to sign in, it opens no more sockets. (A revocation that lands while its first
        # socket is still being accepted can cost a refused retry or two before an API call finds
        # the sign-in ended, on a loaded machine: counted, not asserted.)
        sockets = await monitor.evaluate("window.liveSockets")
        await monitor.wait_for_timeout(5_000)  # past a retry scheduled before (after 2 s, then 4 s)
        assert await monitor.evaluate("window.liveSockets") == sockets <= 3

        assert not errors.unexpected(*EXPECTED_CONSOLE, "401", "403"), errors.messages
        # A retry's handshake refused (403) is the browser's console line for such a refusal.
        assert not monitor_errors.unexpected(*EXPECTED_CONSOLE, "401", "403"), monitor_errors.messages
