"""Relay capacity: server CPU and memory per proctored stream, ours against aiortc's MediaRelay.

A load process runs N publishers (pre-encoded VP8 640x480 15 fps of a real face + Opus, sent
as they are, so the load generator stays cheap) and V viewers per stream; the server runs in a
process of its own, either our ForwardingUnit (encoded frames forwarded, frame tap decoding
every frame and handing out 2 fps) or the naive design (aiortc MediaRelay: decode once,
re-encode per viewer). Per configuration it measures, over a fixed window after warm-up, the
server process's CPU ms per stream-second, its RSS growth per stream, the frame-tap rate, the
frames viewers received, and (ours) the forwarding dwell time p50/p99. It also compares two
ways of getting analysis frames: decoding every frame, or asking for a keyframe every 0.5 s
and decoding only those. Prints a table and writes benchmarks/results/relay.json.

A teacher's monitor is measured too: one viewer receiving 25 streams on one peer connection
with none, 17 and all of them paused (tiles out of view), in one server session.

    python benchmarks/relay_capacity.py [--seconds 8] [--streams 1,10,25,50] [--quick] [--monitor-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "relay.json"
FPS = 15
WIDTH, HEIGHT = 640, 480
CLIP_SECONDS = 2  # the pre-encoded loop: one keyframe, then 29 inter frames
TAP_FPS = 2.0
TARGET_MS_PER_STREAM_SECOND = 40


# --- pre-encoded media (load process) ------------------------------------------------------------


def face_frames(count: int) -> list[Any]:
    import cv2
    import numpy as np
    from skimage import data

    picture = cv2.resize(data.astronaut(), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    return [np.roll(picture, int(12 * math.sin(n / 4)), axis=1) for n in range(count)]


def encode_vp8(
    frames: list[Any],
    gop: int,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    fps: float = FPS,
    bit_rate: int = 900_000,
) -> list[tuple[bytes, bool]]:
    """VP8 at ~0.9 Mbps (of a 640x480 camera), realtime settings as a browser would use, a
    keyframe every gop frames; pictures of another size than `size` are scaled to it."""
    import av
    import cv2

    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = *size, "yuv420p"
    rate = Fraction(fps).limit_denominator(1000)
    codec.time_base = 1 / rate
    codec.framerate = rate
    codec.bit_rate = bit_rate
    codec.gop_size = gop
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets = []
    for n, picture in enumerate(frames):
        if picture.shape[1::-1] != size:
            picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        packets += [(bytes(p), bool(p.is_keyframe)) for p in codec.encode(frame)]
    packets += [(bytes(p), bool(p.is_keyframe)) for p in codec.encode(None)]
    return packets


def encode_opus(seconds: float = 1.0, frame_ms: int = 20) -> list[bytes]:
    """A tone as Opus packets of frame_ms each (browsers send 20 unless the answer's a=ptime asks
    for more)."""
    import av
    import numpy as np

    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48000, "stereo", "s16"
    codec.bit_rate = 32000
    codec.options = {"frame_duration": str(frame_ms)}
    step = 48 * frame_ms
    samples = int(48000 * seconds)
    wave = (0.2 * 32767 * np.sin(2 * np.pi * 220 * np.arange(samples) / 48000)).astype(np.int16)
    packets = []
    for start in range(0, samples, step):
        chunk = np.repeat(wave[start : start + step][None, :], 2, axis=0).T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, start
        packets += [bytes(p) for p in codec.encode(frame)]
    return packets


def answer_ptime(answer_sdp: str) -> int:
    """The packet duration (ms) an answer asks of the audio (a=ptime), 20 (browsers') if none."""
    for line in answer_sdp.splitlines():
        if line.startswith("a=ptime:"):
            return int(line.removeprefix("a=ptime:"))
    return 20


def pre_encoded_tracks(
    video: list[tuple[bytes, bool]],
    audio: list[bytes],
    copy: list[tuple[bytes, bool]] | None = None,
    audio_frame_ms: int = 20,
) -> tuple[Any, ...]:
    """Tracks whose recv() returns av.Packets: aiortc's sender only packetizes them. With copy,
    a third: the page's copy of the camera for analysis, at half the camera's rate. The audio's
    packets hold audio_frame_ms each."""
    import av
    from aiortc import MediaStreamTrack

    class Looping(MediaStreamTrack):
        def __init__(self, kind: str, payloads: list[bytes], rate: float, clock: int) -> None:
            super().__init__()
            self.kind = kind
            self._payloads, self._rate, self._clock = payloads, rate, clock
            self._count, self._start = 0, None

        def use(self, payloads: list[bytes], rate: float) -> None:
            """Other packets, at another rate (as a browser does what the answer asks)."""
            self._payloads, self._rate = payloads, rate

        async def recv(self) -> Any:
            if self._start is None:
                self._start = time.monotonic()
            await asyncio.sleep(max(0.0, self._start + self._count / self._rate - time.monotonic()))
            packet = av.Packet(self._payloads[self._count % len(self._payloads)])
            packet.pts = int(self._count * self._clock / self._rate)
            packet.time_base = Fraction(1, self._clock)
            self._count += 1
            return packet

    camera = Looping("video", [data for data, _ in video], FPS, 90_000)
    microphone = Looping("audio", audio, 1000 / audio_frame_ms, 48_000)
    if copy is None:
        return camera, microphone
    return camera, microphone, Looping("video", [data for data, _ in copy], FPS / 2, 90_000)


# --- the server process --------------------------------------------------------------------------


def server_main(conn: Connection, design: str) -> None:
    asyncio.run(_serve(conn, design))


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _serve(conn: Connection, design: str) -> None:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRelay

    from protolearn.media.relay import ForwardingUnit
    from protolearn.media.tap import FrameTap

    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(1, thread_name_prefix="tap")
    unit = ForwardingUnit(keyframe_every_s=5.0, lost_after_s=30.0)
    tap = FrameTap(pool, rate_fps=TAP_FPS, capacity=10_000)
    relay = MediaRelay()
    naive_tracks: dict[str, dict[str, Any]] = {}
    naive_peers: list[Any] = []
    window: dict[str, Any] = {}
    while True:
        request = await loop.run_in_executor(None, conn.recv)
        op = request["op"]
        if op == "publish" and design == "ours":
            answer = await unit.publish(request["stream"], request["sdp"])
            tap.attach(unit.hub(request["stream"]))
            conn.send(answer)
        elif op == "publish":
            peer = RTCPeerConnection()
            naive_peers.append(peer)
            tracks = naive_tracks.setdefault(request["stream"], {})
            peer.on("track", lambda track, tracks=tracks: tracks.__setitem__(track.kind, track))
            await peer.setRemoteDescription(RTCSessionDescription(sdp=request["sdp"], type="offer"))
            await peer.setLocalDescription(await peer.createAnswer())
            conn.send(peer.localDescription.sdp)
        elif op == "watch" and design == "ours":
            conn.send(await unit.watch(request["viewer"], request.get("streams", [request.get("stream")])))
        elif op == "pause":
            unit.set_paused(request["viewer"], request["streams"], True)
            unit.set_paused(request["viewer"], request["resume"], False)
            conn.send("ok")
        elif op == "watch":
            peer = RTCPeerConnection()
            naive_peers.append(peer)
            window.setdefault("viewer_peers", {})[request["viewer"]] = peer
            for kind in ("video", "audio"):
                peer.addTrack(relay.subscribe(naive_tracks[request["stream"]][kind], buffered=False))
            await peer.setLocalDescription(await peer.createOffer())
            conn.send(peer.localDescription.sdp)
        elif op == "answer" and design == "ours":
            await unit.accept_answer(request["viewer"], request["sdp"])
            conn.send("ok")
        elif op == "answer":
            peer = window["viewer_peers"][request["viewer"]]
            await peer.setRemoteDescription(RTCSessionDescription(sdp=request["sdp"], type="answer"))
            conn.send("ok")
        elif op == "rss":
            conn.send(_rss_mb())
        elif op == "start":
            unit.stats.latencies_ms.clear()
            window.update(cpu=time.process_time(), wall=time.monotonic(), tapped=tap.stats.tapped)
            window.update(forwarded=unit.stats.forwarded, held_back=unit.stats.held_back)
            conn.send("ok")
        elif op == "end":
            wall = time.monotonic() - window["wall"]
            latencies = sorted(unit.stats.latencies_ms)
            conn.send(
                {
                    "cpu_s": time.process_time() - window["cpu"],
                    "wall_s": wall,
                    "rss_mb": _rss_mb(),
                    "tapped": tap.stats.tapped - window["tapped"],
                    "forwarded": unit.stats.forwarded - window.get("forwarded", 0),
                    "held_back": unit.stats.held_back - window.get("held_back", 0),
                    "reencoded": unit.stats.reencoded,
                    "dwell_p50_ms": _percentile(latencies, 50),
                    "dwell_p99_ms": _percentile(latencies, 99),
                }
            )
        elif op == "stop":
            await tap.close()
            await unit.close()
            for peer in naive_peers:
                await peer.close()
            pool.shutdown()
            conn.send("stopped")
            return


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(len(values) * q / 100))], 2)


# --- one configuration (load process) ------------------------------------------------------------


@dataclass
class Result:
    design: str  # ours | mediarelay
    streams: int
    viewers_per_stream: int
    cpu_ms_per_stream_second: float = 0.0
    server_cores: float = 0.0
    rss_mb_per_stream: float = 0.0
    viewer_fps: float = 0.0  # video frames each viewer received per second (15 offered)
    tap_fps_per_stream: float | None = None
    forward_dwell_p50_ms: float | None = None
    forward_dwell_p99_ms: float | None = None
    reencoded: int | None = None
    notes: list[str] = field(default_factory=list)


async def run_configuration(
    design: str, streams: int, viewers: int, seconds: float, media: tuple[Any, Any]
) -> Result:
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from protolearn.media.aiortc_hooks import tap_receiver

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=server_main, args=(theirs, design), daemon=True)
    server.start()
    loop = asyncio.get_running_loop()

    async def ask(request: dict[str, Any]) -> Any:
        ours.send(request)
        return await loop.run_in_executor(None, ours.recv)

    peers: list[Any] = []
    received = [0]
    try:
        base_rss = await ask({"op": "rss"})
        for n in range(streams):
            publisher = RTCPeerConnection()
            peers.append(publisher)
            for track in pre_encoded_tracks(*media):
                publisher.addTrack(track)
            await publisher.setLocalDescription(await publisher.createOffer())
            answer = await ask({"op": "publish", "stream": f"s{n}", "sdp": publisher.localDescription.sdp})
            await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.sleep(1.0)
        for n in range(streams):
            for v in range(viewers):
                viewer = RTCPeerConnection()
                peers.append(viewer)

                @viewer.on("track")
                def on_track(track: Any, viewer: Any = viewer) -> None:
                    receiver = next(t.receiver for t in viewer.getTransceivers() if t.receiver.track is track)
                    if track.kind == "video":
                        tap_receiver(
                            receiver, lambda _d, _t: received.__setitem__(0, received[0] + 1), _ignore
                        )
                    else:
                        tap_receiver(receiver, _ignore, _ignore)

                offer = await ask({"op": "watch", "stream": f"s{n}", "viewer": f"v{n}-{v}"})
                await viewer.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
                await viewer.setLocalDescription(await viewer.createAnswer())
                await ask({"op": "answer", "viewer": f"v{n}-{v}", "sdp": viewer.localDescription.sdp})
        await asyncio.sleep(3.0)  # warm-up: every viewer past its first keyframe
        await ask({"op": "start"})
        before = received[0]
        await asyncio.sleep(seconds)
        report = await ask({"op": "end"})
        frames = received[0] - before
    finally:
        for peer in peers:
            await peer.close()
        ours.send({"op": "stop"})
        await loop.run_in_executor(None, ours.recv)
        server.join(timeout=10)

    stream_seconds = streams * report["wall_s"]
    result = Result(design, streams, viewers)
    result.cpu_ms_per_stream_second = round(1000 * report["cpu_s"] / stream_seconds, 2)
    result.server_cores = round(report["cpu_s"] / report["wall_s"], 3)
    result.rss_mb_per_stream = round((report["rss_mb"] - base_rss) / streams, 2)
    result.viewer_fps = round(frames / (streams * viewers * report["wall_s"]), 2)
    if design == "ours":
        result.tap_fps_per_stream = round(report["tapped"] / stream_seconds, 2)
        result.forward_dwell_p50_ms = report["dwell_p50_ms"]
        result.forward_dwell_p99_ms = report["dwell_p99_ms"]
        result.reencoded = report["reencoded"]
    if result.viewer_fps < FPS * 0.9:
        result.notes.append(f"viewers got {result.viewer_fps} of {FPS} fps: the machine is saturated")
    return result


