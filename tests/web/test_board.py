"""The story board in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromium-driver, against `wirewatch demo` (embedded broker, real worker, SQLite).

The board shows the demo's casualty stories; a link to a report with a higher toll is submitted
on POST /links; the card's figure changes without a page load (server-sent events); the story
panel shows the new report's evidence sentence with the figure marked. Ctrl-C then ends the demo.
BOARD_SCREENSHOT=path saves the board as it is then (docs/board.png is made so).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"

# A later report of the demo's Kumasi tanker explosion, written for this test: same event, higher toll.
UPDATE_TITLE = "Kumasi tanker explosion death toll climbs to 31"
UPDATE_SENTENCE = (
    "Thirty-one people have now died after the fuel tanker explosion outside Kumasi, "
    "Ghana's health ministry said on Friday."
)
UPDATE_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{UPDATE_TITLE}</title>
<meta property="og:site_name" content="Coastal Courier"></head><body><article><h1>{UPDATE_TITLE}</h1>
<p>{UPDATE_SENTENCE}</p>
<p>Doctors at the regional hospital said several of the people brought in with severe burns on Tuesday night
had not survived, and that a number of others remained in a critical condition on the burns ward.</p>
<p>The tanker overturned on the main highway into the city during the evening rush and caught fire as
drivers and traders gathered around it, witnesses told reporters at the scene.</p>
<p>Emergency crews spent most of the night putting out the fire and clearing burnt vehicles from the road,
which reopened to traffic on Thursday afternoon after engineers inspected the surface.</p>
<p>The government has promised to pay for the treatment of everyone hurt and has opened an inquiry into
how the tanker came to be on the road at that hour, the information minister told parliament.</p>
</article></body></html>"""


def _browser():
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        unavailable("Chromium", f"{CHROMIUM} and {DRIVER} (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        unavailable("selenium", e)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    try:
        return webdriver.Chrome(options=options, service=Service(DRIVER))
    except Exception as e:
        unavailable("Chromium", e)


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Demo:
    """`wirewatch demo` in a process of its own, its output read line by line."""

    def __init__(self, data_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
        env["WIREWATCH_DATA_DIR"] = str(data_dir)
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wirewatch", "demo", "--timeout", "150"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Ctrl-C as a terminal delivers it: a runner that starts the tests in the background
            # (`make test &`, a CI job without job control) hands them SIGINT ignored, and a child
            # inherits that, so the demo would never see the Ctrl-C this test sends.
            preexec_fn=_sigint_default,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = re.search(pattern, self.lines.get(timeout=1))
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if m:
                return m
        raise AssertionError(f"demo never printed {pattern!r}:\n{''.join(self.output)[-3000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                # Its own stops are bounded (the worker 30 s, then SIGKILL; the broker 10 s; the
                # receiver's and the site's servers): well within this, unless something hangs.
                return self.proc.wait(timeout=150)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                log = self.data_dir / "demo" / "worker.log"
                tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no worker log)"
                raise AssertionError(
                    f"the demo did not stop within 150 s of Ctrl-C:\n{''.join(self.output)[-2000:]}\n"
                    f"worker log tail:\n{tail}"
                ) from None
        return self.proc.returncode


def _wait(check, timeout: float, what: str, driver=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(0.25)
    detail = driver.find_element("tag name", "body").text[:2000] if driver else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


def _card(driver, word: str):
    for card in driver.find_elements("css selector", ".card"):
        if word in card.text:
            return card
    return None


def _killed(driver, word: str) -> int | None:
    card = _card(driver, word)
    return int(card.find_element("css selector", ".killed b").text.replace(",", "")) if card else None


@contextmanager
def _origin():
    """Another outlet, on loopback in a thread (the test itself blocks on the browser)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = UPDATE_PAGE.encode() if self.path == "/courier/kumasi-toll-31.html" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
@pytest.mark.timeout(420)
def test_board_shows_stories_live_and_the_evidence(tmp_path):
    driver = _browser()
    with _origin() as origin:
        demo = Demo(tmp_path)
        try:
            board = demo.wait_for(r"story board:\s+(http://\S+/)", 240).group(1)
            demo.wait_for(r"serving until Ctrl-C", 10)
            driver.get(board)
            _wait(lambda: _card(driver, "Kumasi") and _card(driver, "Cebu"), 30, "the demo's casualty stories", driver)
            assert _killed(driver, "Cebu") == 7
            before = _killed(driver, "Kumasi")
            assert before in (12, 19)
            _wait(lambda: driver.find_element("id", "live").text == "live", 20, "the event stream to open", driver)
            driver.execute_script("window.__sameDocument = true")

            answer = httpx.post(board + "links", json={"url": origin + "/courier/kumasi-toll-31.html"}, timeout=10)
            assert answer.status_code == 202, answer.text
            _wait(lambda: _killed(driver, "Kumasi") == 31, 90, "the Kumasi card to show 31 killed", driver)
            assert driver.execute_script("return window.__sameDocument") is True, "the page was reloaded"

            _card(driver, "Kumasi").click()
            mark = _wait(
                lambda: next(
                    (
                        m
                        for m in driver.find_elements("css selector", "#story .evidence mark")
                        if m.text == "Thirty-one"
                    ),
                    None,
                ),
                30,
                "the evidence sentence",
                driver,
            )
            evidence = mark.find_element("xpath", "..").text
            assert "people have now died after the fuel tanker explosion" in evidence
            assert "Coastal Courier" in driver.find_element("id", "story").text
            history = driver.find_element("css selector", "#story ol.history").text
            assert "to 31" in history
            assert driver.find_element("css selector", "#story svg.chart circle")

            # Bad parameters are refused with the reason, through the same server.
            bad = httpx.get(board + "api/stories", params={"min_killed": "many"}, timeout=10)
            assert bad.status_code == 400 and "min_killed" in bad.json()["detail"]

            shot = os.environ.get("BOARD_SCREENSHOT")
            if shot:
                time.sleep(1.5)  # let the flash of the updated card fade
                driver.save_screenshot(shot)
        finally:
            driver.quit()
            code = demo.stop()
        assert code == 0, "".join(demo.output)[-3000:]
