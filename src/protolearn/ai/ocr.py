"""Reading a page image: the OCR providers.

``RapidOcr`` (PP-OCR ONNX models from its wheel, offline) is the default. ``VisionModelOcr`` asks a
vision model behind an OpenAI-compatible chat API for the page as Markdown, keeping tables and
formulas; DeepSeek-OCR served by vLLM or SGLang is the case it is made for (``DEEPSEEK_OCR_*``),
any other vision model by setting. Both run in the extraction process, synchronously, one page at
a time. A vision model that cannot be reached (after the retry rules of ``retries``) does not fail
the material: that page and the rest of the material are read by its ``fallback`` (RapidOCR),
each such page saying why.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

import cv2
import httpx
import numpy as np

from protolearn.ai.completions import Choice, Logprobs, first_choice, transport_failures
from protolearn.ai.errors import ProviderUnavailable
from protolearn.ai.markdown import from_model_output, plain_text
from protolearn.ai.retries import TransientFailure, backoff_s, failure_of_status

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from protolearn.config import Settings

__all__ = (
    "DEEPSEEK_OCR_MODEL",
    "DEEPSEEK_OCR_PROMPT",
    "OcrProvider",
    "OcrReading",
    "OcrSettings",
    "PageProvider",
    "RapidOcr",
    "VisionModelOcr",
    "create_ocr",
)

log = logging.getLogger(__name__)

DEEPSEEK_OCR_MODEL = "deepseek-ai/DeepSeek-OCR"
# The model card's prompt for a document page; "<image>\nFree OCR." gives plain text only.
DEEPSEEK_OCR_PROMPT = "<image>\n<|grounding|>Convert the document to markdown."
_MAX_TOKENS = 8192
# An answer is read up to this many characters (8,192 tokens are ~40,000): a server that sends
# more is not parsed further.
_MAX_ANSWER_CHARS = 200_000
_OPTIONAL_PARAMETERS: dict[str, object] = {
    "logprobs": True,  # for the confidence
    # vLLM and SGLang: DeepSeek-OCR's grounding labels are special tokens; kept, they are
    # recognised and dropped (markdown.from_model_output) rather than left as stray words.
    "skip_special_tokens": False,
}
# vLLM's recipe for DeepSeek-OCR: its n-gram logits processor (started with the server) stops
# repetition loops, per request; <td> and </td> (these token ids) may repeat.
_DEEPSEEK_OCR_VLLM: dict[str, object] = {
    "vllm_xargs": {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]}
}


class PageProvider(StrEnum):
    """Where a page's text came from."""

    TEXT_LAYER = "text_layer"  # the PDF's own text
    DOCX = "docx"
    RAPIDOCR = "rapidocr"
    VISION = "vision"  # a vision model (OcrReading.model says which)


@dataclass(frozen=True, slots=True)
class OcrReading:
    text: str  # plain, paragraphs apart by blank lines
    markdown: str  # headings, tables, formulas where the provider sees them; else the text
    confidence: float | None  # 0..1, None when the provider gives none
    provider: PageProvider
    model: str = ""  # the vision model's name
    note: str = ""  # why the page was not read as configured, for the teacher


class OcrProvider(Protocol):
    @property
    def fallback(self) -> OcrProvider | None:
        """What reads the page when this provider cannot be reached."""
        ...

    def read(self, image: NDArray[np.uint8]) -> OcrReading:
        """The text of a BGR image; ``ProviderUnavailable`` when the provider cannot answer."""
        ...

    def close(self) -> None: ...


class RapidOcr:
    """RapidOCR, loaded on first use, one caller at a time."""

    fallback: OcrProvider | None = None

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    def read(self, image: NDArray[np.uint8]) -> OcrReading:
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR  # 0.5 s and 60 MB: only when a scan arrives

                self._engine = RapidOCR(params={"Global.log_level": "error"})
            result = self._engine(image)
        texts = list(result.txts or ())
        if not texts:
            return OcrReading("", "", None, PageProvider.RAPIDOCR)
        scores = [float(s) for s in result.scores]
        text = _lines_to_text(texts, np.asarray(result.boxes, dtype=np.float32))
        return OcrReading(text, text, round(sum(scores) / len(scores), 4), PageProvider.RAPIDOCR)

    def close(self) -> None:
        self._engine = None


def _lines_to_text(texts: list[str], boxes: NDArray[np.float32]) -> str:
    """OCR lines joined into paragraphs: a vertical gap of more than a line height breaks one."""
    lines: list[str] = []
    previous_bottom: float | None = None
    for text, box in zip(texts, boxes, strict=True):
        top, bottom = float(box[:, 1].min()), float(box[:, 1].max())
        height = max(bottom - top, 1.0)
        if previous_bottom is not None and top - previous_bottom > height:
            lines.append("")
        lines.append(text)
        previous_bottom = bottom
    return "\n".join(lines)


