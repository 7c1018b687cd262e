from __future__ import annotations

from pathlib import Path

import pytest

from protolearn.config import Settings, SettingsError


def test_defaults_serve_a_laptop() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///./var/protolearn.db"
    assert settings.data_dir == Path("./var")
    assert settings.private_key_path == Path("var/jwt_private.pem")


def test_values_are_read_and_converted() -> None:
    settings = Settings.from_env(
        {
            "PROTOLEARN_PORT": "9000",
            "PROTOLEARN_ALLOW_TEACHER_SIGNUP": "false",
            "PROTOLEARN_DATA_DIR": "/srv/protolearn",
            "PROTOLEARN_DEADLINE_GRACE_SECONDS": "2.5",
            "PROTOLEARN_TEST_POSTGRES_URL": "ignored: read by the test suite",
            "UNRELATED": "x",
        }
    )
    assert (settings.port, settings.allow_teacher_signup, settings.deadline_grace_seconds) == (
        9000,
        False,
        2.5,
    )
    assert settings.public_key_path == Path("/srv/protolearn/jwt_public.pem")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PROTOLEARN_PROT": "1"}, "unknown setting PROTOLEARN_PROT"),
        ({"PROTOLEARN_PORT": "eighty"}, "port"),
        ({"PROTOLEARN_PORT": "70000"}, "port"),
        ({"PROTOLEARN_ACCESS_TOKEN_TTL_SECONDS": "0"}, "access_token_ttl_seconds"),
    ],
)
def test_bad_values_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)
