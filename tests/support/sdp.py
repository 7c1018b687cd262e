"""Malformed SDP, as a hostile or broken client sends it: shapes made from a real description
(truncated, bad m= lines, garbage fingerprints, huge numbers, no ICE credentials, no codecs)
and seeded random mutations of it."""

from __future__ import annotations

import random
import re

HUGE = "9" * 40


def _sub(sdp: str, pattern: str, replacement: str | None) -> str | None:
    """`sdp` with the start of each line matching `pattern` replaced (None: the line removed);
    None when no line matches."""
    lines = []
    for line in sdp.split("\r\n"):
        if re.match(pattern, line) is None:
            lines.append(line)
        elif replacement is not None:
            lines.append(re.sub(pattern, replacement, line, count=1))
    changed = "\r\n".join(lines)
    return None if changed == sdp else changed


def malformed(sdp: str) -> dict[str, str]:
    """Named shapes of a broken description made from `sdp` (an offer or an answer): those its
    lines allow (an answer without ssrc lines has no broken ssrc-group)."""
    lines = sdp.split("\r\n")
    first_media = next(i for i, line in enumerate(lines) if line.startswith("m="))
    shapes = {
        "cut in half": sdp[: len(sdp) // 2],
        "cut inside a line": sdp[: sdp.index("a=fingerprint:") + 20],
        "only the session lines": "\r\n".join(lines[:first_media]) + "\r\n",
        "an m= line of words": _sub(sdp, r"m=video .*", "m=video x y z"),
        "an m= line without formats": _sub(sdp, r"m=audio (\d+) (\S+) .*", r"m=audio \1 \2"),
        "a payload type past 255": _sub(sdp, r"m=video (\d+) (\S+) .*", rf"m=video \1 \2 {HUGE}"),
        "a garbage fingerprint": _sub(sdp, r"a=fingerprint:.*", "a=fingerprint:garbage"),
        "a fingerprint of three words": _sub(sdp, r"a=fingerprint:.*", "a=fingerprint:sha-256 a b"),
        "a number too long to read": _sub(sdp, r"a=rtpmap:(\d+) opus/\d+", r"a=rtpmap:\1 opus/" + "9" * 5000),
        "a broken candidate": _sub(sdp, r"a=candidate:.*", "a=candidate:x"),
        "no ice-ufrag": _sub(sdp, r"a=ice-ufrag:.*", None),
        "no setup line": _sub(sdp, r"a=setup:.*", None),
        "an unknown setup role": _sub(sdp, r"a=setup:.*", "a=setup:sideways"),
        "its codec lines removed": _sub(sdp, r"a=rtpmap:.*", None),
        "an fmtp without parameters": _sub(sdp, r"a=fmtp:(\d+) .*", r"a=fmtp:\1"),
        "an rtcp-fb of one word": _sub(sdp, r"a=rtcp-fb:(\d+) .*", r"a=rtcp-fb:\1"),
        "an rtpmap without a rate": _sub(sdp, r"a=rtpmap:(\d+) .*", r"a=rtpmap:\1 VP8"),
        "an ssrc-group of words": _sub(sdp, r"a=ssrc-group:FID .*", "a=ssrc-group:FID x y"),
        "no rtcp-mux": _sub(sdp, r"a=rtcp-mux", None),
        "two media with one mid": _sub(sdp, r"a=mid:1", "a=mid:0"),
        "a version of letters": _sub(sdp, r"v=0", "v=x"),
    }
    return {name: broken for name, broken in shapes.items() if broken is not None}


def mutations(sdp: str, count: int, seed: int) -> list[str]:
    """`count` random breakages of `sdp`: lines dropped, cut, doubled, numbers made huge."""
    rng = random.Random(seed)
    numbers = list(re.finditer(r"\d+", sdp))
    broken: list[str] = []
    while len(broken) < count:
        lines = sdp.split("\r\n")
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(lines))
            match rng.randrange(4):
                case 0:
                    del lines[index]
                case 1:
                    lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
                case 2:
                    lines.insert(index, lines[index])
                case _:
                    number = rng.choice(numbers).group()
                    lines[index] = lines[index].replace(number, rng.choice((HUGE, "-1", "x", "")), 1)
        candidate = "\r\n".join(lines)
        if candidate != sdp:
            broken.append(candidate)
    return broken


__all__ = ("malformed", "mutations")
