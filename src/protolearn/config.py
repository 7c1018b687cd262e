"""The one settings object, read from ``PROTOLEARN_*`` environment variables.

No other module reads the environment: the settings are built here and passed down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec

__all__ = ("ENV_PREFIX", "Settings", "SettingsError")

ENV_PREFIX = "PROTOLEARN_"
# The installed package: web/ and models/ ship inside it (in a checkout, links to the top level).
_PACKAGE_DIR = Path(__file__).resolve().parent
# Variables read by the test suite and tools, not by the server.
_NOT_SETTINGS_PREFIXES = ("PROTOLEARN_TEST_", "PROTOLEARN_BENCH_")
# The Groq client's own variables, honoured as users of that client expect.
_FOREIGN_SETTINGS = {"GROQ_API_KEY": "groq_api_key", "GROQ_BASE_URL": "groq_base_url"}

Positive = Annotated[float, msgspec.Meta(gt=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
_HEX_KEY = "[0-9a-fA-F]{64}"


class SettingsError(ValueError):
    """A ``PROTOLEARN_*`` variable is unknown or has a value of the wrong type."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting of a ProtoLearn deployment; defaults serve a laptop."""

    database_url: str = "sqlite+aiosqlite:///./var/protolearn.db"
    data_dir: Path = Path("./var")
    # The browser pages served under /app, and the model files with the hashes of the
    # package's models/manifest.toml; both default to the copies shipped in the package.
    web_dir: Path = (_PACKAGE_DIR / "web").resolve()
    models_dir: Path = (_PACKAGE_DIR / "models").resolve()
    # RS256 key pair for access tokens; generated into ``data_dir`` on first start when unset.
    jwt_private_key_path: Path | None = None
    jwt_public_key_path: Path | None = None
    # Public keys of earlier signing keys (comma-separated paths), kept until their tokens expired.
    jwt_previous_public_key_paths: str = ""
    jwt_issuer: str = "protolearn"
    access_token_ttl_seconds: PositiveInt = 900
    refresh_token_ttl_seconds: PositiveInt = 14 * 24 * 3600
    allow_teacher_signup: bool = True
    # Failed sign-ins allowed within the window: per account from one address, per account from
    # anywhere, and per address over all accounts (a school signs in from one address).
    login_max_failures: PositiveInt = 10
    login_max_failures_per_account: PositiveInt = 50
    login_max_failures_per_address: PositiveInt = 300
    login_window_seconds: Positive = 300.0
    # Requests allowed per window: accounts made per address (a class signs up from one), and AI
    # requests per user (each is an LLM call or an extraction).
    register_max_per_address: PositiveInt = 200
    register_window_seconds: Positive = 3600.0
    ai_max_requests_per_user: PositiveInt = 120
    ai_window_seconds: Positive = 3600.0
    # Argon2id cost; lower only for tests.
    argon2_time_cost: PositiveInt = 3
    argon2_memory_kib: PositiveInt = 65536
    argon2_parallelism: PositiveInt = 2
    # Answers arriving this long after the deadline are still accepted (network latency).
    deadline_grace_seconds: NonNegative = 5.0
    # Longest sleep of the auto-submit task between two looks at the database.
    deadline_sweep_seconds: Positive = 30.0
    max_request_bytes: PositiveInt = 1024 * 1024
    # Slow clients: a request's line and headers must arrive within this long, and a body may
    # pause this long between two chunks (an upload on a slow link goes on; one that stops ends).
    http_header_timeout_seconds: Positive = 10.0
    http_body_timeout_seconds: Positive = 30.0
    # Live media: a stream with no packets this long is lost (camera_lost); publishers are
    # asked for a keyframe this often (clips start at one; the ring buffer drops whole ones).
    media_lost_after_seconds: Positive = 5.0
    media_keyframe_every_seconds: Positive = 5.0
    # The live channel, per socket: messages at once and per second after that (more are refused,
    # 429), refusals (forgiven at that rate) before the socket is closed (4429), and the largest
    # message acted on (413 beyond; an SDP is ~5 KB).
    live_message_burst: PositiveInt = 40
    live_messages_per_second: Positive = 20.0
    live_flood_refusals: PositiveInt = 400
    live_max_message_bytes: PositiveInt = 64 * 1024
    # Proctoring's pipeline: the vision backend, threads decoding streams and running the models,
    # frames per model run (and how long a batch may wait to fill: 0 on a CPU), tapped frames
    # waiting for analysis across all streams, and seconds of each stream kept for clips.
    vision_backend: Literal["onnx", "mediapipe"] = "onnx"
    decode_workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    inference_workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2
    # The models run in inference_workers processes of their own (false: on threads of the
    # server, whose event loop then waits while they hold the GIL).
    vision_processes: bool = True
    # Their niceness (0-19): on a busy machine the event loop's packets and requests go first,
    # and the analysis takes what is left (each stream's oldest frames dropped, never queued).
    vision_process_niceness: Annotated[int, msgspec.Meta(ge=0, le=19)] = 10
    vision_max_batch: Annotated[int, msgspec.Meta(ge=1, le=256)] = 8
    vision_max_wait_ms: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 0.0
    # Seconds between a stream's room scans: the search for other faces, far ones too (24 ms of
    # one core each on a 640x480 frame, 2.4 ms per stream-second at the default); the frames
    # between follow the student's face. Where a scan finds several faces, the next comes within
    # about a second, until one finds a single face.
    vision_room_scan_interval_s: Annotated[float, msgspec.Meta(ge=0.1, le=60)] = 10.0
    # Frames analysed per second of a stream from 1 s before the hold of one of its rules ends (a
    # face went missing): the violation opens at the end of its hold, not up to a sampling period
    # later.
    vision_deciding_fps: Annotated[float, msgspec.Meta(ge=0.5, le=30)] = 8.0
    # Seconds an empty room's unchanged picture stands on the stream's last analysed frame (it
    # and the one before showed nobody) without the models running again; 0: every frame is
    # analysed.
    vision_still_empty_s: Annotated[float, msgspec.Meta(ge=0, le=10)] = 2.0
    tap_capacity: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 256
    ring_buffer_seconds: Annotated[float, msgspec.Meta(ge=5, le=600)] = 30.0
    # Evidence clips under <data dir>/clips stay within this many bytes, the oldest deleted first
    # (their rows and metadata stay; fetching one answers 410). A 30 s clip is ~1-3 MB.
    clip_store_max_bytes: PositiveInt = 2 * 1024**3
    # Clips are sealed at rest (AES-GCM) with this key, 64 hex digits (openssl rand -hex 32);
    # empty: a key made in the data dir on first start (clip.key). Nodes sharing a data volume
    # must be given the same one. Keys used before (comma-separated) still open their clips.
    clip_encryption_key: Annotated[str, msgspec.Meta(pattern=f"^({_HEX_KEY})?$")] = ""
    clip_encryption_old_keys: Annotated[str, msgspec.Meta(pattern=f"^({_HEX_KEY}(,{_HEX_KEY})*)?$")] = ""
    # Retention: clips and uploaded material are deleted this many days after they were made
    # (0: kept for ever), by a sweep every retention_sweep_seconds; a clip whose violation an
    # auditor confirmed stays until an admin releases it.
    evidence_retention_days: Annotated[int, msgspec.Meta(ge=0, le=36500)] = 90
    material_retention_days: Annotated[int, msgspec.Meta(ge=0, le=36500)] = 365
    retention_sweep_seconds: Positive = 3600.0
    # AI authoring and tutoring. "auto" is groq when GROQ_API_KEY is set, else offline (no network).
    ai_provider: Literal["auto", "offline", "groq", "openai_compatible"] = "auto"
    ai_model: str = ""  # empty: the provider's default (groq: openai/gpt-oss-120b)
    ai_base_url: str = ""  # openai_compatible: the server's API root, e.g. http://127.0.0.1:11434/v1
    ai_api_key: str = ""  # openai_compatible: a key, if the server wants one
    ai_timeout_seconds: Positive = 60.0
    ai_max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 3
    ai_max_upload_bytes: PositiveInt = 20 * 1024 * 1024
    # An upload answers 201 with the text when extraction ends within this time, else 202 (poll it).
    ai_upload_wait_seconds: NonNegative = 3.0
    # Limits on uploaded material, read from the file's header and structure at upload (422 past
    # one) and enforced again while it is read. Pictures: pixels refused past the first, scaled
    # down for OCR past the second (RapidOCR itself reads at most 2000 px a side; an A4 page at
    # 200 dpi is 3.9 Mpx). PDF: pages, and a page's longer side in points (3456: 48 in, the long
    # side of ARCH E, A0's is 3370). DOCX: uncompressed bytes of the XML parts read.
    ai_max_image_pixels: PositiveInt = 120_000_000
    ai_ocr_max_pixels: PositiveInt = 4_000_000
    ai_max_pdf_pages: PositiveInt = 300
    ai_max_pdf_page_points: Positive = 3456.0
    ai_max_docx_xml_bytes: PositiveInt = 50_000_000
    # Extraction runs in a process of its own under an address-space limit (OCR's normal peak is
    # ~1.8 GB of address space, ~1 GB resident). OCR of one material stops at its budget (the
    # material fails, saying so); a job still running at the timeout has its process ended.
    # A material whose extraction was started this many times without ending (server stops,
    # worker crashes) is marked failed instead of being tried again.
    ai_ocr_budget_seconds: Positive = 600.0
    ai_extraction_timeout_seconds: Positive = 900.0
    ai_extraction_memory_bytes: Annotated[int, msgspec.Meta(ge=512 * 1024 * 1024)] = 3 * 1024**3
    ai_extraction_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 3
    groq_api_key: str = ""
    groq_base_url: str = ""
    # OCR of scans and photos. "rapidocr": offline, text only. "vision": a vision model behind an
    # OpenAI-compatible chat API with image input (ocr_base_url, e.g. vLLM or SGLang serving
    # deepseek-ai/DeepSeek-OCR at http://gpu-host:8000/v1), which keeps tables and formulas; a
    # page it cannot read (after ai_max_retries) is read by RapidOCR, saying so. Pages go to it
    # scaled to at most ocr_max_side pixels a side. Empty model and prompt: DeepSeek-OCR's.
    ocr_provider: Literal["rapidocr", "vision"] = "rapidocr"
    ocr_base_url: str = ""
    ocr_model: str = ""
    ocr_api_key: str = ""
    ocr_prompt: str = ""
    ocr_max_side: Annotated[int, msgspec.Meta(ge=256, le=4096)] = 1280
    ocr_timeout_seconds: Positive = 120.0
    # Several nodes: with a Redis URL, live events cross nodes over its pub/sub, login failures
    # are counted for all nodes, and each node registers itself (a heartbeat) so that a test's
    # live media meets on one node. node_url is this node's own address as browsers reach it
    # (behind the proxy of docker-compose.yml: https://<domain>/nodes/a); pages are sent there.
    # node_id names the node (default: its URL). node_media false: tests' live media is never
    # pinned here (a node for the API and the pages, apart from the media nodes' event loops).
    redis_url: str = ""
    # Starts every Redis key and channel of the deployment (two deployments can share a Redis).
    redis_prefix: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "protolearn"
    node_url: str = ""
    node_id: str = ""
    node_media: bool = True
    node_heartbeat_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=60)] = 2.0
    node_expiry_seconds: Annotated[float, msgspec.Meta(ge=0.3, le=600)] = 6.0
    # ICE servers the pages use (GET /api/rtc/ice-servers): STUN and TURN URLs, comma-separated
    # (turn:turn.example.edu:3478?transport=udp,turns:turn.example.edu:443?transport=tcp), and
    # the secret shared with coturn (static-auth-secret): each page gets credentials of its own
    # that expire after turn_credential_ttl_seconds. media_relay_turn_url: the TURN server the
    # SFU's own peer connections relay through, where browsers cannot reach the nodes directly.
    stun_urls: str = ""
    turn_urls: str = ""
    turn_secret: str = ""
    turn_credential_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=7 * 24 * 3600)] = 12 * 3600
    media_relay_turn_url: str = ""
    # Origins allowed to call the API from another site (comma-separated); none by default.
    cors_origins: str = ""
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # "json": one JSON object per line (request, user and attempt ids as fields), for a shipper.
    log_format: Literal["text", "json"] = "text"

    def __post_init__(self) -> None:
        if self.redis_url and not self.node_url:
            raise ValueError(
                f"{ENV_PREFIX}NODE_URL is needed with {ENV_PREFIX}REDIS_URL: "
                "the address browsers reach this node at"
            )
        if self.ocr_provider == "vision" and not self.ocr_base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"{ENV_PREFIX}OCR_PROVIDER=vision needs {ENV_PREFIX}OCR_BASE_URL, the vision model "
                "server's API root (http:// or https://, e.g. http://gpu-host:8000/v1)"
            )
        if (self.turn_urls or self.media_relay_turn_url) and not self.turn_secret:
            raise ValueError(
                f"{ENV_PREFIX}TURN_URLS needs {ENV_PREFIX}TURN_SECRET (coturn's static-auth-secret)"
            )

    @property
    def node_name(self) -> str:
        return self.node_id or self.node_url or f"{self.host}:{self.port}"

    @property
    def private_key_path(self) -> Path:
        return self.jwt_private_key_path or self.data_dir / "jwt_private.pem"

    @property
    def public_key_path(self) -> Path:
        return self.jwt_public_key_path or self.data_dir / "jwt_public.pem"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``PROTOLEARN_<FIELD>`` variables, then apply ``overrides``."""
        environ = os.environ if environ is None else environ
        fields = set(cls.__struct_fields__)
        raw: dict[str, object] = {}
        for key, value in environ.items():
            if not key.startswith(ENV_PREFIX) or key.startswith(_NOT_SETTINGS_PREFIXES):
                continue
            name = key.removeprefix(ENV_PREFIX).lower()
            if name not in fields:
                known = ", ".join(ENV_PREFIX + f.upper() for f in sorted(fields))
                raise SettingsError(f"unknown setting {key}; known settings: {known}")
            raw[name] = value
        for key, name in _FOREIGN_SETTINGS.items():
            if environ.get(key) and name not in raw:
                raw[name] = environ[key]
        raw.update(overrides)
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_decode_path)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"invalid setting: {exc} (variables are {ENV_PREFIX}<NAME>)") from exc


def _decode_path(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError
