"""Sealed files: AES-GCM in chunks, read by range, and refused when changed or foreign."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from protolearn.media.sealed import CHUNK, Sealer, SealError, load_or_create_key

KEY, OTHER = bytes(range(32)), bytes(range(1, 33))


@pytest.fixture
def plain() -> bytes:
    return os.urandom(3 * CHUNK + 1234)


def test_ranges_across_chunks_read_back_the_plain_bytes(tmp_path: Path, plain: bytes) -> None:
    sealer, path = Sealer(KEY), tmp_path / "clip.webm"
    sealer.seal(plain, path)
    on_disk = path.read_bytes()
    assert plain[:4096] not in on_disk and plain[-4096:] not in on_disk
    assert sealer.size(path) == len(plain)
    assert sealer.open(path) == plain
    for offset, length in [
        (0, 1),
        (CHUNK - 3, 10),
        (CHUNK, CHUNK),
        (2 * CHUNK + 7, CHUNK * 2),
        (len(plain) - 5, 100),
    ]:
        assert sealer.read(path, offset, length) == plain[offset : offset + length]
    assert sealer.read(path, len(plain), 10) == b""


def test_an_empty_file_seals_and_opens(tmp_path: Path) -> None:
    sealer, path = Sealer(KEY), tmp_path / "empty"
    sealer.seal(b"", path)
    assert (sealer.size(path), sealer.open(path)) == (0, b"")


@pytest.mark.parametrize("change", ["flip a byte", "cut the last chunk", "swap two chunks"])
def test_a_changed_file_is_refused(tmp_path: Path, plain: bytes, change: str) -> None:
    sealer, path = Sealer(KEY), tmp_path / "clip.webm"
    sealer.seal(plain, path)
    data = bytearray(path.read_bytes())
    header, size = 36, CHUNK + 16
    if change == "flip a byte":
        data[header + size + 100] ^= 1
    elif change == "cut the last chunk":
        del data[header + 3 * size :]
        data[header - 12 : header - 4] = (3 * CHUNK).to_bytes(8, "big")  # and claim the shorter size
    else:
        first, second = data[header : header + size], data[header + size : header + 2 * size]
        data[header : header + 2 * size] = second + first
    path.write_bytes(bytes(data))
    with pytest.raises(SealError):
        sealer.open(path)


def test_another_key_cannot_open_it_and_an_old_key_still_can(tmp_path: Path, plain: bytes) -> None:
    path = tmp_path / "clip.webm"
    Sealer(OTHER).seal(plain, path)
    with pytest.raises(SealError, match="key"):
        Sealer(KEY).open(path)
    assert Sealer(KEY, old_keys=[OTHER]).open(path) == plain


def test_a_plain_file_from_before_sealing_is_read_as_it_is(tmp_path: Path, plain: bytes) -> None:
    path = tmp_path / "old.webm"
    path.write_bytes(plain)
    sealer = Sealer(KEY)
    assert (sealer.size(path), sealer.read(path, 10, 20)) == (len(plain), plain[10:30])


def test_the_key_comes_from_the_setting_or_a_private_file_made_once(tmp_path: Path) -> None:
    assert load_or_create_key(KEY.hex(), tmp_path / "unused") == KEY
    made = load_or_create_key("", tmp_path / "keys" / "clip.key")
    assert len(made) == 32 and (tmp_path / "keys" / "clip.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key("", tmp_path / "keys" / "clip.key") == made
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        load_or_create_key("abc", tmp_path / "x")


def test_processes_making_the_key_at_once_all_get_the_one_that_won(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "clip.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key("", path), range(32)))
    assert len(keys) == 1 and keys == {bytes.fromhex(path.read_text())}
    assert [p.name for p in path.parent.iterdir()] == ["clip.key"]  # nothing left aside
