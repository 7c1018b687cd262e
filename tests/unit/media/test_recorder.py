"""The ring buffer's bounds and the clip store's cap, with synthetic encoded frames."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from protolearn.media.forwarding import EncodedFrame
from protolearn.media.recorder import ClipStore, ClipUnavailable, SegmentRecorder, vp8_size

KEY = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + bytes(990)  # a 640x480 key frame header
DELTA = b"\x11" + bytes(299)


def video(at: float, keyframe: bool) -> EncodedFrame:
    return EncodedFrame("video", KEY if keyframe else DELTA, int(at * 90_000), keyframe, at)


def feed(recorder: SegmentRecorder, seconds: float, keyframe_every: float, start: float = 0.0) -> None:
    """15 fps video, a keyframe every keyframe_every seconds."""
    frames_per_key = round(keyframe_every * 15)
    for n in range(round(seconds * 15)):
        recorder.on_frame(video(start + n / 15, keyframe=n % frames_per_key == 0))


def test_the_buffer_starts_at_a_keyframe_and_keeps_at_least_its_window() -> None:
    recorder = SegmentRecorder(seconds=5.0)
    recorder.on_frame(video(0.0, keyframe=False))  # nothing before the first keyframe
    assert recorder.buffered_bytes == 0

    feed(recorder, seconds=30, keyframe_every=2, start=1.0)

    assert 5.0 <= recorder.buffered_seconds < 5.0 + 2.0  # whole groups of pictures dropped
    first = recorder._frames[0]
    assert first.keyframe


def test_the_buffer_never_outgrows_its_byte_cap() -> None:
    recorder = SegmentRecorder(seconds=60.0, max_bytes=50_000)
    feed(recorder, seconds=20, keyframe_every=1)
    assert recorder.buffered_bytes <= 50_000 + len(KEY)
    # One endless group of pictures (a publisher that never sends keyframes) is dropped whole.
    lonely = SegmentRecorder(seconds=60.0, max_bytes=50_000)
    feed(lonely, seconds=20, keyframe_every=1000)
    assert lonely.buffered_bytes <= 50_000


async def test_asking_for_time_the_buffer_does_not_hold(tmp_path: Path) -> None:
    recorder = SegmentRecorder(seconds=5.0)
    with pytest.raises(ValueError, match="end after"):
        await recorder.clip(10, 5, tmp_path / "x.webm")
    with pytest.raises(ClipUnavailable):
        await recorder.clip(0, 1, tmp_path / "x.webm", post_roll_timeout=0.01)


def test_vp8_size_reads_the_key_frame_header() -> None:
    assert vp8_size(KEY) == (640, 480)
    with pytest.raises(ClipUnavailable):
        vp8_size(DELTA)


def test_the_clip_store_deletes_the_oldest_clips_past_its_cap(tmp_path: Path) -> None:
    store = ClipStore(tmp_path, max_bytes=2_500)
    for n in range(4):
        path = store.path_for(f"clip-{n}")
        path.write_bytes(bytes(1_000))
        os.utime(path, (1_000 + n, 1_000 + n))

    deleted = store.enforce_cap(keep=store.path_for("clip-0"))

    assert [p.name for p in deleted] == ["clip-1", "clip-2"] or [p.stem for p in deleted] == [
        "clip-1",
        "clip-2",
    ]
    assert sorted(p.stem for p in tmp_path.glob("*.webm")) == ["clip-0", "clip-3"]