async def run_monitor(
    streams: int, seconds: float, media: tuple[Any, Any], paused_shares: list[float]
) -> list[dict[str, Any]]:
    """A teacher's monitor: one viewer receiving every stream on one peer connection, with a
    share of the streams paused (tiles out of view). The server's CPU per configuration of the
    same session; the tap decodes every stream throughout, so differences are forwarding."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from protolearn.media.aiortc_hooks import tap_receiver

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=server_main, args=(theirs, "ours"), daemon=True)
    server.start()
    loop = asyncio.get_running_loop()

    async def ask(request: dict[str, Any]) -> Any:
        ours.send(request)
        return await loop.run_in_executor(None, ours.recv)

    peers: list[Any] = []
    received = [0]
    rows = []
    names = [f"s{n}" for n in range(streams)]
    try:
        for name in names:
            publisher = RTCPeerConnection()
            peers.append(publisher)
            for track in pre_encoded_tracks(*media):
                publisher.addTrack(track)
            await publisher.setLocalDescription(await publisher.createOffer())
            answer = await ask({"op": "publish", "stream": name, "sdp": publisher.localDescription.sdp})
            await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.sleep(1.0)
        viewer = RTCPeerConnection()
        peers.append(viewer)

        @viewer.on("track")
        def on_track(track: Any) -> None:
            receiver = next(t.receiver for t in viewer.getTransceivers() if t.receiver.track is track)
            if track.kind == "video":
                tap_receiver(receiver, lambda _d, _t: received.__setitem__(0, received[0] + 1), _ignore)
            else:
                tap_receiver(receiver, _ignore, _ignore)

        offer = await ask({"op": "watch", "streams": names, "viewer": "monitor"})
        await viewer.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await viewer.setLocalDescription(await viewer.createAnswer())
        await ask({"op": "answer", "viewer": "monitor", "sdp": viewer.localDescription.sdp})
        for share in paused_shares:
            paused = names[: round(share * streams)]
            resumed = names[len(paused) :]
            await ask({"op": "pause", "viewer": "monitor", "streams": paused, "resume": resumed})
            await asyncio.sleep(3.0)  # frames in flight land; resumed tiles pass a keyframe
            await ask({"op": "start"})
            before = received[0]
            await asyncio.sleep(seconds)
            report = await ask({"op": "end"})
            rows.append(
                {
                    "streams": streams,
                    "paused": len(paused),
                    "server_cores": round(report["cpu_s"] / report["wall_s"], 3),
                    "frames_forwarded_per_s": round(report["forwarded"] / report["wall_s"], 1),
                    "frames_held_back_per_s": round(report["held_back"] / report["wall_s"], 1),
                    "viewer_video_fps": round((received[0] - before) / report["wall_s"], 1),
                }
            )
    finally:
        for peer in peers:
            await peer.close()
        ours.send({"op": "stop"})
        await loop.run_in_executor(None, ours.recv)
        server.join(timeout=10)
    everything = rows[0]["server_cores"]
    for row in rows:
        row["saved_cores"] = round(everything - row["server_cores"], 3)
    return rows


def print_monitor(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    print(f"\n{'monitor: streams':>16} {'paused':>6} {'cores':>6} {'saved':>6} {'fwd/s':>6} {'held/s':>6}")
    for row in rows:
        print(
            f"{row['streams']:>16} {row['paused']:>6} {row['server_cores']:>6} {row['saved_cores']:>6} "
            f"{row['frames_forwarded_per_s']:>6} {row['frames_held_back_per_s']:>6}"
        )
    return rows


def _ignore(*_args: Any) -> None:
    return None


# --- analysis frames: decode all, or keyframes only ----------------------------------------------


def analysis_decode_costs(frames: list[Any]) -> dict[str, Any]:
    """Per stream-second at 2 analysis fps: decode every frame of the usual stream, or ask for a
    keyframe every 0.5 s and decode only those. Both from the same pictures."""
    import av

    def decode_ms(packets: list[tuple[bytes, bool]], only_keyframes: bool) -> float:
        codec = av.CodecContext.create("libvpx", "r")
        started = time.perf_counter()
        for data, keyframe in packets:
            if keyframe or not only_keyframes:
                for frame in codec.decode(av.Packet(data)):
                    frame.to_ndarray(format="yuv420p")
        return (time.perf_counter() - started) * 1000

    seconds = len(frames) / FPS
    usual = encode_vp8(frames, gop=len(frames))
    every_half_second = encode_vp8(frames, gop=int(FPS / TAP_FPS))
    runs = 5
    all_ms = statistics.median(decode_ms(usual, False) for _ in range(runs)) / seconds
    key_ms = statistics.median(decode_ms(every_half_second, True) for _ in range(runs)) / seconds
    usual_kbps = sum(len(d) for d, _ in usual) * 8 / seconds / 1000
    keyed_kbps = sum(len(d) for d, _ in every_half_second) * 8 / seconds / 1000
    return {
        "decode_every_frame_ms_per_stream_second": round(all_ms, 2),
        "decode_keyframes_only_ms_per_stream_second": round(key_ms, 2),
        "bitrate_kbps_usual": round(usual_kbps),
        "bitrate_kbps_keyframe_every_0_5_s": round(keyed_kbps),
        "choice": (
            "decode every frame: it costs "
            f"{all_ms - key_ms:+.1f} ms per stream-second more than keyframes only, while a keyframe "
            f"every 0.5 s would raise every stream's bitrate {keyed_kbps / usual_kbps:.1f}x for the "
            "student, the server and every viewer, and cost the student's encoder"
        ),
    }


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per configuration")
    parser.add_argument("--streams", default="1,10,25,50", help="stream counts for our design")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s windows, 1 and 3 streams")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--monitor-only", action="store_true", help="only the monitor's paused tiles, kept in the same JSON"
    )
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    counts = [1, 3] if args.quick else [int(n) for n in args.streams.split(",")]

    frames = face_frames(FPS * CLIP_SECONDS)
    media = (encode_vp8(frames, gop=len(frames)), encode_opus())
    print(
        f"relay capacity: VP8 {WIDTH}x{HEIGHT} {FPS} fps + Opus, {seconds:g} s windows, {os.cpu_count()} CPUs"
    )
    if args.monitor_only:
        monitor = print_monitor(asyncio.run(run_monitor(25, seconds, media, [0.0, 0.68, 1.0])))
        kept = json.loads(args.output.read_text())
        kept["monitor_paused_tiles"] = monitor
        args.output.write_text(json.dumps(kept, indent=2) + "\n")
        print(f"wrote {args.output}")
        return
    plan = [("ours", n, 1) for n in counts]
    plan += [("ours", n, 4) for n in ([1] if args.quick else [1, 5])]
    plan += [("mediarelay", n, 1) for n in ([1] if args.quick else [1, 10])]
    plan += [("mediarelay", n, 4) for n in ([1] if args.quick else [1, 5])]
    header = (
        f"{'design':>10} {'streams':>7} {'viewers':>7} {'cpu ms/stream-s':>15} {'cores':>6} "
        f"{'MB/stream':>9} {'viewer fps':>10} {'tap fps':>7} {'dwell p50':>9} {'p99':>6}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for design, streams, viewers in plan:
        result = asyncio.run(run_configuration(design, streams, viewers, seconds, media))
        results.append(result)
        print(
            f"{design:>10} {streams:>7} {viewers:>7} {result.cpu_ms_per_stream_second:>15} "
            f"{result.server_cores:>6} {result.rss_mb_per_stream:>9} {result.viewer_fps:>10} "
            f"{result.tap_fps_per_stream!s:>7} {result.forward_dwell_p50_ms!s:>9} "
            f"{result.forward_dwell_p99_ms!s:>6} {' '.join(result.notes)}"
        )

    monitor = print_monitor(
        asyncio.run(run_monitor(counts[-1] if args.quick else 25, seconds, media, [0.0, 0.68, 1.0]))
    )
    decode = analysis_decode_costs(frames)
    summary = summarise(results)
    print("\nanalysis frames:", json.dumps(decode, indent=1))
    print("summary:", json.dumps(summary, indent=1))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "relay_capacity",
                "quick": args.quick,
                "window_s": seconds,
                "media": f"VP8 {WIDTH}x{HEIGHT} {FPS} fps ~0.9 Mbps + Opus 32 kbps, pre-encoded",
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "results": [asdict(r) for r in results],
                "monitor_paused_tiles": monitor,
                "analysis_decode": decode,
                "summary": summary,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.output}")


def summarise(results: list[Result]) -> dict[str, Any]:
    def cpu(design: str, viewers: int, streams: int | None = None) -> float | None:
        rows = [r for r in results if r.design == design and r.viewers_per_stream == viewers]
        if streams is not None:
            rows = [r for r in rows if r.streams == streams]
        return rows[-1].cpu_ms_per_stream_second if rows else None

    summary: dict[str, Any] = {"target_ms_per_stream_second": TARGET_MS_PER_STREAM_SECOND}
    ours_25 = cpu("ours", 1, 25)
    if ours_25 is not None:
        summary["ours_25_streams_ms_per_stream_second"] = ours_25
        summary["meets_cpu_target"] = ours_25 <= TARGET_MS_PER_STREAM_SECOND
        summary["streams_per_core_at_25"] = round(1000 / ours_25, 1)
    # Compare CPU where the naive design still delivered (nearly) every frame: a saturated
    # machine caps its CPU and so flatters it. Largest such stream count, same count for ours.
    for viewers in (1, 4):
        naive = [
            r
            for r in results
            if r.design == "mediarelay" and r.viewers_per_stream == viewers and r.viewer_fps >= 0.9 * FPS
        ]
        for row in sorted(naive, key=lambda r: -r.streams):
            mine = next(
                (
                    r
                    for r in results
                    if r.design == "ours" and r.viewers_per_stream == viewers and r.streams == row.streams
                ),
                None,
            )
            if mine is not None:
                summary[f"mediarelay_over_ours_{viewers}_viewer"] = {
                    "streams": row.streams,
                    "ratio": round(row.cpu_ms_per_stream_second / mine.cpu_ms_per_stream_second, 1),
                }
                break
    dwell = [r for r in results if r.design == "ours" and r.streams == 25 and r.viewers_per_stream == 1]
    if dwell:
        summary["forward_dwell_p99_ms_at_25"] = dwell[0].forward_dwell_p99_ms
    summary["reencoded_frames_ours"] = sum(r.reencoded or 0 for r in results if r.design == "ours")
    return summary


if __name__ == "__main__":
    main()
