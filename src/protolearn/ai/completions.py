"""The chat-completions exchange as both httpx clients have it (the OpenAI-compatible chat
transport, the vision OCR provider): a request's transport errors as ``TransientFailure``, and the
answer's first choice read with msgspec."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import msgspec

from protolearn.ai.retries import TransientFailure

__all__ = ("Choice", "Logprobs", "first_choice", "transport_failures")


class TokenLogprob(msgspec.Struct):
    logprob: float


class Logprobs(msgspec.Struct):
    content: list[TokenLogprob] | None = None


class Message(msgspec.Struct):
    content: str | None = None


class Choice(msgspec.Struct):
    message: Message
    logprobs: Logprobs | None = None  # when asked for and the server gives them
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    choices: list[Choice]


@contextlib.contextmanager
def transport_failures() -> Iterator[None]:
    """Around a request: time-outs, refused connections and broken answers are worth retrying."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientFailure("timed out") from exc
    except httpx.TransportError as exc:
        raise TransientFailure(f"cannot connect ({exc})") from exc
    except httpx.HTTPError as exc:  # an answer that cannot be decoded, a redirect loop
        raise TransientFailure(f"a broken answer ({exc})") from exc


def first_choice(response: httpx.Response) -> Choice | None:
    """The first choice of a 200 answer (None: it has none); ``TransientFailure`` when the body
    is not a chat completion."""
    try:
        completion = msgspec.json.decode(response.content, type=_Completion)
    except msgspec.DecodeError as exc:
        raise TransientFailure(f"not a chat completion ({exc})") from exc
    return completion.choices[0] if completion.choices else None
