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


async def test_a_clip_that_cannot_be_written_is_unavailable_not_a_library_error(tmp_path: Path) -> None:
    recorder = SegmentRecorder(seconds=10)
    feed(recorder, seconds=4, keyframe_every=2)
    blocked = tmp_path / "a file"
    blocked.write_bytes(b"")  # where the clip's folder should be

    with pytest.raises(ClipUnavailable, match="could not be written"):
        await recorder.clip(0.5, 3.5, blocked / "clip.webm", post_roll_timeout=0)


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


def audio(at: float) -> EncodedFrame:
    return EncodedFrame("audio", b"\x78" + bytes(99), int(at * 48_000), False, at)


def feed_with_audio(recorder: SegmentRecorder, seconds: float, keyframe_every: float) -> None:
    """15 fps video and 50 packets/s of audio in arrival order, a keyframe every keyframe_every s."""
    frames_per_key = round(keyframe_every * 15)
    packets = [video(n / 15, keyframe=n % frames_per_key == 0) for n in range(round(seconds * 15))]
    packets += [audio(n / 50 + 0.001) for n in range(round(seconds * 50))]
    for packet in sorted(packets, key=lambda p: p.arrived):
        recorder.on_frame(packet)


@pytest.mark.parametrize("keyframe_every", [1.0, 2.0, 5.0])
def test_trimming_keeps_a_keyframe_at_the_front_and_the_index_in_step(keyframe_every: float) -> None:
    recorder = SegmentRecorder(seconds=6.0)
    feed_with_audio(recorder, seconds=40, keyframe_every=keyframe_every)

    frames = list(recorder._frames)
    assert frames[0].kind == "video"
    assert frames[0].keyframe
    # The index holds exactly the buffer's keyframes, the first of them at the front.
    assert [frame for _, frame in recorder._keyframes] == [
        f for f in frames if f.kind == "video" and f.keyframe
    ]
    assert [seq - recorder._first_seq for seq, _ in recorder._keyframes] == [
        i for i, f in enumerate(frames) if f.kind == "video" and f.keyframe
    ]
    assert recorder.buffered_bytes == sum(len(f.data) for f in frames)
    assert 6.0 <= recorder.buffered_seconds < 6.0 + keyframe_every + 0.1


def test_a_clip_starts_at_the_last_keyframe_at_or_before_its_start() -> None:
    recorder = SegmentRecorder(seconds=20.0)
    feed_with_audio(recorder, seconds=20, keyframe_every=2)  # keyframes at 0, 2, 4, ... 18 s

    chosen = recorder._select(7.5, 9.0)
    assert chosen[0].kind == "video"
    assert chosen[0].keyframe
    assert chosen[0].arrived == pytest.approx(6.0)
    assert chosen[-1].arrived <= 9.0
    assert max(f.arrived for f in chosen) > 9.0 - 0.05  # through the end, audio included
    assert {f.kind for f in chosen} == {"video", "audio"}
    # A start exactly on a keyframe begins there; a start before the buffer, at its first packet.
    assert recorder._select(8.0, 9.0)[0].arrived == pytest.approx(8.0)
    early = SegmentRecorder(seconds=4.0)
    feed_with_audio(early, seconds=20, keyframe_every=2)
    first = early._frames[0]
    assert early._select(1.0, 19.0)[0] is first
    with pytest.raises(ClipUnavailable):
        early._select(1.0, 2.0)  # all of that time was trimmed


def test_a_group_of_pictures_over_the_byte_cap_empties_the_index_too() -> None:
    recorder = SegmentRecorder(seconds=60.0, max_bytes=20_000)
    feed(recorder, seconds=10, keyframe_every=1000)  # one keyframe, then inter frames only
    assert recorder.buffered_bytes <= 20_000
    feed(recorder, seconds=2, keyframe_every=1, start=10.0)  # a new keyframe starts it again
    frames = list(recorder._frames)
    assert frames[0].keyframe
    assert [frame for _, frame in recorder._keyframes] == [f for f in frames if f.keyframe]
    assert recorder._keyframes[0][0] == recorder._first_seq


def test_the_clip_store_caps_the_clips_of_every_attempt_together(tmp_path: Path) -> None:
    store = ClipStore(tmp_path / "clips", max_bytes=3_000)
    for n, name in enumerate(["attempt-1/a", "attempt-2/b", "attempt-1/c", "attempt-3/d", "attempt-2/e"]):
        path = store.path_for(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(1_000))
        os.utime(path, (1_000 + n, 1_000 + n))
    (tmp_path / "clips" / "attempt-3" / "f.webm.part").write_bytes(bytes(5_000))  # being written
    newest = store.path_for("attempt-2/e")

    deleted = store.enforce_cap(keep=newest)

    names = [p.relative_to(store.directory).as_posix() for p in deleted]
    assert names == ["attempt-1/a.webm", "attempt-2/b.webm"]
    left = sorted(p.relative_to(store.directory).as_posix() for p in store.directory.rglob("*.webm"))
    assert left == ["attempt-1/c.webm", "attempt-2/e.webm", "attempt-3/d.webm"]
    assert store.enforce_cap(keep=newest) == []  # it fits now


def test_the_clip_store_keeps_the_newest_clip_even_alone_over_the_cap(tmp_path: Path) -> None:
    store = ClipStore(tmp_path, max_bytes=500)
    old, new = store.path_for("attempt-1/old"), store.path_for("attempt-2/new")
    for n, path in enumerate((old, new)):
        path.parent.mkdir(parents=True)
        path.write_bytes(bytes(1_000))
        os.utime(path, (1_000 + n, 1_000 + n))

    assert store.enforce_cap(keep=new) == [old]
    assert new.is_file()
    assert not old.parent.exists()  # an attempt's folder goes with its last clip
