"""The teacher's pages in real Chromium against the real server: a newcomer writes a test with
every question type and publishes it; questions come from the bank and from Moodle XML and GIFT
files, go back out in each format and come back the same; results sort, download, chart and
open an attempt's detail; extra time moves a deadline. Every page and dialog passes axe-core."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator, Page, expect

from tests.support.api import PASSWORD, Actor, Api, mcq, new_test_payload, short_answer, true_false
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium
from tests.support.web_flows import question, write_question

skip_without_chromium()

expect.set_options(timeout=15_000)

# What a page may log without it being a fault: the browser reports refused requests itself.
EXPECTED_CONSOLE = ("Failed to load resource",)


@asynccontextmanager
async def teacher_page(browser: Browser) -> AsyncIterator[tuple[Page, PageErrors]]:
    context = await browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    errors = PageErrors(page)
    try:
        yield page, errors
    finally:
        await context.close()


async def sign_in(page: Page, base_url: str, actor: Actor, then: str = "/teacher") -> None:
    await page.goto(base_url + "/login?next=" + then)
    await page.get_by_label("Email", exact=True).fill(actor.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base_url + then)


def toast(page: Page, text: str) -> Locator:
    return page.get_by_test_id("toast").filter(has_text=text)


async def save(page: Page) -> None:
    """Saves the editor's changes and waits until the server has all of them."""
    await expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status").filter(has_text="All changes saved")).to_be_visible()


