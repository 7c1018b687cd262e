"""The ``protolearn`` command: serve, migrate, manage users, seed the demo, analyze images."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.passwords import PasswordHasher
from protolearn.accounts.schemas import UserCreate
from protolearn.accounts.service import AccountService
from protolearn.accounts.throttle import LoginLimits, LoginThrottle
from protolearn.accounts.tokens import AccessTokenCodec
from protolearn.config import Settings, SettingsError
from protolearn.errors import ProtoLearnError
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.migrate import upgrade
from protolearn.store.users import Role
from protolearn.vision.errors import VisionError
from protolearn.vision.models import verify_models

__all__ = ("main",)


class CommandError(Exception):
    """A command could not do what was asked; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        args.run(settings, args)
    except (SettingsError, ProtoLearnError, CommandError, VisionError) as exc:
        print(f"protolearn: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="protolearn", description="ProtoLearn exam platform")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database and serve the API")
    serve.add_argument("--host", help="address to listen on (default: PROTOLEARN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PROTOLEARN_PORT or 8000)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=_migrate)

    users = commands.add_parser("users", help="manage users").add_subparsers(
        title="actions", metavar="ACTION"
    )
    create = users.add_parser("create", help="create a user of any role")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--password", help="prompted for when omitted")
    create.set_defaults(run=_create_user)

    rotate = commands.add_parser(
        "jwt-rotate", help="a new access-token signing key; the old one verifies its tokens until they expire"
    )
    rotate.set_defaults(run=_rotate_jwt_key)

    seed = commands.add_parser("seed-demo", help="create demo accounts and a published demo test")
    seed.set_defaults(run=_seed_demo)

    analyze = commands.add_parser("analyze", help="detect faces, head pose and gaze in images or videos")
    analyze.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image or video files")
    analyze.add_argument("--backend", choices=("onnx", "mediapipe"), default="onnx")
    analyze.add_argument("--json", action="store_true", help="one JSON object per line")
    analyze.add_argument(
        "--every", type=float, default=1.0, metavar="SECONDS", help="video sampling interval"
    )
    analyze.set_defaults(run=_analyze)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from protolearn.api.serving import Server, server_config
    from protolearn.app import create_app
    from protolearn.logs import logging_config

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    _check_served_files(settings)
    _run_migrations(settings)
    print(f"ProtoLearn serving on http://{host}:{port} (API docs at http://{host}:{port}/schema)", flush=True)
    log_config = logging_config(settings.log_format, settings.log_level)
    config = server_config(create_app(settings), settings, host, port, log_config=log_config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT it shut down on
        Server(config).run()


def _rotate_jwt_key(settings: Settings, _args: argparse.Namespace) -> None:
    from protolearn.accounts.tokens import previous_key_path, rotate_key_pair

    try:
        old, new = rotate_key_pair(settings.private_key_path, settings.public_key_path)
    except OSError as exc:
        raise CommandError(str(exc)) from exc
    previous = previous_key_path(settings.public_key_path)
    print(f"access tokens are now signed with key {new}; key {old} still verifies the tokens it signed")
    print(f"restart every node now; after {settings.access_token_ttl_seconds} s more, delete {previous}")


def _migrate(settings: Settings, _args: argparse.Namespace) -> None:
    _run_migrations(settings)
    print("database is up to date")


def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    password = args.password if args.password is not None else getpass.getpass("password: ")
    try:
        request = msgspec.convert(
            {"email": args.email, "name": args.name, "role": args.role, "password": password}, UserCreate
        )
    except msgspec.ValidationError as exc:
        raise CommandError(f"invalid user: {exc}") from exc

    async def create(_session: AsyncSession, accounts: AccountService) -> None:
        user, created = await accounts.create_or_get(
            request.email, request.password, request.name, request.role
        )
        if not created:
            raise CommandError(f"a user with email {user.email} already exists (id {user.id})")
        print(f"created {user.role.value} {user.email} (id {user.id})")

    _run_migrations(settings)
    asyncio.run(_with_accounts(settings, create))


def _seed_demo(settings: Settings, _args: argparse.Namespace) -> None:
    from protolearn.demo import DEMO_ACCOUNTS, seed_demo

    async def seed(session: AsyncSession, accounts: AccountService) -> None:
        created = await seed_demo(session, accounts)
        print("demo data created" if created else "demo data already present")

    _run_migrations(settings)
    asyncio.run(_with_accounts(settings, seed))
    print("\nDemo accounts (for trying ProtoLearn; never seed a production database):")
    for account in DEMO_ACCOUNTS:
        print(f"  {account.role.value:8} {account.email:32} password: {account.password}")


def _analyze(settings: Settings, args: argparse.Namespace) -> None:
    from protolearn.vision.runtimes import create_analyzer
    from protolearn.vision.sources import frames_of

    if args.every <= 0:
        raise CommandError("--every must be a positive number of seconds")
    analyzer = create_analyzer(args.backend, models_dir=settings.models_dir)
    encoder = msgspec.json.Encoder()
    try:
        for path in args.paths:
            for number, frame in frames_of(path, args.every):
                observation = analyzer.analyze([frame])[0]
                if args.json:
                    line = {"path": str(path), "frame": number, **msgspec.structs.asdict(observation)}
                    sys.stdout.write(encoder.encode(line).decode() + "\n")
                else:
                    poses = ", ".join(
                        f"yaw {face.yaw:+.0f} pitch {face.pitch:+.0f} roll {face.roll:+.0f}"
                        + (f" gaze {face.gaze.yaw:+.0f}/{face.gaze.pitch:+.0f}" if face.gaze else "")
                        for face in observation.faces
                    )
                    dark = " (dark)" if observation.dark else ""
                    print(f"{path} frame {number}: {len(observation.faces)} face(s){dark} {poses}".rstrip())
                sys.stdout.flush()
    finally:
        analyzer.close()


def _check_served_files(settings: Settings) -> None:
    """Refuse to serve without the pages or the verified model files: a proctoring server that
    cannot analyse would only find out when the first student's camera arrives."""
    if not settings.web_dir.is_dir():
        raise CommandError(f"PROTOLEARN_WEB_DIR={settings.web_dir} is not a folder")
    try:
        verify_models(settings.models_dir)
    except VisionError as exc:
        raise CommandError(f"PROTOLEARN_MODELS_DIR={settings.models_dir}: {exc}") from exc


def _run_migrations(settings: Settings) -> None:
    async def migrate() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    logging.getLogger("alembic").setLevel(logging.WARNING)
    asyncio.run(migrate())


async def _with_accounts(
    settings: Settings, action: Callable[[AsyncSession, AccountService], Awaitable[None]]
) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            accounts = AccountService(
                session,
                hasher=PasswordHasher.from_settings(settings),
                codec=AccessTokenCodec.from_settings(settings),
                throttle=LoginThrottle(LoginLimits()),
                refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
                allow_teacher_signup=settings.allow_teacher_signup,
            )
            await action(session, accounts)
    finally:
        await engine.dispose()
