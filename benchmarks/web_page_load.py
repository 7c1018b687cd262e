"""What the web app's pages load, and how soon the test page shows, in Debian's Chromium.

Starts ``protolearn serve`` in its own process on a fresh SQLite database, makes a teacher, a
published test and a student, signs the student in, then loads each page R times with an empty
cache (cold) and R times with the browser's cache (warm). For each page: the bytes transferred
(compressed, as on the wire, from the Resource Timing API) and decoded, the number of requests,
and the time from navigation start to the page's first heading (the app restored the login,
loaded the page's modules and its data, and rendered). Medians; writes
``benchmarks/results/web_page_load.json``.

    python benchmarks/web_page_load.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).with_name("results") / "web_page_load.json"
PASSWORD = "benchmark password"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

MEASURE = """() => {
    const entries = [
        performance.getEntriesByType("navigation")[0],
        ...performance.getEntriesByType("resource"),
    ];
    const own = entries.filter(
        (e) => e.entryType === "navigation" || new URL(e.name).pathname.startsWith("/web/")
    );
    return {
        shown_ms: performance.now(),
        requests: own.length,
        transferred: own.reduce((sum, e) => sum + (e.transferSize || 0), 0),
        encoded: own.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0),
        decoded: own.reduce((sum, e) => sum + (e.decodedBodySize || 0), 0),
    };
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1800):  # the models load first; on a busy machine that takes a while
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server did not become ready")


async def _prepare(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as client:
        for role in ("teacher", "student"):
            await client.post(
                "/api/auth/register",
                json={
                    "email": f"{role}@bench.test",
                    "password": PASSWORD,
                    "name": role.title(),
                    "role": role,
                },
            )
        login = await client.post(
            "/api/auth/login", json={"email": "teacher@bench.test", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        questions = [
            {
                "question_text": f"Question {n}?",
                "question_type": "mcq",
                "options": ["a", "b", "c", "d"],
                "correct_answer": "a",
                "points": 1,
            }
            for n in range(20)
        ]
        test = await client.post(
            "/api/tests",
            headers=headers,
            json={
                "title": "Benchmark test",
                "subject": "Physics",
                "time_limit": 60,
                "questions": questions,
                "proctoring": {"camera_required": False},
            },
        )
        test.raise_for_status()
        await client.put(f"/api/tests/{test.json()['id']}", headers=headers, json={"is_published": True})
        return {"test_id": test.json()["id"]}


async def _load(browser: Any, url: str, path: str, *, warm: bool, runs: int) -> list[dict[str, Any]]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    if path != "/":  # the landing page is for visitors; the others for a signed-in student
        await page.goto(url + "/login")
        await page.get_by_label("Email", exact=True).fill("student@bench.test")
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(url + "/student")
    samples = []
    client = await context.new_cdp_session(page)
    for _ in range(runs + (1 if warm else 0)):
        if not warm:
            await client.send("Network.clearBrowserCache")
        await page.goto(url + path)
        await page.locator("h1").first.wait_for()
        samples.append(await page.evaluate(MEASURE))
    await context.close()
    return samples[1:] if warm else samples  # a warm run starts after one visit filled the cache


def _median(samples: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(sample[key] for sample in samples))


async def main() -> None:
    from playwright.async_api import async_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("needs Chromium: apt-get install -y chromium")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "PROTOLEARN_DATA_DIR": data,
            "PROTOLEARN_DATABASE_URL": f"sqlite+aiosqlite:///{data}/bench.db",
            "PROTOLEARN_LOG_LEVEL": "warning",
            "PROTOLEARN_REGISTER_MAX_PER_ADDRESS": "1000000",  # every student signs up from here
        }
        server = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command, started once
            [sys.executable, "-m", "protolearn", "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
        )
        try:
            await wait_ready(url)
            prepared = await _prepare(url)
            pages = {
                "landing": "/",
                "student dashboard": "/student",
                "test page": f"/student/tests/{prepared['test_id']}",
            }
            rows = []
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
                )
                for name, path in pages.items():
                    for warm in (False, True):
                        samples = await _load(browser, url, path, warm=warm, runs=args.runs)
                        rows.append(
                            {
                                "page": name,
                                "cache": "warm" if warm else "cold",
                                "requests": _median(samples, "requests"),
                                "transferred_kb": round(_median(samples, "transferred") / 1024, 1),
                                "compressed_body_kb": round(_median(samples, "encoded") / 1024, 1),
                                "decoded_kb": round(_median(samples, "decoded") / 1024, 1),
                                "first_heading_ms": round(_median(samples, "shown_ms"), 1),
                            }
                        )
                await browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(
        f"{'page':<18} {'cache':<5} {'requests':>8} {'wire KB':>8} {'body KB':>8} "
        f"{'decoded KB':>10} {'first h1 ms':>11}"
    )
    for row in rows:
        print(
            f"{row['page']:<18} {row['cache']:<5} {row['requests']:>8.0f} {row['transferred_kb']:>8.1f} "
            f"{row['compressed_body_kb']:>8.1f} {row['decoded_kb']:>10.1f} {row['first_heading_ms']:>11.1f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "runs": args.runs,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