async def test_a_newcomer_writes_a_test_with_every_question_type_and_publishes_it(
    base_url: str, api: Api
) -> None:
    async with chromium() as browser, teacher_page(browser) as (page, errors):
        await page.goto(base_url + "/")
        await page.get_by_role("link", name="Create an account").first.click()
        await page.get_by_label("Full name").fill("Rosalind Franklin")
        await page.get_by_label("Email").fill("rosalind@school.test")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_label("Teacher").check()
        await page.get_by_role("button", name="Create account").click()
        await expect(page).to_have_url(base_url + "/teacher")
        await expect(page.get_by_role("heading", name="You have no test yet")).to_be_visible()
        await screenshots(page, "teacher-dashboard-empty")

        await page.get_by_role("link", name="Create your first test").click()
        await expect(page).to_have_url(base_url + "/teacher/tests/new")
        await expect(page.get_by_role("heading", level=1)).to_have_text("New test")
        await screenshots(page, "teacher-editor-new")

        await page.get_by_label("Title").fill("Cell biology, unit 2")
        await page.get_by_label("Subject").fill("Biology")
        await page.get_by_label("Time limit (minutes)").fill("45")
        await page.get_by_label("Pass mark (percent)").fill("60")
        await page.get_by_label("Shuffle the questions for each student").check()
        await page.get_by_label("Microphone required").uncheck()
        await page.get_by_label("Pictures analysed per second").fill("1")
        await page.get_by_text("Rule thresholds").click()
        await page.get_by_label("No face in view for").fill("6")
        await page.get_by_label("Head turned sideways beyond").fill("40")
        await page.get_by_label("End the attempt after repeated critical violations").check()
        await page.get_by_label("Number of critical violations that ends it").fill("2")

        first = await write_question(page, "Multiple choice", "Which organelle makes ATP?")
        for n, option in enumerate(["Nucleus", "Mitochondrion", "Ribosome", "Golgi body"], start=1):
            await first.get_by_label(f"Option {n}", exact=True).fill(option)
        await first.get_by_label("Option 2 is the correct answer").check()
        await first.get_by_role("button", name="Remove option 4").click()
        await first.get_by_role("button", name="Move option 3 up").click()  # Ribosome before Mitochondrion
        await first.get_by_label("Points").fill("2")
        second = await write_question(page, "True or false", "Plant cells have a cell wall.")
        await second.get_by_label("True").check()
        third = await write_question(page, "Short answer", "What carries genetic information?")
        await third.get_by_label("Accepted answer").fill("DNA")
        await third.get_by_label("Explanation").fill("Deoxyribonucleic acid.")
        await expect(page.get_by_role("status").filter(has_text="Not saved yet")).to_be_visible()
        await screenshots(page, "teacher-editor-questions")

        await page.get_by_role("button", name="Create test").click()
        await expect(toast(page, "Test created")).to_be_visible()
        await expect(page).to_have_url(f"{base_url}/teacher/tests/1")
        await expect(page.get_by_role("status").filter(has_text="All changes saved")).to_be_visible()
        await page.get_by_role("button", name="Publish", exact=True).click()
        await expect(toast(page, "Published")).to_be_visible()
        await expect(page.get_by_role("button", name="Unpublish", exact=True)).to_be_visible()

        teacher = await api.login("rosalind@school.test")  # a fresh login: the API helpers' own token
        response = await teacher.get("/api/tests/1")
        assert response.status_code == 200, response.text
        test = response.json()
        assert (test["title"], test["subject"], test["time_limit"], test["passing_score"]) == (
            "Cell biology, unit 2",
            "Biology",
            45,
            60,
        )
        assert test["is_published"] is True
        assert test["shuffle_questions"] is True
        proctoring = test["proctoring"]
        assert proctoring["camera_required"] is True
        assert proctoring["microphone_required"] is False
        assert proctoring["analysis_fps"] == 1
        assert proctoring["auto_terminate_after_critical"] == 2
        assert proctoring["rules"]["no_face_seconds"] == 6
        assert proctoring["rules"]["max_head_yaw_degrees"] == 40
        assert proctoring["rules"]["looking_away_seconds"] == 4  # untouched: the default
        listed = [
            (
                q["question_type"],
                q["question_text"],
                q["options"],
                q["correct_answer"],
                q["points"],
                q["explanation"],
            )
            for q in test["questions"]
        ]
        assert listed == [
            (
                "mcq",
                "Which organelle makes ATP?",
                ["Nucleus", "Ribosome", "Mitochondrion"],
                "Mitochondrion",
                2,
                None,
            ),
            ("true_false", "Plant cells have a cell wall.", ["true", "false"], "true", 1, None),
            ("short_answer", "What carries genetic information?", [], "DNA", 1, "Deoxyribonucleic acid."),
        ]

        # A change not saved is not lost by leaving: the page asks first.
        await page.get_by_label("Title").fill("Cell biology, unit 2 (draft)")
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="My tests").click()
        leave = page.get_by_role("dialog", name="Leave without saving?")
        await expect(leave).to_be_visible()
        await screenshots(page, "teacher-editor-leave-dialog")
        await leave.get_by_role("button", name="Stay on this page").click()
        await expect(page).to_have_url(f"{base_url}/teacher/tests/1")
        await expect(page.get_by_label("Title")).to_have_value("Cell biology, unit 2 (draft)")
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="My tests").click()
        await leave.get_by_role("button", name="Leave and discard changes").click()
        await expect(page).to_have_url(base_url + "/teacher")
        assert (await teacher.get("/api/tests/1")).json()["title"] == "Cell biology, unit 2"

        card = page.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name="Cell biology, unit 2")
        )
        await expect(card.get_by_text("Published")).to_be_visible()
        await expect(card.locator("dd").first).to_have_text("3")
        await screenshots(page, "teacher-dashboard")
        assert errors.unexpected(*EXPECTED_CONSOLE) == []


