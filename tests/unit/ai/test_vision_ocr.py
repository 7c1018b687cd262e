"""The vision-model OCR provider against a real HTTP server on loopback speaking the OpenAI chat
API with image input, answering as DeepSeek-OCR does; and a material read through it."""

from __future__ import annotations

import asyncio
import base64
import math
import pickle
from collections.abc import AsyncIterator

import cv2
import msgspec
import numpy as np
import pytest

from protolearn.ai.errors import ProviderUnavailable
from protolearn.ai.extraction import Extraction, MaterialKind, PageSource, extract
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.ocr import (
    DEEPSEEK_OCR_MODEL,
    DEEPSEEK_OCR_PROMPT,
    OcrReading,
    OcrSettings,
    RapidOcr,
    VisionModelOcr,
)
from protolearn.config import Settings, SettingsError
from tests.support.ai_material import png_of_text, scanned_pdf
from tests.support.llm_server import FakeLlm, Reply, fake_llm
from tests.unit.ai.test_markdown import DEEPSEEK_OCR_PAGE

LIMITS = ExtractionLimits.from_settings(Settings.from_env({}))
PRINTED = "Photosynthesis takes place in the chloroplast. The chloroplast contains chlorophyll."


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as server:
        yield server


def vision(llm: FakeLlm, **options: object) -> tuple[VisionModelOcr, list[float]]:
    waits: list[float] = []
    settings: dict[str, object] = {"max_retries": 2, "timeout_s": 5.0, "sleep": waits.append} | options
    provider = VisionModelOcr(base_url=f"{llm.url}/v1", model=DEEPSEEK_OCR_MODEL, **settings)  # type: ignore[arg-type]
    return provider, waits


def page_image(width: int = 2480, height: int = 3508) -> np.ndarray:  # type: ignore[type-arg]
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    cv2.putText(image, "v^2 = u^2 + 2as", (200, 600), cv2.FONT_HERSHEY_SIMPLEX, 6, (0, 0, 0), 12)
    return image


async def test_a_page_goes_as_an_image_and_comes_back_as_markdown(llm: FakeLlm) -> None:
    llm.script(Reply(DEEPSEEK_OCR_PAGE, logprobs=[-0.01, -0.05, -0.2, 0.0]))
    provider, _ = vision(llm)
    reading = await asyncio.to_thread(provider.read, page_image())
    [sent] = llm.requests
    assert sent["model"] == "deepseek-ai/DeepSeek-OCR"
    [image_part, text_part] = sent["messages"][0]["content"]
    assert text_part == {"type": "text", "text": "<image>\n<|grounding|>Convert the document to markdown."}
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    sent_image = cv2.imdecode(
        np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR
    )
    assert sent_image.shape[:2] == (1280, 905)  # an A4 page at 300 dpi, bounded to 1280 a side
    assert (sent["logprobs"], sent["skip_special_tokens"], sent["temperature"]) == (True, False, 0.0)
    assert sent["vllm_xargs"] == {
        "ngram_size": 30,
        "window_size": 90,
        "whitelist_token_ids": [128821, 128822],
    }
    assert reading.provider == "vision" and reading.model == DEEPSEEK_OCR_MODEL
    assert "| Velocity | v | m/s |" in reading.markdown
    assert "$$v^2 = u^2 + 2as$$" in reading.markdown and "$s = ut + \\frac{1}{2}at^2$" in reading.markdown
    assert "<|ref|>" not in reading.text and "Velocity | v | m/s" in reading.text
    assert reading.confidence == round(math.exp(-0.26 / 4), 4)
    provider.close()


async def test_a_server_without_logprobs_is_asked_again_without_them(llm: FakeLlm) -> None:
    llm.script(
        Reply(status=400, error="logprobs is not supported by this model"),
        Reply("# Page\n\nText", logprobs=[-0.1]),
        Reply("# Next\n\nMore"),
    )
    provider, waits = vision(llm)
    first = await asyncio.to_thread(provider.read, page_image(400, 300))
    second = await asyncio.to_thread(provider.read, page_image(400, 300))
    assert (first.markdown, first.confidence, second.markdown) == ("# Page\n\nText", None, "# Next\n\nMore")
    assert ["logprobs" in r for r in llm.requests] == [True, False, False]
    assert "skip_special_tokens" in llm.requests[2]
    assert waits == []
    provider.close()


async def test_server_errors_are_retried_with_backoff_and_retry_after(llm: FakeLlm) -> None:
    llm.script(Reply(status=503), Reply(status=429, headers={"retry-after": "3"}), Reply("Text"))
    provider, waits = vision(llm)
    reading = await asyncio.to_thread(provider.read, page_image(400, 300))
    assert reading.text == "Text" and len(llm.requests) == 3
    assert waits == [0.5, 3.0]
    provider.close()


