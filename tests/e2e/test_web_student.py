"""The student's pages in real Chromium with a fake camera of a real face, against the real server:
the dashboard, consent and device check, a proctored test (the teacher's viewer gets the frames),
autosave through a dropped network, a reload and expiring access tokens, the deadline, extra
time, a teacher's warning and ending, a denied camera, and the result page."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
from playwright.async_api import BrowserContext, Page, expect

from protolearn.config import Settings
from protolearn.vision.runtimes import create_analyzer
from tests.support.api import PASSWORD, Actor, Api, published_test
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium, write_y4m
from tests.support.live import live, until, watch_over
from tests.support.server import running_server
from tests.support.web_flows import SLOW, through_consent_and_device_check

skip_without_chromium()

# What Chromium says when the camera is refused, without a prompt to answer.
DENY_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""
# Keeps the page's live-channel sockets within reach, so a test can drop one.
TRACK_SOCKETS = """
window.liveSockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
        super(...args);
        window.liveSockets.push(this);
    }
};
"""
# Errors the pages may log on purpose: refused requests while offline or after the end.
EXPECTED_ERRORS = ("Failed to load resource", "net::ERR", "409", "401")


async def sign_in(page: Page, base_url: str, student: Actor) -> None:
    await page.goto(base_url + "/login")
    await page.get_by_label("Email").fill(student.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base_url + "/student")


async def attempt_of(teacher: Actor, test_id: int) -> dict[str, Any]:
    rows = (await teacher.get(f"/api/results/{test_id}")).json()
    assert len(rows) == 1, rows
    detail = await teacher.get(f"/api/attempts/{rows[0]['attempt_id']}")
    assert detail.status_code == 200, detail.text
    return dict(detail.json())


def answers_of(attempt: dict[str, Any]) -> dict[int, str | None]:
    return {a["question_id"]: a["answer"] for a in attempt["answers"]}


def question_ids(test: dict[str, Any]) -> list[int]:
    return [q["id"] for q in test["questions"]]


async def saved(page: Page) -> None:
    await expect(page.get_by_test_id("save-status")).to_contain_text("Saved at", timeout=SLOW)


async def test_a_student_takes_a_proctored_test_and_sees_the_result(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    teacher = await api.user("teacher")
    student = await api.user("student", "Ada Student")
    camera = write_y4m(tmp_path / "face.y4m")
    async with chromium(camera=camera) as browser:
        page = await (await browser.new_context(viewport=LAPTOP)).new_page()
        errors = PageErrors(page)
        await sign_in(page, base_url, student)
        await expect(page.get_by_text("No tests are open to you yet")).to_be_visible()
        await expect(page.get_by_text("No results yet")).to_be_visible()
        await screenshots(page, "student-dashboard-empty")

        test = await published_test(teacher, title="Chemistry quiz", review_mode="answers")
        mcq_id, truth_id, short_id = question_ids(test)
        await page.reload()
        await page.get_by_role("link", name="Start Chemistry quiz").click()
        await through_consent_and_device_check(page, shots="student")
        await expect(page.get_by_test_id("camera-status")).to_have_text("Camera live")
        await expect(page.get_by_role("heading", name="Capital of France?")).to_be_visible()

        # The server has the stream: the teacher's viewer receives the face.
        attempt_id = (await attempt_of(teacher, test["id"]))["id"]
        async with live(base_url, teacher) as socket:
            viewer, frames = await watch_over(socket, {"type": "watch", "attempt_id": attempt_id})
            await until(lambda: len(frames) >= 10, within=30)
            picture = frames[-1][1].to_ndarray(format="rgb24")
            await viewer.close()

            await page.get_by_label("Paris").check()
            await saved(page)
            await screenshots(page, "student-question-one-per-screen")

            await socket.send(
                json.dumps(
                    {"type": "warn", "attempt_id": attempt_id, "message": "Eyes on your own screen, please."}
                )
            )
            warning = page.get_by_role("dialog", name="A message from your teacher")
            await expect(warning).to_contain_text("Eyes on your own screen, please.")
            await screenshots(page, "student-warning")
            await warning.get_by_role("button", name="I understand").click()
            await expect(warning).to_be_hidden()
        assert picture.shape == (480, 640, 3)
        assert len(create_analyzer("onnx").analyze([picture])[0].faces) == 1

        await page.get_by_role("button", name="Next →").click()
        await page.get_by_label("True", exact=True).check()
        await page.get_by_role("button", name="Question 2, answered").click()  # the palette knows
        await page.get_by_role("button", name="Submit test").click()
        confirm = page.get_by_role("dialog", name="Submit your test?")
        await expect(confirm.get_by_test_id("unanswered")).to_have_text(
            "Question 3: Chemical symbol of gold?"
        )
        await screenshots(page, "student-submit-confirm")
        await confirm.get_by_role("button", name="Keep working").click()

        await page.get_by_role("button", name="All on one page").click()
        await expect(page.locator("[data-question-id]")).to_have_count(3)
        await page.get_by_label("Your answer to question 3").fill("Au")
        await page.get_by_role("button", name="Mark for review").nth(1).click()
        await saved(page)
        await page.evaluate("window.scrollTo(0, 0)")
        await screenshots(page, "student-questions-all-on-one-page")

        async def copies_reported() -> list[str]:
            """The copy_paste events the server has, once the page has sent every one it queued."""
            await page.wait_for_function(
                "key => localStorage.getItem(key) === '[]'", arg=f"protolearn.attempt.{attempt_id}.events"
            )
            violations = (await teacher.get(f"/api/violations/{attempt_id}")).json()
            return sorted(v["description"] for v in violations if v["type"] == "copy_paste")

        # Each browser event reaches the server once, those of a burst too.
        await page.evaluate("document.dispatchEvent(new Event('copy'))")  # reported as copy_paste
        assert await copies_reported() == ["copy in the test page"]
        await page.evaluate(
            "document.dispatchEvent(new Event('cut')); document.dispatchEvent(new Event('paste'))"
        )
        assert await copies_reported() == [
            "copy in the test page",
            "cut in the test page",
            "paste in the test page",
        ]

        await page.get_by_role("button", name="Submit test").click()
        await expect(confirm).to_contain_text("You answered all 3 questions.")
        await confirm.get_by_role("button", name="Submit test").click()
        await expect(page).to_have_url(f"{base_url}/student/attempts/{attempt_id}")
        await expect(page.get_by_role("heading", name="Chemistry quiz", level=1)).to_be_visible()
        await expect(page.locator(".score-ring")).to_have_text("100%")
        await expect(page.get_by_text("3 of 3 correct")).to_be_visible()
        events = page.get_by_role("table", name="Events recorded during the attempt")
        await expect(events).to_contain_text("Copied or pasted")
        await expect(events).to_contain_text("Your browser")
        await screenshots(page, "student-result")

        await page.get_by_role("link", name="My tests").first.click()
        history = page.get_by_role("table", name="Your attempts, newest first")
        await expect(history.get_by_role("row")).to_have_count(2)
        await expect(history).to_contain_text("100%")
        await expect(
            page.get_by_role("img", name="Your percent per submitted test, oldest first")
        ).to_be_visible()
        await screenshots(page, "student-dashboard-history")
        assert errors.unexpected(*EXPECTED_ERRORS) == []

    attempt = await attempt_of(teacher, test["id"])
    assert attempt["status"] == "submitted"
    assert answers_of(attempt) == {mcq_id: "Paris", truth_id: "true", short_id: "Au"}
    assert attempt["percent"] == 100
    violations = (await teacher.get(f"/api/violations/{attempt_id}")).json()
    assert any(v["type"] == "copy_paste" and v["source"] == "browser" for v in violations), violations


async def test_answers_survive_a_dropped_network_a_reload_and_expiring_tokens(
    settings: Settings, tmp_path: Path
) -> None:
    short_lived = msgspec.structs.replace(settings, access_token_ttl_seconds=3)
    async with (
        running_server(short_lived) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        api = Api(http, short_lived)
        teacher = await api.user("teacher")
        student = await api.user("student")
        test = await published_test(
            teacher,
            title="Geography check",
            proctoring={"camera_required": False, "microphone_required": False},
        )
        mcq_id, truth_id, short_id = question_ids(test)

        async with chromium() as browser:  # no camera at all: this test does not need one
            context: BrowserContext = await browser.new_context(viewport=LAPTOP)
            page = await context.new_page()
            refreshes: list[str] = []
            page.on(
                "request", lambda r: refreshes.append(r.url) if r.url.endswith("/api/auth/refresh") else None
            )
            await sign_in(page, base_url, student)
            await page.get_by_role("link", name="Start Geography check").click()
            await through_consent_and_device_check(page, camera=False)
            await expect(page.get_by_test_id("camera-status")).to_have_text("No camera")
            await page.get_by_label("Paris").check()
            await saved(page)

            await context.set_offline(True)
            await page.get_by_role("button", name="Next →").click()
            await page.get_by_label("True", exact=True).check()
            await page.get_by_role("button", name="Next →").click()
            await page.get_by_label("Your answer to question 3").fill("Au")
            banner = page.get_by_test_id("offline-banner")
            await expect(banner).to_be_visible(timeout=SLOW)
            await expect(banner).to_have_attribute("role", "alert")
            await screenshots(page, "student-offline")
            await context.set_offline(False)
            await expect(banner).to_be_hidden(timeout=SLOW)
            await saved(page)
            teacher = await api.login(teacher.email)  # its access token expired too
            assert answers_of(await attempt_of(teacher, test["id"])) == {
                mcq_id: "Paris",
                truth_id: "true",
                short_id: "Au",
            }

            # An answer the server never got outlives a reload, and wins over the server's copy.
            deadline = await page.locator("[data-testid=timer] time").get_attribute("datetime")
            await page.route("**/api/attempts/*/answers", lambda route: route.abort())
            await page.get_by_label("Your answer to question 3").fill("Ag")
            await expect(banner).to_be_visible(timeout=SLOW)
            await page.reload()
            await expect(page.get_by_text("You have this test in progress")).to_be_visible(timeout=SLOW)
            await through_consent_and_device_check(page, camera=False)
            await expect(page.locator("[data-testid=timer] time")).to_have_attribute(
                "datetime", deadline or ""
            )
            await page.get_by_role("button", name="All on one page").click()
            await expect(page.get_by_label("Paris")).to_be_checked()
            await expect(page.get_by_label("True", exact=True)).to_be_checked()
            await expect(page.get_by_label("Your answer to question 3")).to_have_value("Ag")
            await expect(banner).to_be_visible(timeout=SLOW)
            await page.unroute("**/api/attempts/*/answers")
            await banner.get_by_role("button", name="Try now").click()
            await expect(banner).to_be_hidden(timeout=SLOW)
            await saved(page)
            teacher = await api.login(teacher.email)
            assert answers_of(await attempt_of(teacher, test["id"]))[short_id] == "Ag"

            await page.get_by_role("button", name="Submit test").click()
            await (
                page.get_by_role("dialog", name="Submit your test?")
                .get_by_role("button", name="Submit test")
                .click()
            )
            await expect(page.locator(".score-ring")).to_be_visible(timeout=SLOW)
            assert page.url.startswith(base_url + "/student/attempts/")
            assert refreshes, "the access token never needed refreshing"

        teacher = await api.login(teacher.email)
        attempt = await attempt_of(teacher, test["id"])
        assert attempt["status"] == "submitted"
        assert answers_of(attempt) == {mcq_id: "Paris", truth_id: "true", short_id: "Ag"}


async def test_extra_time_moves_the_timer_an_ended_attempt_and_the_deadline_end_it(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    teacher = await api.user("teacher")
    student = await api.user("student")
    long_test = await published_test(teacher, title="History essay check", time_limit=30)
    quick = await published_test(teacher, title="Quick check", time_limit=0.4, review_mode="answers")
    camera = write_y4m(tmp_path / "face.y4m")
    async with chromium(camera=camera) as browser:
        context = await browser.new_context(viewport=LAPTOP)
        await context.add_init_script(TRACK_SOCKETS)
        page = await context.new_page()
        errors = PageErrors(page)
        await sign_in(page, base_url, student)

        await page.get_by_role("link", name="Start History essay check").click()
        await through_consent_and_device_check(page)
        camera_status = page.get_by_test_id("camera-status")
        await expect(camera_status).to_have_text("Camera live")
        # The live channel drops: the page says so and publishes again on a new socket.
        await page.evaluate("window.liveSockets.forEach((socket) => socket.close())")
        await expect(camera_status).to_have_text("Camera reconnecting…")
        await expect(camera_status).to_have_text("Camera live", timeout=SLOW)
        assert await page.evaluate("window.liveSockets.length") == 2
        attempt_id = (await attempt_of(teacher, long_test["id"]))["id"]
        timer = page.locator("[data-testid=timer] time")
        before_text = str(await timer.get_attribute("datetime"))
        before = datetime.fromisoformat(before_text)
        extended = await teacher.post(
            f"/api/attempts/{attempt_id}/extend", json={"minutes": 5, "reason": "Accommodation"}
        )
        assert extended.status_code == 200, extended.text
        new_deadline = datetime.fromisoformat(extended.json()["deadline"])
        await expect(page.get_by_test_id("toast")).to_contain_text("Your teacher gave you 5 more minutes")
        await expect(timer).not_to_have_attribute("datetime", before_text)
        shown = datetime.fromisoformat(str(await timer.get_attribute("datetime")))
        assert abs((shown - new_deadline).total_seconds()) < 0.01
        assert abs((shown - before).total_seconds() - 300) < 1
        await expect(timer).to_contain_text("34:")  # no reload: the same page counts on

        async with live(base_url, teacher) as socket:
            await socket.send(
                json.dumps({"type": "terminate", "attempt_id": attempt_id, "reason": "Phone on the desk"})
            )
            ended = page.get_by_test_id("end-screen")
            await expect(ended.get_by_role("heading")).to_have_text("Your teacher ended this test")
            await expect(ended).to_contain_text("Phone on the desk")
            await expect(ended.get_by_role("link", name="See your result")).to_be_visible()
            await screenshots(page, "student-end-terminated")

        # The timer runs out: the server closes the attempt with the saved answers scored.
        await ended.get_by_role("link", name="Back to my tests").click()
        await page.get_by_role("link", name="Start Quick check").click()
        await through_consent_and_device_check(page)
        await page.get_by_label("Paris").check()
        await saved(page)
        ended = page.get_by_test_id("end-screen")
        await expect(ended.get_by_role("heading")).to_have_text(
            "Time is up: your test was submitted", timeout=60_000
        )
        await expect(ended).to_contain_text("33%")
        await expect(ended).to_contain_text("Not passed")
        await screenshots(page, "student-end-auto-submitted")
        await ended.get_by_role("link", name="See your result").click()
        await expect(page.get_by_text("Submitted automatically at the time limit")).to_be_visible()
        await expect(page.get_by_text("Correct answer:")).to_have_count(2)
        assert errors.unexpected(*EXPECTED_ERRORS) == []

    closed = await attempt_of(teacher, quick["id"])
    assert closed["status"] == "auto_submitted"
    assert answers_of(closed)[quick["questions"][0]["id"]] == "Paris"
    assert closed["score"] == 1
    terminated = await attempt_of(teacher, long_test["id"])
    assert terminated["status"] == "terminated"


async def test_a_denied_camera_blocks_a_camera_test_with_instructions(base_url: str, api: Api) -> None:
    teacher = await api.user("teacher")
    student = await api.user("student")
    await published_test(teacher, title="Proctored final")
    async with chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP)
        await context.add_init_script(DENY_CAMERA)
        page = await context.new_page()
        await sign_in(page, base_url, student)
        await page.get_by_role("link", name="Start Proctored final").click()
        await page.get_by_label("I understand what is recorded").check()
        await page.get_by_role("button", name="Continue to device check").click()
        help_box = page.get_by_test_id("permission-help")
        await expect(help_box).to_contain_text("Your browser blocked the camera and microphone")
        await expect(help_box).to_contain_text("camera icon")
        await expect(help_box).to_contain_text("Allow")
        await expect(help_box).to_have_attribute("role", "alert")
        await expect(page.get_by_role("button", name="Start test")).to_be_disabled()
        await screenshots(page, "student-camera-denied")
        await page.get_by_role("button", name="Try again").click()
        await expect(help_box).to_be_visible()
        await expect(page.get_by_role("button", name="Start test")).to_be_disabled()

    # A connection of its own: the shared one idled about as long as the server keeps it alive.
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as fresh:
        history = await fresh.get(f"/api/results/student/{student.id}", headers=student._headers())
    assert history.json() == []  # no attempt was started