async def test_questions_come_from_the_bank_move_and_go_and_an_empty_test_is_not_published(
    base_url: str, api: Api
) -> None:
    teacher = await api.user("teacher")
    source = await teacher.post("/api/tests", json=new_test_payload(title="Last year's chemistry"))
    gold = next(q for q in source.json()["questions"] if q["question_type"] == "short_answer")
    empty = (await teacher.post("/api/tests", json={"title": "Metals", "time_limit": 20})).json()

    async with chromium() as browser, teacher_page(browser) as (page, errors):
        await sign_in(page, base_url, teacher, f"/teacher/tests/{empty['id']}")
        await expect(page.get_by_text("No questions yet.")).to_be_visible()
        await page.get_by_role("button", name="Publish", exact=True).click()
        refusal = page.locator(".teacher-editor__problem")  # next to the form, and as a toast
        await expect(refusal).to_contain_text("at least one question")
        await expect(page.get_by_role("alert").filter(has_text="The test was not published")).to_be_visible()
        await screenshots(page, "teacher-editor-publish-refused")

        # What only the server checks comes back next to the form, on the field, and as a toast.
        await page.get_by_label("Pictures analysed per second").fill("50")
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_role("alert").filter(has_text="The test was not saved")).to_be_visible()
        await expect(refusal).to_contain_text("analysis_fps")
        await expect(page.get_by_label("Pictures analysed per second")).to_have_attribute(
            "aria-invalid", "true"
        )
        await page.get_by_label("Pictures analysed per second").fill("2")

        await page.get_by_role("button", name="From the question bank…").click()
        bank = page.get_by_role("dialog", name="Add from your question bank")
        await bank.get_by_label("Search your questions").fill("gold")
        await bank.get_by_role("button", name="Search").click()
        found = bank.get_by_role("list", name="Questions found").get_by_role("listitem")
        await expect(found).to_have_count(1)
        await expect(found).to_contain_text("Chemical symbol of gold?")
        await screenshots(page, "teacher-bank-dialog")
        await found.get_by_role("button", name="Add to this test: Chemical symbol of gold?").click()
        await expect(found.get_by_role("button", name="Added: Chemical symbol of gold?")).to_be_disabled()
        await bank.get_by_role("button", name="Done").click()
        await expect(bank).to_be_hidden()
        await expect(question(page, 1).get_by_label("Question", exact=True)).to_have_value(
            "Chemical symbol of gold?"
        )
        await expect(question(page, 1).get_by_label("Accepted answer")).to_have_value("Au")

        second = await write_question(page, "True or false", "Iron rusts in water.")
        await second.get_by_label("True").check()
        third = await write_question(page, "Multiple choice", "Which metal is liquid at room temperature?")
        for n, option in enumerate(["Mercury", "Tin", "Lead"], start=1):
            await third.get_by_label(f"Option {n}", exact=True).fill(option)
        await third.get_by_role("button", name="Remove option 4").click()
        # No option is correct until the teacher says which: the page asks before saving.
        await page.get_by_role("button", name="Save changes").click()
        await expect(third.get_by_role("alert")).to_have_text("Choose which option is correct.")
        await third.get_by_label("Option 1 is the correct answer").check()
        # The choice outlives a change of type and back.
        await third.get_by_label("Type").select_option("short_answer")
        await third.get_by_label("Type").select_option("mcq")
        await expect(third.get_by_label("Option 1 is the correct answer")).to_be_checked()
        await save(page)

        async def texts() -> list[str]:
            test = (await teacher.get(f"/api/tests/{empty['id']}")).json()
            return [q["question_text"] for q in test["questions"]]

        saved = (await teacher.get(f"/api/tests/{empty['id']}")).json()["questions"]
        assert [q["question_text"] for q in saved] == [
            "Chemical symbol of gold?",
            "Iron rusts in water.",
            "Which metal is liquid at room temperature?",
        ]
        assert (saved[0]["correct_answer"], saved[0]["question_type"]) == ("Au", "short_answer")
        assert saved[0]["id"] != gold["id"]  # a copy: the bank's question stays in its own test
        assert saved[2]["options"] == ["Mercury", "Tin", "Lead"]

        await page.get_by_role("button", name="Move question 3 up").click()
        await expect(question(page, 2).get_by_label("Question", exact=True)).to_have_value(
            "Which metal is liquid at room temperature?"
        )
        await page.get_by_role("button", name="Delete question 1").click()
        confirm = page.get_by_role("dialog", name="Delete this question?")
        await expect(confirm).to_contain_text("Chemical symbol of gold?")
        await screenshots(page, "teacher-delete-dialog")
        await confirm.get_by_role("button", name="Delete question").click()
        await expect(page.get_by_role("article")).to_have_count(2)
        await save(page)
        assert await texts() == ["Which metal is liquid at room temperature?", "Iron rusts in water."]
        bank_copy = await teacher.get(f"/api/questions/{gold['id']}")
        assert bank_copy.status_code == 200  # deleting the copy left the original alone

        await page.get_by_role("button", name="Publish", exact=True).click()
        await expect(toast(page, "Published")).to_be_visible()
        assert (await teacher.get(f"/api/tests/{empty['id']}")).json()["is_published"] is True
        await page.get_by_role("button", name="Unpublish", exact=True).click()
        await expect(page.get_by_role("button", name="Publish", exact=True)).to_be_visible()
        assert (await teacher.get(f"/api/tests/{empty['id']}")).json()["is_published"] is False
        assert errors.unexpected(*EXPECTED_CONSOLE) == []


