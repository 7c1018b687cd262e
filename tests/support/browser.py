"""Driving Debian's Chromium with Playwright: launch with a fake camera fed from a `.y4m` of a real
face, check a page with axe-core, and write screenshots at a laptop and a tablet width."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest

from tests.support.images import astronaut, empty_room

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("PROTOLEARN_TEST_REQUIRE_CHROMIUM") == "1"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
_AXE = Path(__file__).resolve().parent / "vendor"

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}


def skip_without_chromium() -> None:
    """Module-level: skip where Chromium is missing, unless the run requires it (CI)."""
    if CHROMIUM is None and not REQUIRED:
        pytest.skip(
            "Chromium is not installed (CI installs it and requires this test)", allow_module_level=True
        )


def chromium_args(*extra: str) -> list[str]:
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        *extra,
    ]


def camera_args(camera: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]


def write_y4m(path: Path, seconds: float = 2.0, fps: int = 15, *, away_seconds: float = 0.0) -> Path:
    """A 640x480 clip of a swaying face in the YUV4MPEG2 format Chromium's fake camera reads,
    then `away_seconds` of the empty room (the student has left). Chromium plays it in a loop."""
    scenes = [(astronaut(), seconds), (empty_room(), away_seconds)]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W640 H480 F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for picture, length in scenes:
            for n in range(int(length * fps)):
                frame = np.roll(picture, int(12 * np.sin(n / 4)), axis=1)
                out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


@asynccontextmanager
async def chromium(camera: Path | None = None) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "Chromium is required here (PROTOLEARN_TEST_REQUIRE_CHROMIUM=1)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=chromium_args(*(camera_args(camera) if camera else ())),
        )
        try:
            yield browser
        finally:
            await browser.close()


class PageErrors:
    """Uncaught errors and console errors of a page: a test fails on any it did not expect."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.messages.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )

    def unexpected(self, *allowed: str) -> list[str]:
        return [m for m in self.messages if not any(part in m for part in allowed)]


async def assert_accessible(page: Page, name: str) -> None:
    """No serious or critical axe-core violation on what the page shows now."""
    manifest = json.loads((_AXE / "manifest.json").read_text())
    source = (_AXE / manifest["packages"][0]["file"]).read_text()
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(source + "\n;undefined")
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
        }"""
    )
    assert not violations, f"{name}: axe-core found {json.dumps(violations, indent=1)}"


async def screenshots(page: Page, name: str, *, check_accessibility: bool = True) -> None:
    """A full-page screenshot at laptop and tablet width (tests/artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    original = page.viewport_size or LAPTOP
    for label, size in (("laptop", LAPTOP), ("tablet", TABLET)):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(100)  # let layout settle after the resize
        await page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        if check_accessibility and label == "laptop":
            await assert_accessible(page, name)
    await page.set_viewport_size(original)