async def test_errors_and_time_outs_past_the_retries_make_the_provider_unavailable(llm: FakeLlm) -> None:
    llm.script(*(Reply(status=500) for _ in range(3)))
    provider, waits = vision(llm)
    with pytest.raises(ProviderUnavailable, match=r"failed 3 time\(s\): HTTP 500"):
        await asyncio.to_thread(provider.read, page_image(400, 300))
    assert waits == [0.5, 1.0]
    llm.script(*(Reply("late", delay_s=2.0) for _ in range(2)))
    slow, _ = vision(llm, timeout_s=0.3, max_retries=1)
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await asyncio.to_thread(slow.read, page_image(400, 300))
    llm.script(Reply(status=401))
    with pytest.raises(ProviderUnavailable, match=r"refused the request \(HTTP 401\)"):
        await asyncio.to_thread(provider.read, page_image(400, 300))
    assert len(llm.requests) == 3 + 2 + 1  # a 4xx is not retried
    provider.close()
    slow.close()


async def test_a_scanned_page_of_formulas_keeps_them(llm: FakeLlm) -> None:
    llm.script(Reply(DEEPSEEK_OCR_PAGE, logprobs=[-0.02, -0.02]))
    provider, _ = vision(llm, fallback=RapidOcr())
    result = await asyncio.to_thread(
        extract, MaterialKind.PDF, scanned_pdf(["v^2 = u^2 + 2as"]), provider, LIMITS
    )
    assert (result.page_count, result.ocr_pages, result.ocr_confidence) == (1, 1, 0.9802)
    assert "$$v^2 = u^2 + 2as$$" in result.markdown and "| Acceleration | a | m/s\u00b2 |" in result.markdown
    assert "Motion with constant acceleration" in result.text
    [page] = result.pages
    assert (page.provider, page.model, page.ocr_confidence, page.note) == (
        "vision",
        DEEPSEEK_OCR_MODEL,
        0.9802,
        "",
    )
    assert msgspec.json.decode(msgspec.json.encode(result.pages))  # what the row stores
    provider.close()


async def test_pages_the_model_cannot_read_are_read_offline_saying_why(llm: FakeLlm) -> None:
    llm.script(Reply(status=503), Reply(status=503))
    provider, _ = vision(llm, max_retries=1, fallback=RapidOcr())
    photo = await asyncio.to_thread(extract, MaterialKind.PNG, png_of_text(PRINTED), provider, LIMITS)
    assert "Photosynthesis takes place in the chloroplast." in photo.text
    [page] = photo.pages
    assert page.provider == "rapidocr" and page.ocr_confidence is not None and page.ocr_confidence > 0.8
    assert page.note == (
        "The vision model could not read this page (the vision OCR provider failed 2 time(s): HTTP 503): "
        "offline OCR read it instead, without its tables and formulas."
    )
    # Within one material, a provider that is down is not asked again page after page.
    llm.requests.clear()
    llm.script(Reply(status=503), Reply(status=503))
    scan = await asyncio.to_thread(
        extract, MaterialKind.PDF, scanned_pdf([PRINTED, PRINTED]), provider, LIMITS
    )
    assert [p.provider for p in scan.pages] == ["rapidocr", "rapidocr"]
    assert all("HTTP 503" in p.note for p in scan.pages)
    assert len(llm.requests) == 2
    provider.close()


def test_rapidocr_reads_text_as_its_own_markdown() -> None:
    image = cv2.imdecode(np.frombuffer(png_of_text(PRINTED), np.uint8), cv2.IMREAD_COLOR)
    reading = RapidOcr().read(image)
    assert isinstance(reading, OcrReading) and reading.markdown == reading.text
    assert "chlorophyll" in reading.text and reading.provider == "rapidocr"


async def test_an_answer_cut_off_at_the_token_limit_says_so(llm: FakeLlm) -> None:
    llm.script(Reply("# Page\n\nThe same line. The same line. The same", finish_reason="length"))
    provider, _ = vision(llm)
    reading = await asyncio.to_thread(provider.read, page_image(400, 300))
    assert reading.markdown.startswith("# Page") and "cut off at 8,192 tokens" in reading.note
    assert llm.requests[0]["max_tokens"] == 8192
    provider.close()


def test_what_crosses_to_the_extraction_process_pickles() -> None:
    settings = OcrSettings.from_settings(
        Settings.from_env({}, ocr_provider="vision", ocr_base_url="http://gpu-host:8000/v1")
    )
    assert pickle.loads(pickle.dumps(settings)) == settings  # noqa: S301 - our own object
    assert (settings.model, settings.prompt, settings.max_side) == (
        DEEPSEEK_OCR_MODEL,
        DEEPSEEK_OCR_PROMPT,
        1280,
    )
    extraction = Extraction(
        "text", 1, 1, 0.9, "# text", (PageSource(1, "vision", DEEPSEEK_OCR_MODEL, 0.9, ""),)
    )
    assert pickle.loads(pickle.dumps(extraction)) == extraction  # noqa: S301 - our own object
    with pytest.raises(SettingsError, match="OCR_BASE_URL"):
        Settings.from_env({}, ocr_provider="vision", ocr_base_url="gpu-host:8000")
