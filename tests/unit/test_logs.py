"""Log lines: JSON fields, context, and no secret in any form."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from protolearn.logs import REQUEST_ID, USER_ID, JsonFormatter, TextFormatter, redact

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiI3Iiwicm9sZSI6InN0dWRlbnQifQ.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /ws/proctor?token={JWT} 101", "GET /ws/proctor?token=[redacted] 101"),
        (f"Authorization: Bearer {JWT}", "Authorization: Bearer [redacted]"),
        (f"decoded {JWT} badly", "decoded [redacted] badly"),
        (
            "/api/evidence/3/video?viewer=2&expires=9&signature=abc123",
            "/api/evidence/3/video?viewer=2&expires=9&signature=[redacted]",
        ),
        ("refresh_token=r-4f9a; password=hunter2", "refresh_token=[redacted]; password=[redacted]"),
        ("student 7 signed in from 10.0.0.1", "student 7 signed in from 10.0.0.1"),
    ],
)
def test_secrets_are_masked_and_the_rest_kept(text: str, expected: str) -> None:
    assert redact(text) == expected


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    return logging.getLogger("protolearn.test").makeRecord(
        "protolearn.test", logging.WARNING, __file__, 1, message, args, None, extra=extra
    )


def test_a_json_line_has_its_context_and_extras() -> None:
    request, user = REQUEST_ID.set("req-1"), USER_ID.set(7)
    try:
        line = json.loads(
            JsonFormatter().format(record("offer from %s", JWT, attempt_id=12, event="negotiation"))
        )
    finally:
        REQUEST_ID.reset(request)
        USER_ID.reset(user)
    assert line["level"] == "warning" and line["logger"] == "protolearn.test"
    assert line["message"] == "offer from [redacted]"
    assert (line["request_id"], line["user_id"], line["attempt_id"], line["event"]) == (
        "req-1",
        7,
        12,
        "negotiation",
    )
    assert line["time"].endswith("+00:00")
    assert JsonFormatter().format(record("no context")).count("request_id") == 0


def test_a_traceback_is_one_field_and_masked() -> None:
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        failed = record("it failed")
        failed.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(failed))
    assert "ValueError: bad token [redacted]" in line["exception"]
    assert JWT not in json.dumps(line)


def test_a_text_line_names_its_context() -> None:
    token = REQUEST_ID.set("req-2")
    try:
        text = TextFormatter().format(record("saved answer", attempt_id=3))
    finally:
        REQUEST_ID.reset(token)
    assert text.endswith("WARNING protolearn.test: saved answer [request=req-2 attempt=3]")
