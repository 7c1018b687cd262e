"""``/api/tests/{id}/import`` and ``/export``: a test's questions in and out as Moodle XML, GIFT or CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import Body, QueryParameter
from litestar.status_codes import HTTP_200_OK

from protolearn.api.dependencies import Caller, DbSession
from protolearn.api.params import PathId
from protolearn.api.security import requires
from protolearn.assessment.exchange import MAX_FILE_BYTES, ExchangeFormat, media_type
from protolearn.assessment.exchange.schemas import ImportResult
from protolearn.assessment.exchange.service import ExchangeService
from protolearn.store.users import Role

__all__ = ("ExchangeController",)

Exchange = NamedDependency[ExchangeService]

_MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the other form fields
_YES = frozenset({"true", "1", "yes", "on"})
_NO = frozenset({"", "false", "0", "no", "off"})
_FORMAT_DOC = "moodle-xml (the default), gift or csv"


@dataclass
class QuestionFile:
    file: UploadFile
    dry_run: str = ""  # "true" or "1": read and check the file, store nothing
    format: str = ""  # moodle-xml, gift or csv; by default from the file's name, else its content


@dataclass
class _ExportOperation(Operation):
    """The export's document: its 200 answer in each format's media type (Litestar names one)."""

    def __post_init__(self) -> None:
        answer: Any = (self.responses or {}).get("200")
        if isinstance(answer, OpenAPIResponse):
            answer.content = {
                media_type(f).split(";")[0]: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
                for f in ExchangeFormat
            }


def provide_exchange(db_session: DbSession) -> ExchangeService:
    return ExchangeService(db_session)


def _form_flag(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word not in _YES | _NO:
        raise ValidationException(f"field `{name}`: expected true or false, got {value!r}")
    return word in _YES


def _form_format(value: str) -> ExchangeFormat | None:
    if not value.strip():
        return None
    try:
        return ExchangeFormat(value.strip().lower())
    except ValueError:
        names = ", ".join(f.value for f in ExchangeFormat)
        raise ValidationException(f"field `format`: expected one of {names}, got {value!r}") from None


class ExchangeController(Controller):
    path = "/api/tests"
    tags = ["tests"]
    dependencies = {"exchange": Provide(provide_exchange, sync_to_thread=False)}

    @post(
        "/{test_id:int}/import",
        status_code=HTTP_200_OK,
        guards=[requires(Role.TEACHER)],
        request_max_body_size=MAX_FILE_BYTES + _MULTIPART_OVERHEAD,
        description=(
            "Multipart: `file` (Moodle XML, GIFT or CSV; at most 2 MiB and 500 questions, the rest "
            "skipped), `dry_run` (`true` or `1`: check only, store nothing) and `format` (`moodle-xml`, "
            "`gift` or `csv`; by default from the file's name, else its content). The questions are "
            "appended to the test in file order in one transaction; what cannot be held is listed in "
            "`skipped` with the reason. Only the test's teacher; not once students have taken it."
        ),
    )
    async def import_questions(
        self,
        test_id: PathId,
        data: Annotated[QuestionFile, Body(media_type=RequestEncodingType.MULTI_PART)],
        principal: Caller,
        exchange: Exchange,
    ) -> ImportResult:
        """Append a file's questions to the test (see ``description``); a dry run stores nothing."""
        content = await data.file.read()
        return await exchange.import_file(
            principal,
            test_id,
            content=content,
            filename=data.file.filename or "",
            file_format=_form_format(data.format),
            dry_run=_form_flag("dry_run", data.dry_run),
        )

    @get(
        "/{test_id:int}/export",
        guards=[requires(Role.TEACHER, Role.ADMIN)],
        media_type="application/octet-stream",
        description=(
            "The test's questions in order as an attachment: `moodle-xml` (Moodle's question import), "
            "`gift` (with a `// points: N` comment before each question) or `csv` (`question_text, "
            "question_type, points, correct_answer, explanation, option_1 ... option_N`)."
        ),
        response_description="the file: application/xml, text/plain (GIFT) or text/csv",
        operation_class=_ExportOperation,
    )
    async def export_questions(
        self,
        test_id: PathId,
        principal: Caller,
        exchange: Exchange,
        file_format: Annotated[ExchangeFormat, QueryParameter(name="format", description=_FORMAT_DOC)] = (
            ExchangeFormat.MOODLE_XML
        ),
    ) -> Response[bytes]:
        """The test's questions in order, in a format Moodle and spreadsheets import."""
        exported = await exchange.export_file(principal, test_id, file_format)
        return Response(
            exported.content,
            media_type=exported.media_type,
            headers={
                # As given: Litestar would add a second charset to a text/* type that names one.
                "content-type": exported.media_type,
                "content-disposition": f'attachment; filename="{exported.filename}"',
            },
        )
