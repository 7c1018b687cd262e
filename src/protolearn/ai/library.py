"""A teacher's learning materials: uploads stored and handed to the extractor, listed, looked up.

Who may see a material is decided here (its teacher, and admins); reading its text is
``materials.py``'s background work.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.ai.errors import MaterialNotFound, MaterialNotReady
from protolearn.ai.extraction import check_readable, sniff
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.materials import MaterialExtractor, store_material_file
from protolearn.ai.schemas import MaterialOut, MaterialPage, MaterialSummary
from protolearn.pagination import Page, count_rows
from protolearn.store.materials import LearningMaterial, MaterialStatus
from protolearn.store.users import Role

__all__ = ("MaterialLibrary",)


def _summary_fields(material: LearningMaterial, live_progress: float | None) -> dict[str, object]:
    return {
        "material_id": material.id,
        "title": material.title,
        "subject": material.subject,
        "filename": material.filename,
        "content_type": material.content_type,
        "size_bytes": material.size_bytes,
        "status": material.status,
        "progress": live_progress if live_progress is not None else material.progress,
        "error": material.error,
        "page_count": material.page_count,
        "ocr_pages": material.ocr_pages,
        "ocr_confidence": material.ocr_confidence,
        "text_chars": len(material.extracted_text),
        "created_at": material.created_at,
    }


class MaterialLibrary:
    def __init__(
        self,
        session: AsyncSession,
        extractor: MaterialExtractor,
        *,
        data_dir: Path,
        upload_wait_s: float,
        limits: ExtractionLimits,
    ) -> None:
        self._session = session
        self._extractor = extractor
        self._data_dir = data_dir
        self._upload_wait_s = upload_wait_s
        self._limits = limits

    async def upload_material(
        self, principal: Principal, *, data: bytes, filename: str, subject: str, title: str | None
    ) -> tuple[MaterialOut, bool]:
        """Store and start extracting an upload; the material, and whether extraction has ended."""
        kind = await asyncio.to_thread(sniff, data)
        # Headers and structure only: decoding and rendering happen in the extraction process.
        page_count = await asyncio.to_thread(check_readable, kind, data, self._limits)
        path, digest = await asyncio.to_thread(
            store_material_file, self._data_dir, principal.user_id, kind, data
        )
        name = Path(filename.replace("\\", "/")).name[:255] or f"material.{kind.extension}"
        material = LearningMaterial(
            teacher_id=principal.user_id,
            title=(title or Path(name).stem or "Untitled material").strip()[:200],
            subject=subject.strip()[:100],
            filename=name,
            content_type=kind.value,
            path=path,
            size_bytes=len(data),
            sha256=digest,
            page_count=page_count,
            status=MaterialStatus.PROCESSING,
            progress=0.0,
        )
        self._session.add(material)
        await self._session.flush()
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="material.upload",
            object_type="material",
            object_id=material.id,
            sha256=digest,
        )
        await self._session.commit()
        self._extractor.submit(material.id, principal.user_id)
        finished = await self._extractor.wait(material.id, self._upload_wait_s)
        if finished:
            await self._session.refresh(material)
        return self.material_out(material), finished

    async def list_materials(
        self, principal: Principal, *, page: int, page_size: int, subject: str | None = None
    ) -> Page[MaterialSummary]:
        query = select(LearningMaterial)
        if principal.role is not Role.ADMIN:
            query = query.where(LearningMaterial.teacher_id == principal.user_id)
        if subject:
            query = query.where(func.lower(LearningMaterial.subject) == subject.strip().lower())
        total = await count_rows(self._session, query)
        materials = await self._session.scalars(
            query.order_by(LearningMaterial.created_at.desc(), LearningMaterial.id.desc())
            .offset(Page.offset(page, page_size))
            .limit(page_size)
        )
        progress = self._extractor.progress
        return Page(
            items=[MaterialSummary(**_summary_fields(m, progress(m.id))) for m in materials],  # type: ignore[arg-type]
            total=total,
            page=page,
            page_size=page_size,
        )

    async def get_material(self, principal: Principal, material_id: int) -> MaterialOut:
        return self.material_out(await self.owned(principal, material_id))

    def material_out(self, material: LearningMaterial) -> MaterialOut:
        fields = _summary_fields(material, self._extractor.progress(material.id))
        return MaterialOut(
            **fields,  # type: ignore[arg-type]
            extracted_text=material.extracted_text,
            extracted_markdown=material.extracted_markdown,
            pages=[msgspec.convert(page, MaterialPage) for page in material.page_sources or ()],
        )

    async def owned(self, principal: Principal, material_id: int) -> LearningMaterial:
        """A material of the principal's (any, for an admin), else ``MaterialNotFound``."""
        material = await self._session.get(LearningMaterial, material_id)
        if material is None or (
            principal.role is not Role.ADMIN and material.teacher_id != principal.user_id
        ):
            raise MaterialNotFound(f"material {material_id} not found")
        return material

    async def ready(self, principal: Principal, material_id: int) -> LearningMaterial:
        """An owned material whose text has been read, else ``MaterialNotReady`` saying why not."""
        material = await self.owned(principal, material_id)
        if material.status != MaterialStatus.READY:
            state = "is still being read" if material.status == MaterialStatus.PROCESSING else "failed"
            raise MaterialNotReady(f"material {material.id} {state}; it cannot be used yet")
        return material