class VisionModelOcr:
    """``POST {base_url}/chat/completions`` with the page as a PNG data URL and the prompt.

    The page is scaled so that its longer side is at most ``max_side`` pixels (DeepSeek-OCR reads
    1024 or 1280 a side; more only costs upload and tokens). The confidence is the mean token
    probability of the answer when the server returns log-probabilities (vLLM and SGLang do when
    asked), else None.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        prompt: str = DEEPSEEK_OCR_PROMPT,
        max_side: int = 1280,
        timeout_s: float = 120.0,
        max_retries: int = 3,
        fallback: OcrProvider | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.fallback = fallback
        self._prompt = prompt
        self._max_side = max_side
        self._max_retries = max_retries
        self._sleep = sleep
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s)
        # Asked for where the server knows them; one that refuses a name is not asked again.
        self._optional: dict[str, object] = dict(_OPTIONAL_PARAMETERS)
        if "deepseek-ocr" in model.lower():
            self._optional |= _DEEPSEEK_OCR_VLLM

    def read(self, image: NDArray[np.uint8]) -> OcrReading:
        body = {
            "model": self.model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": self._data_url(image)}},
                        {"type": "text", "text": self._prompt},
                    ],
                }
            ],
            "temperature": 0.0,
            "max_tokens": _MAX_TOKENS,
        }
        attempt = 0
        while True:
            try:
                choice = self._complete(body)
                break
            except TransientFailure as failure:
                delay = backoff_s("vision OCR", attempt, failure, self._max_retries)
                log.info("vision OCR: %s; retrying in %.2f s", failure.reason, delay)
                self._sleep(delay)
            attempt += 1
        markdown = from_model_output((choice.message.content or "")[:_MAX_ANSWER_CHARS])
        note = ""
        if choice.finish_reason == "length":  # most often a model repeating itself
            note = f"The vision model's answer was cut off at {_MAX_TOKENS:,} tokens: the page may end early."
        confidence = _confidence(choice.logprobs)
        return OcrReading(plain_text(markdown), markdown, confidence, PageProvider.VISION, self.model, note)

    def close(self) -> None:
        self._client.close()
        if self.fallback is not None:
            self.fallback.close()

    def _complete(self, body: dict[str, object]) -> Choice:
        with transport_failures():
            response = self._client.post("chat/completions", json={**body, **self._optional})
        refused = [name for name in self._optional if response.status_code == 400 and name in response.text]
        if refused:
            log.info("vision OCR: the server refuses %s; asking without", ", ".join(refused))
            for name in refused:
                del self._optional[name]
            return self._complete(body)
        if response.status_code != 200:
            raise failure_of_status("vision OCR", response)
        choice = first_choice(response)
        if choice is None:
            raise TransientFailure("a chat completion without a choice")
        return choice

    def _data_url(self, image: NDArray[np.uint8]) -> str:
        height, width = image.shape[:2]
        scale = self._max_side / max(height, width)
        if scale < 1:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise ProviderUnavailable("the page could not be encoded for the vision model", provider="vision")
        return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")


def _confidence(logprobs: Logprobs | None) -> float | None:
    tokens = logprobs.content if logprobs is not None else None
    if not tokens:
        return None
    mean = sum(t.logprob for t in tokens) / len(tokens)
    return round(math.exp(mean), 4) if math.isfinite(mean) else None


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """What builds the OCR provider in the extraction process (sent to it: plain values)."""

    provider: Literal["rapidocr", "vision"] = "rapidocr"
    base_url: str = ""
    model: str = DEEPSEEK_OCR_MODEL
    api_key: str = ""
    prompt: str = DEEPSEEK_OCR_PROMPT
    max_side: int = 1280
    timeout_s: float = 120.0
    max_retries: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrSettings:
        return cls(
            provider=settings.ocr_provider,
            base_url=settings.ocr_base_url,
            model=settings.ocr_model or DEEPSEEK_OCR_MODEL,
            api_key=settings.ocr_api_key,
            prompt=settings.ocr_prompt or DEEPSEEK_OCR_PROMPT,
            max_side=settings.ocr_max_side,
            timeout_s=settings.ocr_timeout_seconds,
            max_retries=settings.ai_max_retries,
        )


def create_ocr(settings: OcrSettings) -> OcrProvider:
    if settings.provider == "vision":
        return VisionModelOcr(
            base_url=settings.base_url,
            model=settings.model,
            api_key=settings.api_key,
            prompt=settings.prompt,
            max_side=settings.max_side,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
            fallback=RapidOcr(),
        )
    return RapidOcr()
