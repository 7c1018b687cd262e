"""The composition root: builds the Litestar app and every long-lived service from ``Settings``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import partial

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from prometheus_client import CollectorRegistry

from protolearn import __version__
from protolearn.accounts.passwords import PasswordHasher
from protolearn.accounts.principals import AccountCache
from protolearn.accounts.throttle import LoginLimits, LoginThrottle, RedisFailures, RequestLimits
from protolearn.accounts.tokens import AccessTokenCodec
from protolearn.admin.retention import RetentionSweeper
from protolearn.ai.extraction_worker import ExtractionProcess
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.materials import MaterialExtractor
from protolearn.ai.ocr import OcrSettings
from protolearn.ai.providers import create_provider
from protolearn.ai.service import AiTools
from protolearn.ai.stats import ProviderStats
from protolearn.api.admin import AdminController
from protolearn.api.ai import AiController, MaterialUploadController
from protolearn.api.attempts import AttemptsController, ResultsController
from protolearn.api.auth import AuthController
from protolearn.api.dependencies import DEPENDENCIES
from protolearn.api.errors import EXCEPTION_HANDLERS, ProblemResponses
from protolearn.api.exchange import ExchangeController
from protolearn.api.headers import add_security_headers
from protolearn.api.metrics import AppStateCollector, metrics, request_metrics
from protolearn.api.operations import AuditLogController, HealthController
from protolearn.api.proctor_ws import proctor_socket
from protolearn.api.questions import QuestionsController
from protolearn.api.reviews import EvidenceController, ReviewsController
from protolearn.api.rtc import RtcController
from protolearn.api.security import BearerAuthMiddleware
from protolearn.api.serving import SlowBodyMiddleware
from protolearn.api.tests import TestsController
from protolearn.api.users import UsersController
from protolearn.api.violations import ViolationsController
from protolearn.api.web_app import web_app_routes
from protolearn.assessment.deadlines import DeadlineEnforcer
from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.cluster.membership import Cluster
from protolearn.config import Settings
from protolearn.events.bus import EventBus
from protolearn.events.redis_backend import RedisBackend
from protolearn.media.ice_servers import IceServers
from protolearn.media.recorder import ClipStore
from protolearn.media.relay import ForwardingUnit
from protolearn.media.sealed import Sealer, load_or_create_key, parse_key
from protolearn.media.streams import StreamEvent
from protolearn.proctoring.links import EvidenceLinks
from protolearn.proctoring.pipeline import PipelineOptions
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.supervision import supervise
from protolearn.vision.runtimes import create_analyzer

__all__ = ("create_app",)

log = logging.getLogger(__name__)


def cors_config(settings: Settings) -> CORSConfig | None:
    """None by default: no other site's page may call the API. PROTOLEARN_CORS_ORIGINS opens it to
    the origins named (a school's portal embedding results, say), with bearer tokens only: the
    refresh cookie is SameSite=Strict and never crosses sites."""
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Range"],
        expose_headers=["Content-Range", "Retry-After", "X-Request-ID"],
        allow_credentials=False,
        max_age=600,
    )


def create_app(settings: Settings) -> Litestar:
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    cluster = Cluster(settings) if settings.redis_url else None
    bus = EventBus(
        RedisBackend(cluster.client, settings.node_name, prefix=settings.redis_prefix) if cluster else None
    )
    accounts = AccountCache(bus)
    lifecycle = AttemptLifecycle(sessionmaker, bus, grace_seconds=settings.deadline_grace_seconds)
    deadline_enforcer = DeadlineEnforcer(lifecycle, max_sleep_seconds=settings.deadline_sweep_seconds)
    supervisors: list[ProctoringSupervisor] = []
    sealer = Sealer(
        load_or_create_key(settings.clip_encryption_key, settings.data_dir / "clip.key"),
        old_keys=[parse_key(key) for key in settings.clip_encryption_old_keys.split(",") if key],
    )

    def on_stream_event(event: StreamEvent) -> None:
        log.info(
            "stream %s %s: %s",
            event.stream_id,
            event.state,
            event.reason,
            extra={"event": f"stream_{event.state}", "attempt_id": event.stream_id, "reason": event.reason},
        )
        for supervisor in supervisors:
            supervisor.on_stream_event(event)

    ice_servers = IceServers.parse(
        settings.stun_urls,
        settings.turn_urls,
        settings.turn_secret,
        settings.turn_credential_ttl_seconds,
        settings.media_relay_turn_url,
    )
    media = ForwardingUnit(
        lost_after_s=settings.media_lost_after_seconds,
        keyframe_every_s=settings.media_keyframe_every_seconds,
        on_event=on_stream_event,
        ice_servers=ice_servers.for_relay,
    )
    proctoring = ProctoringSupervisor(
        media,
        sessionmaker,
        settings.data_dir,
        partial(create_analyzer, settings.vision_backend, models_dir=settings.models_dir),
        lifecycle=lifecycle,
        options=PipelineOptions(
            decode_workers=settings.decode_workers,
            inference_workers=settings.inference_workers,
            analysis_processes=settings.vision_processes,
            analysis_niceness=settings.vision_process_niceness,
            max_batch=settings.vision_max_batch,
            max_wait_ms=settings.vision_max_wait_ms,
            tap_capacity=settings.tap_capacity,
            room_scan_interval_s=settings.vision_room_scan_interval_s,
            deciding_fps=settings.vision_deciding_fps,
            still_empty_s=settings.vision_still_empty_s,
        ),
        ring_buffer_seconds=settings.ring_buffer_seconds,
        clip_store=ClipStore(settings.data_dir / "clips", settings.clip_store_max_bytes),
        sealer=sealer,
    )
    supervisors.append(proctoring)
    extraction_limits = ExtractionLimits.from_settings(settings)
    ai_tools = AiTools(
        provider=create_provider(settings),
        stats=ProviderStats(),
        extractor=MaterialExtractor(
            sessionmaker,
            settings.data_dir,
            ExtractionProcess(
                extraction_limits,
                memory_limit_bytes=settings.ai_extraction_memory_bytes,
                timeout_s=settings.ai_extraction_timeout_seconds,
                ocr=OcrSettings.from_settings(settings),
            ),
            max_attempts=settings.ai_extraction_max_attempts,
            node=settings.node_name,
        ),
        data_dir=settings.data_dir,
        upload_wait_s=settings.ai_upload_wait_seconds,
        limits=extraction_limits,
    )
    login_failures = (
        RedisFailures(cluster.client, prefix=f"{settings.redis_prefix}:login:") if cluster else None
    )
    retention = RetentionSweeper(
        sessionmaker,
        settings.data_dir,
        evidence_days=settings.evidence_retention_days,
        material_days=settings.material_retention_days,
        interval_s=settings.retention_sweep_seconds,
    )
    state = State(
        {
            "settings": settings,
            "engine": engine,
            "sessionmaker": sessionmaker,
            "token_codec": AccessTokenCodec.from_settings(settings),
            "accounts": accounts,
            "evidence_links": EvidenceLinks.from_settings(settings),
            "password_hasher": PasswordHasher.from_settings(settings),
            "login_throttle": LoginThrottle(LoginLimits.from_settings(settings), store=login_failures),
            "request_limits": RequestLimits.from_settings(settings, store=login_failures),
            "bus": bus,
            "deadline_enforcer": deadline_enforcer,
            "lifecycle": lifecycle,
            "media": media,
            "proctoring": proctoring,
            "ai_tools": ai_tools,
            "metrics_registry": CollectorRegistry(auto_describe=True),
            "cluster": cluster,
            "ice_servers": ice_servers,
            "sealer": sealer,
        }
    )
    state.metrics_registry.register(AppStateCollector(state))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        bus.start()
        tasks = [
            asyncio.create_task(
                supervise("deadline-enforcer", deadline_enforcer.run, failures=proctoring.task_failures),
                name="deadline-enforcer",
            ),
            asyncio.create_task(proctoring.run(), name="proctoring-sessions"),
        ]
        if cluster is not None:
            await cluster.nodes.beat()  # registered, and knowing the others, before serving
            tasks.append(
                asyncio.create_task(
                    supervise("node-heartbeat", cluster.nodes.run, failures=proctoring.task_failures),
                    name="node-heartbeat",
                )
            )
        background = {"retention": retention.run, "material-orphans": ai_tools.extractor.adopt_orphans}
        for name, work in background.items():
            tasks.append(
                asyncio.create_task(supervise(name, work, failures=proctoring.task_failures), name=name)
            )
        await ai_tools.extractor.resume_pending()
        try:
            yield
        finally:
            await ai_tools.extractor.close()
            await ai_tools.provider.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await proctoring.close()
            await media.close()
            accounts.close()
            await bus.close()
            if cluster is not None:
                await cluster.close()
            await engine.dispose()

    return Litestar(
        route_handlers=[
            AuthController,
            UsersController,
            TestsController,
            ExchangeController,
            QuestionsController,
            AttemptsController,
            ResultsController,
            ViolationsController,
            ReviewsController,
            EvidenceController,
            AuditLogController,
            HealthController,
            AdminController,
            RtcController,
            AiController,
            Router(
                path="/",
                route_handlers=[MaterialUploadController],
                request_max_body_size=settings.ai_max_upload_bytes,
            ),
            proctor_socket,
            metrics,
            *web_app_routes(settings.web_dir),
        ],
        state=state,
        dependencies=DEPENDENCIES,
        before_send=[add_security_headers],
        middleware=[
            request_metrics().middleware,
            DefineMiddleware(SlowBodyMiddleware, pause_seconds=settings.http_body_timeout_seconds),
            DefineMiddleware(BearerAuthMiddleware, exclude=["^/schema"]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[ProblemResponses()],
        lifespan=[lifespan],
        request_max_body_size=settings.max_request_bytes,
        cors_config=cors_config(settings),
        # The app's pages and modules go compressed; API answers do not (evidence clips answer
        # byte ranges, and compressing secrets beside reflected input invites BREACH).
        compression_config=CompressionConfig(
            backend="gzip", gzip_compress_level=6, minimum_size=1024, exclude=["^/api"]
        ),
        openapi_config=OpenAPIConfig(
            title="ProtoLearn",
            version=__version__,
            description="Exam platform with trusted, server-side proctoring.",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
    )
