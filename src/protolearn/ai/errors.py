"""What can go wrong in AI authoring and tutoring.

::

    ProtoLearnError
    ├── InvalidInput
    │   ├── UnsupportedMaterial     not a PDF, PNG/JPEG or DOCX (sniffed from the bytes)
    │   ├── UnreadableMaterial      broken, encrypted or empty file
    │   ├── MaterialOverLimit       past a limit of ExtractionLimits (pixels, pages, XML, OCR time)
    │   ├── FeedbackNotUnderstood   the offline assistant cannot apply a refinement
    │   └── NothingGenerated        no draft survived validation
    ├── NotFound
    │   └── MaterialNotFound
    ├── Conflict
    │   ├── MaterialNotReady        extraction still running, or failed
    │   └── TutorUnavailable        the student is taking a test right now
    ├── PermissionDenied
    │   └── ExplanationHidden       before submission, or the test's review setting hides answers
    └── ProviderError               the AI provider failed (HTTP 502/503, never a 500)
        ├── ProviderUnavailable     timeouts, 429 and 5xx after retries, connection refused
        └── ProviderBadOutput       answers that are not the JSON asked for, after retries
"""

from __future__ import annotations

from protolearn.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ProtoLearnError

__all__ = (
    "ExplanationHidden",
    "FeedbackNotUnderstood",
    "MaterialNotFound",
    "MaterialNotReady",
    "MaterialOverLimit",
    "NothingGenerated",
    "ProviderBadOutput",
    "ProviderError",
    "ProviderUnavailable",
    "TutorUnavailable",
    "UnreadableMaterial",
    "UnsupportedMaterial",
)


class UnsupportedMaterial(InvalidInput):
    title = "Unsupported material"


class UnreadableMaterial(InvalidInput):
    title = "Unreadable material"


class MaterialOverLimit(InvalidInput):
    title = "Material over a limit"


class FeedbackNotUnderstood(InvalidInput):
    pass


class NothingGenerated(InvalidInput):
    title = "No question generated"


class MaterialNotFound(NotFound):
    pass


class MaterialNotReady(Conflict):
    pass


class TutorUnavailable(Conflict):
    pass


class ExplanationHidden(PermissionDenied):
    pass


class ProviderError(ProtoLearnError):
    title = "AI provider failed"

    def __init__(self, detail: str, *, provider: str, retry_after: float | None = None) -> None:
        extra: dict[str, object] = {"provider": provider}
        if retry_after is not None:
            extra["retry_after"] = max(1, round(retry_after))
        super().__init__(detail, **extra)
        self.provider = provider
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    title = "AI provider unavailable"


class ProviderBadOutput(ProviderError):
    title = "AI provider answered badly"
