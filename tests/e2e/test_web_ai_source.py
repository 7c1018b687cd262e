"""The authoring page's source view in real Chromium: a handout's headings, table and list kept
as read, the passages questions came from marked on the rows and paragraphs; and, with a vision
model configured (a loopback server answering as DeepSeek-OCR), a scanned page of formulas shown
typeset, a page the model could not read shown read offline, saying why. Every state passes
axe-core."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import msgspec
import pytest
from playwright.async_api import Page, expect

from protolearn.config import Settings
from tests.e2e.test_web_ai import EXPECTED_CONSOLE, sign_in
from tests.support.ai_material import ACID_TABLE, scanned_pdf, table_pdf
from tests.support.api import Api
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium
from tests.support.llm_server import FakeLlm, Reply, fake_llm
from tests.support.web_flows import SLOW
from tests.unit.ai.test_markdown import DEEPSEEK_OCR_PAGE

skip_without_chromium()

expect.set_options(timeout=20_000)
AS_READ = "The material as read: headings, lists, tables and formulas"


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as server:
        yield server


@pytest.fixture
def settings(settings: Settings, llm: FakeLlm) -> Settings:
    vision = {"ocr_provider": "vision", "ocr_base_url": f"{llm.url}/v1", "ai_max_retries": 0}
    return msgspec.structs.replace(settings, ai_upload_wait_seconds=0.0, **vision)


async def authoring_page(page: Page, base_url: str, api: Api, title: str) -> None:
    teacher = await api.user("teacher")
    created = await teacher.post(
        "/api/tests", json={"title": title, "subject": "Chemistry", "time_limit": 20}
    )
    assert created.status_code == 201, created.text
    await sign_in(page, base_url, teacher, f"/teacher/tests/{created.json()['id']}/ai")


async def upload(page: Page, name: str, data: bytes) -> None:
    await page.get_by_label("File (PDF, PNG, JPEG or Word)").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": data}
    )
    await page.get_by_role("button", name="Upload", exact=True).click()


async def test_a_handouts_table_and_headings_are_kept_and_questions_point_into_them(
    base_url: str, api: Api, llm: FakeLlm
) -> None:
    async with chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()
        errors = PageErrors(page)
        await authoring_page(page, base_url, api, "Acids")
        await upload(page, "acids.pdf", table_pdf())
        await expect(page.get_by_text("Text extracted from “acids”: 1 page")).to_be_visible(timeout=4 * SLOW)
        source = page.get_by_label(AS_READ)
        await expect(source.get_by_role("heading", name="Acids and Bases")).to_be_visible()
        await expect(source.get_by_role("heading", name="Strong and weak acids")).to_be_visible()
        table = source.get_by_role("table")
        await expect(table.get_by_role("columnheader")).to_have_text(ACID_TABLE[0])
        rows = table.locator("tbody tr")
        await expect(rows).to_have_count(len(ACID_TABLE) - 1)
        await expect(rows.nth(1).locator("td")).to_have_text(ACID_TABLE[2])
        await expect(source.get_by_role("listitem")).to_have_count(2)
        await expect(source.get_by_text("Text layer of the PDF")).to_be_visible()
        await screenshots(page, "ai-source-table")

        await page.get_by_label("Number of questions").fill("2")
        await page.get_by_role("button", name="Generate questions").click()
        await expect(page.locator("article.ai-card")).to_have_count(2)
        await expect(source.locator(".ai-mark")).not_to_have_count(0)
        await page.get_by_role("button", name="Show source of question 1").click()
        active = source.locator(".ai-mark--active")
        await expect(active).to_have_count(1)
        passage = " ".join((await page.locator(".ai-card__passage").first.inner_text()).split())
        marked = " ".join((await active.inner_text()).split())
        assert passage and marked
        assert passage.casefold().rstrip(".") in marked.casefold() or marked.casefold() in passage.casefold()
        await screenshots(page, "ai-source-marked")
        assert llm.requests == []  # a text layer: nothing for the vision model
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
        await context.close()


async def test_a_scan_of_formulas_read_by_a_vision_model_is_shown_typeset(
    base_url: str, api: Api, llm: FakeLlm
) -> None:
    # What a page says is text, whatever it looks like: markup is not made elements, and a
    # formula that would link is typeset without the link (KaTeX's trust is off).
    hostile = "\n\n<img src=x onerror=\"document.title='owned'\"> and $\\href{javascript:alert(1)}{click}$"
    llm.script(Reply(DEEPSEEK_OCR_PAGE + hostile, logprobs=[-0.02, -0.02]), Reply(status=503))
    scan = scanned_pdf(["Motion with constant acceleration", "The chloroplast contains chlorophyll."])
    async with chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()
        errors = PageErrors(page)
        await authoring_page(page, base_url, api, "Kinematics")
        await upload(page, "kinematics.pdf", scan)
        done = page.get_by_text("Text extracted from “kinematics”: 2 pages")
        await expect(done).to_be_visible(timeout=4 * SLOW)
        source = page.get_by_label(AS_READ)
        first, second = (
            source.get_by_role("article", name="Page 1"),
            source.get_by_role("article", name="Page 2"),
        )
        await expect(first.get_by_text("Read by deepseek-ai/DeepSeek-OCR · 98% confidence")).to_be_visible()
        # Typeset by KaTeX as MathML: four inline formulas and one displayed.
        await expect(first.locator(".math math")).to_have_count(5)
        await expect(first.locator(".math--display math[display=block]")).to_have_count(1)
        await expect(first.locator(".math-source")).to_have_count(0)
        await expect(first).to_contain_text("<img src=x onerror=")
        assert await first.locator("img, a, script, [href], [onerror]").count() == 0
        assert await page.title() != "owned"
        await expect(first.get_by_role("table").locator("tbody tr")).to_have_count(3)
        await expect(second.get_by_text(re.compile(r"Read by OCR · \d+% confidence"))).to_be_visible()
        note = second.locator(".ai-source__note")
        await expect(note).to_have_text(
            "The vision model could not read this page (the vision OCR provider failed 1 time(s): HTTP 503): "
            "offline OCR read it instead, without its tables and formulas."
        )
        await expect(second).to_contain_text("chlorophyll")
        await screenshots(page, "ai-source-formulas")
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
        await context.close()


PARSE = """async (pages) => {
  const { parseBlocks } = await import("/web/teacher/materialMarkdown.js");
  return pages.map((page) => parseBlocks(page));
}"""


async def test_the_markdown_reader_keeps_prices_as_text_and_reads_hostile_lines(base_url: str) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(base_url + "/login")
        prices, lists, hostile = await page.evaluate(
            PARSE,
            [
                "It costs $5 and $10, or $x^2$ with $$E = mc^2$$ inline.",
                "- a **bold** start\n  and its *second* line\n- $v = at$",
                " *a" * 20_000 + "\n\n" + "$x " * 20_000 + "\n\n" + "**a " * 20_000,
            ],
        )
    [paragraph] = prices
    assert [(run["kind"], run["text"]) for run in paragraph["runs"]] == [
        ("text", "It costs $5 and $10, or "),
        ("math", "x^2"),
        ("text", " with "),
        ("math", "E = mc^2"),
        ("text", " inline."),
    ]
    [items] = lists
    first, second = items["items"]
    assert [run["kind"] for run in first["runs"]] == ["text", "strong", "text", "em", "text"]
    assert first["match"] == "a bold start and its second line"
    assert second["runs"] == [{"kind": "math", "text": "v = at"}]
    assert [block["kind"] for block in hostile] == ["paragraph", "paragraph", "paragraph"]
