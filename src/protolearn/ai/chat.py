"""Language-model providers over the chat-completions wire protocol: Groq and OpenAI-compatible.

``GroqTransport`` uses the official ``groq`` client; ``OpenAICompatibleTransport`` speaks the same
protocol with httpx to any ``base_url`` (vLLM, Ollama, llama.cpp). Both turn their failures into
``TransientFailure`` (timeouts, 429, 5xx, refused connections: retried with backoff, honouring
``retry-after``) or ``ProviderUnavailable`` (4xx: retrying cannot help), the rules of ``retries``.
``ChatProvider`` holds the retry loop, asks for JSON, decodes it with msgspec and asks again when it
is malformed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

import groq
import httpx
import msgspec

from protolearn.ai import prompts
from protolearn.ai.completions import first_choice, transport_failures
from protolearn.ai.errors import ProviderBadOutput
from protolearn.ai.provider import DraftQuestion, Generated, GenerationSpec, Refined, TutorReply
from protolearn.ai.retries import TransientFailure, backoff_s, failure_of_status
from protolearn.ai.retrieval import Passage

__all__ = (
    "GROQ_DEFAULT_MODEL",
    "ChatProvider",
    "GroqTransport",
    "OpenAICompatibleTransport",
    "chunk_material",
)

log = logging.getLogger(__name__)

GROQ_DEFAULT_MODEL = "openai/gpt-oss-120b"
_CHUNK_CHARS = 6_000
_MAX_CHUNKS = 8
_PARALLEL_CHUNKS = 3
_JSON_REPAIRS = 2
_FENCE = re.compile(r"^\s*```(?:json)?\s*(?P<body>.*?)\s*```\s*$", re.S)

T = TypeVar("T")
Message = dict[str, str]


class ChatTransport(Protocol):
    async def complete(self, messages: Sequence[Message]) -> str: ...

    async def probe(self) -> bool: ...

    async def close(self) -> None: ...


class GroqTransport:
    """The official Groq client; its own retries are off so that ours are the only ones."""

    def __init__(self, *, api_key: str, model: str, base_url: str | None, timeout_s: float) -> None:
        self.model = model
        self._client = groq.AsyncGroq(
            api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0
        )

    async def complete(self, messages: Sequence[Message]) -> str:
        try:
            completion = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=list(messages),
                response_format={"type": "json_object"},
                temperature=0.3,
            )
        except groq.APITimeoutError as exc:
            raise TransientFailure("timed out") from exc
        except groq.APIConnectionError as exc:
            raise TransientFailure(f"cannot connect ({exc})") from exc
        except groq.APIStatusError as exc:
            raise failure_of_status("groq", exc.response) from exc
        return completion.choices[0].message.content or ""

    async def probe(self) -> bool:
        try:
            await self._client.models.list(timeout=5.0)
        except groq.APIError:
            return False
        return True

    async def close(self) -> None:
        await self._client.close()


class OpenAICompatibleTransport:
    """``POST {base_url}/chat/completions`` with httpx, for self-hosted model servers."""

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout_s: float) -> None:
        self.model = model
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s
        )
        self._json_mode = True

    async def complete(self, messages: Sequence[Message]) -> str:
        body: dict[str, object] = {"model": self.model, "messages": list(messages), "temperature": 0.3}
        if self._json_mode:
            body["response_format"] = {"type": "json_object"}
        with transport_failures():
            response = await self._client.post("chat/completions", json=body)
        if response.status_code == 400 and self._json_mode and "response_format" in response.text:
            self._json_mode = False  # an older server: ask for JSON in words only
            return await self.complete(messages)
        if response.status_code != 200:
            raise failure_of_status("openai_compatible", response)
        choice = first_choice(response)
        return (choice.message.content or "") if choice is not None else ""

    async def probe(self) -> bool:
        try:
            response = await self._client.get("models", timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        await self._client.aclose()


class _Batch(msgspec.Struct):
    questions: list[msgspec.Raw]


class _RefinedReply(msgspec.Struct):
    question: DraftQuestion
    changes: list[str] = []


class _ExplainReply(msgspec.Struct):
    explanation: str


def chunk_material(text: str, max_chars: int = _CHUNK_CHARS) -> list[str]:
    """The material cut at paragraph ends into pieces of at most ``max_chars`` (long paragraphs cut)."""
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n|\f", text):
        paragraph = paragraph.strip()
        while len(paragraph) > max_chars:
            cut = paragraph.rfind(". ", 0, max_chars) + 1 or max_chars
            chunks.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if current and len(current) + len(paragraph) + 2 > max_chars:
            chunks.append(current)
            current = ""
        if paragraph:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        chunks.append(current)
    return chunks


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class ChatProvider:
    """A provider backed by a chat-completions model."""

    def __init__(self, name: str, transport: ChatTransport, *, model: str, max_retries: int) -> None:
        self._name = name
        self._model = model
        self._transport = transport
        self._max_retries = max_retries

    @property
    def name(self) -> str:
        return self._name

    @property
    def model(self) -> str:
        return self._model

    async def generate(self, spec: GenerationSpec) -> Generated:
        chunks = chunk_material(spec.material_markdown or spec.material_text)
        wanted = spec.count  # the service has added its margin for what validation drops
        chosen = max(1, min(len(chunks), _MAX_CHUNKS, wanted))
        step = len(chunks) / chosen
        picked = [chunks[int(i * step)] for i in range(chosen)]
        gate = asyncio.Semaphore(_PARALLEL_CHUNKS)

        async def ask(part: int, chunk: str, count: int) -> tuple[list[DraftQuestion], int, str]:
            user, on_record = prompts.generate_request(
                chunk,
                title=spec.title,
                subject=spec.subject,
                part=part + 1,
                parts=chosen,
                count=count,
                types=spec.question_types,
                difficulty=spec.difficulty,
            )
            async with gate:
                batch = await self._ask_json(prompts.GENERATE_SYSTEM, user, _Batch)
            drafts, unreadable = [], 0
            for raw in batch.questions:
                try:
                    drafts.append(msgspec.json.decode(raw, type=DraftQuestion))
                except msgspec.DecodeError:
                    unreadable += 1
            return drafts, unreadable, on_record

        answers = await asyncio.gather(
            *(
                ask(i, chunk, n)
                for i, (chunk, n) in enumerate(zip(picked, _spread(wanted, chosen), strict=True))
                if n
            )
        )
        return Generated(
            drafts=[d for drafts, _, _ in answers for d in drafts],
            unreadable=sum(u for _, u, _ in answers),
            prompt=f"{prompts.GENERATE_SYSTEM}\n\n" + "\n".join(r for _, _, r in answers),
        )

    async def refine(self, question: DraftQuestion, feedback: str, passages: Sequence[Passage]) -> Refined:
        user = prompts.refine_request(question, feedback, passages)
        reply = await self._ask_json(prompts.REFINE_SYSTEM, user, _RefinedReply)
        return Refined(
            question=reply.question, changes=reply.changes, prompt=f"{prompts.REFINE_SYSTEM}\n\n{user}"
        )

    async def tutor(
        self, question: str, passages: Sequence[Passage], weak_topics: Sequence[str]
    ) -> TutorReply:
        user = prompts.tutor_request(question, passages, weak_topics)
        return await self._ask_json(prompts.TUTOR_SYSTEM, user, TutorReply)

    async def explain(
        self, question: DraftQuestion, student_answer: str, is_correct: bool, passages: Sequence[Passage]
    ) -> str:
        user = prompts.explain_request(question, student_answer, is_correct, passages)
        return (await self._ask_json(prompts.EXPLAIN_SYSTEM, user, _ExplainReply)).explanation

    async def probe(self) -> bool:
        return await self._transport.probe()

    async def close(self) -> None:
        await self._transport.close()

    async def _ask_json(self, system: str, user: str, kind: type[T]) -> T:
        messages: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        for repair in range(_JSON_REPAIRS + 1):
            content = await self._complete(messages)
            fenced = _FENCE.match(content)
            try:
                return msgspec.json.decode((fenced.group("body") if fenced else content).encode(), type=kind)
            except msgspec.DecodeError as exc:
                log.info("%s: malformed JSON (%s), asking again (%d)", self._name, exc, repair + 1)
                error = str(exc)
            messages = [
                *messages[:2],
                {"role": "assistant", "content": content[:4_000]},
                {"role": "user", "content": prompts.JSON_REPAIR.format(error=error)},
            ]
        raise ProviderBadOutput(
            f"the {self._name} provider did not answer with the JSON asked for ({error})", provider=self._name
        )

    async def _complete(self, messages: Sequence[Message]) -> str:
        attempt = 0
        while True:
            try:
                return await self._transport.complete(messages)
            except TransientFailure as failure:
                delay = backoff_s(self._name, attempt, failure, self._max_retries)
                log.info("%s: %s; retrying in %.2f s", self._name, failure.reason, delay)
                await asyncio.sleep(delay)
            attempt += 1
