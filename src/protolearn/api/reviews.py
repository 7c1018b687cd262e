"""Review after the exam: the flagged-attempts queue, an attempt's timeline, evidence clips
(with HTTP Range, each viewing audited once; also through signed links for ``<video>``
elements) and auditors' verdicts."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from protolearn.api.dependencies import Caller, Reviews
from protolearn.api.errors import problem
from protolearn.api.params import PathId, QueryId
from protolearn.api.security import client_address, requires
from protolearn.proctoring.links import EvidenceLink, EvidenceLinks
from protolearn.proctoring.review import EvidenceExpired, EvidenceUnreadable, read_evidence
from protolearn.proctoring.schemas import EvidenceRelease, FlaggedAttempt, ReviewIn, ViolationOut
from protolearn.store.users import Role

__all__ = ("EvidenceController", "ReviewsController", "byte_range")

log = logging.getLogger(__name__)

REVIEWERS = (Role.AUDITOR, Role.TEACHER, Role.ADMIN)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def _position(digits: str) -> int:
    """A byte position; one of more than 19 digits is past any file, and is not parsed (Python
    refuses to parse thousands of digits, and would spend time on them)."""
    return int(digits) if len(digits) <= 19 else 2**63


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of a single-range ``Range`` header, None for the whole file.

    Raises RangeNotSatisfiable for a range outside the file; a header we do not understand (several
    ranges, other units) is ignored, as RFC 9110 allows, and the whole file is sent.
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = _position(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    start = _position(first)
    end = min(_position(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable
    return start, end


class ReviewsController(Controller):
    path = "/api"
    tags = ["review"]

    @get("/reviews/flagged", guards=[requires(*REVIEWERS)])
    async def flagged(
        self,
        principal: Caller,
        reviews: Reviews,
        test_id: QueryId = None,
    ) -> list[FlaggedAttempt]:
        """Attempts with violations, most suspicious first."""
        return await reviews.flagged(principal, test_id)

    @get("/attempts/{attempt_id:int}/timeline", guards=[requires(*REVIEWERS)])
    async def timeline(self, attempt_id: PathId, principal: Caller, reviews: Reviews) -> list[ViolationOut]:
        """The attempt's violations in time order, each with its evidence clip id and review."""
        return await reviews.timeline(principal, attempt_id)

    @post("/violations/{violation_id:int}/review", status_code=HTTP_200_OK, guards=[requires(Role.AUDITOR)])
    async def review(
        self,
        violation_id: PathId,
        data: JSONBody[ReviewIn],
        principal: Caller,
        reviews: Reviews,
        request: Request[Any, Any, Any],
    ) -> ViolationOut:
        """Confirm or dismiss a violation, with a note; a dismissed one stops counting."""
        return await reviews.review(principal, violation_id, data, client_address(request))


class EvidenceController(Controller):
    path = "/api/evidence"
    tags = ["review"]

    @post("/{evidence_id:int}/link", status_code=HTTP_200_OK, guards=[requires(*REVIEWERS)])
    async def link(
        self, evidence_id: PathId, principal: Caller, reviews: Reviews, request: Request[Any, Any, Any]
    ) -> EvidenceLink:
        """A signed URL of the clip for a few minutes, for a ``<video>`` element (which cannot send
        an Authorization header); it names the caller, as whom each use is audited."""
        await reviews.ensure_can_view(principal, evidence_id)
        links: EvidenceLinks = request.app.state.evidence_links
        return links.issue(evidence_id, principal.user_id)

    @post("/{evidence_id:int}/release", status_code=HTTP_200_OK, guards=[requires(Role.ADMIN)])
    async def release(
        self, evidence_id: PathId, principal: Caller, reviews: Reviews, request: Request[Any, Any, Any]
    ) -> EvidenceRelease:
        """Let a confirmed violation's clip go: its retention period applies from now on (it is
        kept until an admin does this). Audited."""
        return await reviews.release(principal, evidence_id, client_address(request))

    @get("/{evidence_id:int}/video", guards=[requires(*REVIEWERS)], media_type="video/webm")
    async def video(
        self, evidence_id: PathId, principal: Caller, reviews: Reviews, request: Request[Any, Any, Any]
    ) -> Response[Any]:
        """The clip as video/webm; honours a single HTTP Range (206), as video players ask, and
        reads only that range. 410 when the clip store's cap has deleted the clip's file."""
        try:
            return await self._video(evidence_id, principal, reviews, request)
        except EvidenceExpired as error:
            return problem(
                request,
                HTTPStatus.GONE,
                error.detail,
                title="Clip expired",
                extensions={"code": type(error).__name__, **error.extra},
            )
        except EvidenceUnreadable as error:
            log.error("evidence %d cannot be opened: %s", evidence_id, error.detail)
            return problem(
                request,
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"{error.detail}; the operator has been told",
                title="Clip unavailable",
                extensions={"code": type(error).__name__},
            )

    async def _video(
        self, evidence_id: int, principal: Caller, reviews: Reviews, request: Request[Any, Any, Any]
    ) -> Response[Any]:
        clip = await reviews.evidence(principal, evidence_id, client_address(request))
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
        try:
            wanted = byte_range(request.headers.get("range"), clip.size_bytes)
        except RangeNotSatisfiable:
            headers["Content-Range"] = f"bytes */{clip.size_bytes}"
            return problem(
                request,
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                "the range is outside the clip",
                headers=headers,
            )
        if wanted is None:
            data = await read_evidence(clip, 0, clip.size_bytes - 1) if clip.size_bytes else b""
            return Response(data, status_code=HTTP_200_OK, media_type=clip.media_type, headers=headers)
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{clip.size_bytes}"
        return Response(
            await read_evidence(clip, first, last),
            status_code=HTTPStatus.PARTIAL_CONTENT,
            media_type=clip.media_type,
            headers=headers,
        )
