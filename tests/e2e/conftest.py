"""End-to-end tests share the integration tests' real server and API helpers, and a relay with a
proctoring supervisor running its background tasks, as the app wires them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.config import Settings
from protolearn.events.bus import EventBus
from protolearn.media.relay import ForwardingUnit
from protolearn.media.streams import StreamEvent
from protolearn.proctoring.pipeline import PipelineOptions
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.vision.runtimes import create_analyzer
from tests.support.fixtures import api, base_url, client

__all__ = ("api", "base_url", "client", "proctoring", "proctoring_in_processes")


@contextlib.asynccontextmanager
async def _proctoring(
    settings: Settings, data_dir: Path, options: PipelineOptions
) -> AsyncIterator[tuple[ForwardingUnit, ProctoringSupervisor]]:
    engine = create_engine(settings.database_url)
    supervisors: list[ProctoringSupervisor] = []

    def on_event(event: StreamEvent) -> None:
        for supervisor in supervisors:
            supervisor.on_stream_event(event)

    unit = ForwardingUnit(keyframe_every_s=1.0, on_event=on_event)
    sessionmaker = create_sessionmaker(engine)
    lifecycle = AttemptLifecycle(sessionmaker, EventBus(), grace_seconds=0)
    supervisor = ProctoringSupervisor(
        unit, sessionmaker, data_dir, partial(create_analyzer, "onnx"), lifecycle=lifecycle, options=options
    )
    supervisors.append(supervisor)
    background = asyncio.create_task(supervisor.run())
    try:
        yield unit, supervisor
    finally:
        background.cancel()
        await asyncio.gather(background, return_exceptions=True)
        await supervisor.close()
        await unit.close()
        await engine.dispose()


@pytest.fixture
async def proctoring(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[ForwardingUnit, ProctoringSupervisor]]:
    """The models on threads of this process."""
    async with _proctoring(settings, tmp_path, PipelineOptions()) as parts:
        yield parts


@pytest.fixture
async def proctoring_in_processes(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[ForwardingUnit, ProctoringSupervisor]]:
    """The models in processes of their own, as the server runs them."""
    options = PipelineOptions(analysis_processes=True, analysis_niceness=10)
    async with _proctoring(settings, tmp_path, options) as parts:
        yield parts