MOODLE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Astronomy</text></category></question>
  <question type="multichoice">
    <name><text>Largest planet</text></name>
    <questiontext format="html"><text><![CDATA[<p>Which planet is the largest?</p>]]></text></questiontext>
    <defaultgrade>2</defaultgrade>
    <single>true</single>
    <answer fraction="100"><text>Jupiter</text></answer>
    <answer fraction="0"><text>Mars</text></answer>
    <answer fraction="0"><text>Venus</text></answer>
  </question>
  <question type="truefalse">
    <name><text>Sun</text></name>
    <questiontext format="moodle_auto_format"><text>The Sun is a star.</text></questiontext>
    <defaultgrade>1</defaultgrade>
    <answer fraction="100"><text>true</text></answer>
    <answer fraction="0"><text>false</text></answer>
  </question>
  <question type="essay">
    <name><text>Moon essay</text></name>
    <questiontext format="html"><text>Describe the phases of the Moon.</text></questiontext>
  </question>
</quiz>
"""

GIFT = """// Astronomy, second part
::Orbit::The Moon orbits the Earth.{T}

::Red planet::Which planet is called the red planet?{=Mars}

::Match::Match each planet with its moon.{
  =Earth -> Moon
  =Mars -> Phobos
}
"""


def comparable(questions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (q["question_type"], q["question_text"], q["options"], q["correct_answer"], q["points"])
        for q in questions
    ]


async def import_through_the_ui(page: Page, path: Path, name: str | None = None) -> Locator:
    """Chooses the file, checks it; returns the dialog showing the preview."""
    await page.get_by_role("button", name="Import questions").click()
    dialog = page.get_by_role("dialog", name="Import questions")
    await dialog.get_by_label("Question file").set_input_files(path)
    await dialog.get_by_role("button", name="Check the file").click()
    await expect(dialog.get_by_role("list", name="Questions to import")).to_be_visible()
    if name:
        await screenshots(page, name)
    return dialog


async def test_questions_import_from_moodle_xml_and_gift_and_export_in_every_format_round_trip(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    teacher = await api.user("teacher")
    first = (await teacher.post("/api/tests", json={"title": "Astronomy", "time_limit": 20})).json()
    second = (await teacher.post("/api/tests", json={"title": "Astronomy again", "time_limit": 20})).json()
    (tmp_path / "astronomy.xml").write_text(MOODLE_XML)
    (tmp_path / "astronomy.gift").write_text(GIFT)

    async with chromium() as browser, teacher_page(browser) as (page, errors):
        await sign_in(page, base_url, teacher, f"/teacher/tests/{first['id']}")

        dialog = await import_through_the_ui(page, tmp_path / "astronomy.xml", "teacher-import-preview")
        await expect(
            dialog.get_by_role("list", name="Questions to import").get_by_role("listitem")
        ).to_have_count(2)
        skipped = dialog.get_by_role("list", name="Skipped items").get_by_role("listitem")
        await expect(skipped).to_have_count(1)
        await expect(skipped).to_contain_text("Moon essay")
        assert len((await skipped.inner_text()).split("—", 1)[1].strip()) > 5  # a reason in words
        await dialog.get_by_role("button", name="Import 2 questions").click()
        await expect(toast(page, "2 questions imported; 1 skipped")).to_be_visible()
        await expect(dialog).to_be_hidden()
        await expect(question(page, 1).get_by_label("Question", exact=True)).to_have_value(
            "Which planet is the largest?"
        )
        await expect(question(page, 2).get_by_label("Question", exact=True)).to_have_value(
            "The Sun is a star."
        )

        dialog = await import_through_the_ui(page, tmp_path / "astronomy.gift")
        await expect(dialog.get_by_role("list", name="Skipped items")).to_contain_text("Match")
        await dialog.get_by_role("button", name="Import 2 questions").click()
        await expect(page.get_by_role("article")).to_have_count(4)
        await expect(question(page, 4).get_by_label("Accepted answer")).to_have_value("Mars")
        await expect(page.get_by_role("status").filter(has_text="All changes saved")).to_be_visible()

        original = (await teacher.get(f"/api/tests/{first['id']}")).json()["questions"]
        assert comparable(original) == [
            ("mcq", "Which planet is the largest?", ["Jupiter", "Mars", "Venus"], "Jupiter", 2),
            ("true_false", "The Sun is a star.", ["true", "false"], "true", 1),
            ("true_false", "The Moon orbits the Earth.", ["true", "false"], "true", 1),
            ("short_answer", "Which planet is called the red planet?", [], "Mars", 1),
        ]

        exported: dict[str, Path] = {}
        for label, extension in (("Moodle XML", "xml"), ("GIFT", "txt"), ("CSV", "csv")):
            async with page.expect_download() as download_info:
                await page.get_by_role("button", name=f"Export as {label}").click()
            download = await download_info.value
            exported[label] = tmp_path / download.suggested_filename
            await download.save_as(exported[label])
            assert download.suggested_filename.endswith("." + extension)
        assert "<quiz>" in exported["Moodle XML"].read_text()
        assert "Which planet is the largest?" in exported["GIFT"].read_text()
        header = next(csv.reader(io.StringIO(exported["CSV"].read_text(encoding="utf-8-sig"))))
        assert "question_text" in header

        # Back in, into a second test: the same questions come out of each format.
        await page.goto(f"{base_url}/teacher/tests/{second['id']}")
        dialog = await import_through_the_ui(page, exported["Moodle XML"])
        await dialog.get_by_role("button", name="Import 4 questions").click()
        await expect(page.get_by_role("article")).to_have_count(4)
        round_trip = (await teacher.get(f"/api/tests/{second['id']}")).json()["questions"]
        assert comparable(round_trip) == comparable(original)
        for label in ("GIFT", "CSV"):
            other = (
                await teacher.post("/api/tests", json={"title": f"From {label}", "time_limit": 20})
            ).json()
            with exported[label].open("rb") as file:
                answer = await teacher.post(f"/api/tests/{other['id']}/import", files={"file": file})
            assert answer.status_code == 200, answer.text
            assert answer.json()["skipped"] == []
            again = (await teacher.get(f"/api/tests/{other['id']}")).json()["questions"]
            assert comparable(again) == comparable(original), label
        assert errors.unexpected(*EXPECTED_CONSOLE) == []


async def test_results_sort_download_chart_open_an_attempt_and_give_extra_time(
    base_url: str, api: Api
) -> None:
    teacher = await api.user("teacher")
    payload = new_test_payload(
        title="Chemistry quiz",
        is_published=True,
        questions=[mcq(), true_false(), short_answer()],
    )
    test = (await teacher.post("/api/tests", json=payload)).json()
    ids = [q["id"] for q in test["questions"]]
    ada = await api.user("student", name="Ada Lovelace")
    blaise = await api.user("student", name="Blaise Pascal")
    submitted = (await ada.post(f"/api/tests/{test['id']}/start")).json()
    violation = await ada.post(
        "/api/violations",
        json={
            "attempt_id": submitted["attempt_id"],
            "type": "tab_switch",
            "description": "left for 8 seconds",
        },
    )
    assert violation.status_code in (200, 201), violation.text
    answers = {str(ids[0]): "Paris", str(ids[1]): "false", str(ids[2]): "Au"}
    done = await ada.post(
        f"/api/tests/{test['id']}/submit", json={"attempt_id": submitted["attempt_id"], "answers": answers}
    )
    assert done.status_code == 200, done.text
    in_progress = (await blaise.post(f"/api/tests/{test['id']}/start")).json()
    deadline = datetime.fromisoformat(in_progress["deadline"])
    for title in ("Organic chemistry", "Acids and bases"):
        draft = await teacher.post("/api/tests", json=new_test_payload(title=title, subject="Chemistry"))
        assert draft.status_code == 201, draft.text

    async with chromium() as browser, teacher_page(browser) as (page, errors):
        await sign_in(page, base_url, teacher)
        card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Chemistry quiz"))
        facts = card.locator("dd")
        await expect(facts.nth(2)).to_have_text("2")  # attempts
        await expect(facts.nth(3)).to_have_text("66.7%")  # the submitted attempt's percent
        await expect(page.get_by_role("list", name="Your tests").get_by_role("listitem")).to_have_count(3)
        await expect(page.get_by_role("list", name="Your tests").get_by_text("…")).to_have_count(0)
        await screenshots(page, "teacher-dashboard-full")
        organic = page.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name="Organic chemistry")
        )
        await organic.get_by_role("button", name="Publish Organic chemistry").click()
        await expect(organic.get_by_text("Published", exact=True)).to_be_visible()
        listed = (await teacher.get("/api/tests")).json()["items"]
        assert {t["title"]: t["is_published"] for t in listed}["Organic chemistry"] is True
        await card.get_by_role("link", name="Results of Chemistry quiz").click()
        await expect(page).to_have_url(f"{base_url}/teacher/tests/{test['id']}/results")

        rows = page.locator("table.teacher-results tbody tr")
        await expect(rows).to_have_count(2)
        names = rows.locator(".teacher-results__name")
        student_header = page.get_by_role("columnheader", name="Student")
        await expect(student_header).to_have_attribute("aria-sort", "ascending")
        await expect(names).to_have_text(["Ada Lovelace", "Blaise Pascal"])
        await student_header.get_by_role("button").click()
        await expect(student_header).to_have_attribute("aria-sort", "descending")
        await expect(names).to_have_text(["Blaise Pascal", "Ada Lovelace"])
        violations_header = page.get_by_role("columnheader", name="Violations")
        await violations_header.get_by_role("button").click()
        await expect(violations_header).to_have_attribute("aria-sort", "ascending")
        await expect(student_header).to_have_attribute("aria-sort", "none")
        await expect(names).to_have_text(["Blaise Pascal", "Ada Lovelace"])
        await violations_header.get_by_role("button").click()
        await expect(names).to_have_text(["Ada Lovelace", "Blaise Pascal"])

        chart = page.get_by_role("img", name="Number of attempts per score band (percent)")
        await expect(chart).to_be_visible()
        await expect(chart.locator("rect.bar")).to_have_count(10)
        band = page.locator("figure table tr").filter(has_text="60\N{EN DASH}69")
        await expect(band.locator("td").nth(1)).to_have_text("1")
        await expect(page.locator(".teacher-stat").filter(has_text="Pass rate")).to_contain_text("100%")
        await screenshots(page, "teacher-results")

        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download CSV").click()
        download = await download_info.value
        text = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert len(lines) == 3, lines  # a header and an attempt per line
        assert any("Ada Lovelace" in cell for cell in lines[1] + lines[2])
        assert not any(cell.replace(".", "").isdigit() for cell in lines[0])

        await page.get_by_role("button", name="Extra time for Blaise Pascal").click()
        dialog = page.get_by_role("dialog", name="Extra time for Blaise Pascal")
        await dialog.get_by_label("Extra minutes").fill("15")
        await dialog.get_by_label("Reason").fill("agreed accommodation")
        await screenshots(page, "teacher-extra-time-dialog")
        await dialog.get_by_role("button", name="Give extra time").click()
        await expect(toast(page, "Blaise Pascal has 15 more minutes")).to_be_visible()
        await expect(dialog).to_be_hidden()
        detail = (await teacher.get(f"/api/attempts/{in_progress['attempt_id']}")).json()
        assert datetime.fromisoformat(detail["deadline"]) == deadline + timedelta(minutes=15)
        blaise_row = rows.filter(has_text="Blaise Pascal")
        await expect(blaise_row).to_contain_text("ends")

        await page.get_by_role("link", name="Ada Lovelace", exact=True).click()
        await expect(page).to_have_url(f"{base_url}/teacher/attempts/{submitted['attempt_id']}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Ada Lovelace\N{RIGHT SINGLE QUOTATION MARK}s attempt"
        )
        answers_list = page.locator(".teacher-answer")
        await expect(answers_list).to_have_count(3)
        await expect(answers_list.nth(0)).to_contain_text("Capital of France?")
        await expect(answers_list.nth(0)).to_contain_text("Correct")
        await expect(answers_list.nth(1)).to_contain_text("Incorrect")
        await expect(answers_list.nth(1)).to_contain_text("False")
        await expect(answers_list.nth(2)).to_contain_text("Au")
        violation_rows = page.get_by_role("table").filter(has_text="What happened").locator("tbody tr")
        await expect(violation_rows).to_have_count(1)
        await expect(violation_rows).to_contain_text("Switched to another tab")
        await expect(violation_rows).to_contain_text("Student's browser")
        await expect(violation_rows).to_contain_text("left for 8 seconds")
        await screenshots(page, "teacher-attempt-detail")
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
