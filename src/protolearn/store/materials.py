"""Uploaded learning material and the record of each AI generation from it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from protolearn.store.base import Base, CreatedAt, EnumText, one_of

__all__ = ("AiGeneratedQuestion", "LearningMaterial", "MaterialStatus")


class MaterialStatus(StrEnum):
    """Where an upload's text extraction stands (it runs in the background)."""

    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class LearningMaterial(CreatedAt, Base):
    __tablename__ = "learning_materials"
    __table_args__ = (
        CheckConstraint(one_of("status", MaterialStatus), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(100), default="")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500))  # relative to the data dir
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Pages are separated by form feeds ("\f"), so passages can be cited by page.
    extracted_text: Mapped[str] = mapped_column(Text, default="")
    # The same pages as Markdown: headings, lists, tables, formulas (ai/markdown.py's dialect).
    extracted_markdown: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Per page, where its text came from: {"page", "provider", "model", "ocr_confidence", "note"}.
    page_sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    page_count: Mapped[int] = mapped_column(default=0)
    # Mean recognition confidence over the OCR'd pages (None: no page needed OCR).
    ocr_confidence: Mapped[float | None]
    ocr_pages: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[MaterialStatus] = mapped_column(
        EnumText(MaterialStatus, 16),
        default=MaterialStatus.PROCESSING,
        server_default=MaterialStatus.READY.value,
    )
    progress: Mapped[float] = mapped_column(default=0.0, server_default="1")
    error: Mapped[str | None] = mapped_column(Text)
    # Starts of its extraction (a start the server did not live through counts): past the
    # limit, the material is marked failed instead of being read again at every start.
    extraction_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # The node extracting it, until when (renewed while it works): another node takes over a
    # material whose claim ran out (its node died), and never one claimed and alive.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]


class AiGeneratedQuestion(CreatedAt, Base):
    __tablename__ = "ai_gen_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    material_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_materials.id", ondelete="SET NULL"), index=True
    )
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), index=True
    )
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(100))
    difficulty: Mapped[str] = mapped_column(String(16), default="medium")
    source_passage: Mapped[str] = mapped_column(Text, default="")
    generation_time: Mapped[float]  # seconds
