"""The HTML report in a real browser: headless Chromium opens it offline, renders every section and
logs nothing to its console.

Console check: with ``--enable-logging=stderr`` Chromium writes each message a page puts on its
console as one stderr line ``[pid:tid:time:INFO:CONSOLE:line] "message", source: url (line)``
(older builds: ``INFO:CONSOLE(line)``). This build logs console.log, .warn, .error, uncaught
exceptions and Content-Security-Policy refusals all at INFO, so the level cannot tell them apart;
the report runs no script, so *any* console line from the page counts as an error. Chromium's own
startup noise (``ERROR:dbus/bus.cc`` and friends, the Debian wrapper's shell warning) never has
the ``CONSOLE`` tag and is ignored. The last tests prove the check fires: a page that throws, and
the report with an external image slipped in (refused by its CSP), are both caught.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shadow.report.html import ReportData, render_report

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "report_fixture.json"
CONSOLE_LINE = re.compile(r"^\[[\d:/.]+:[A-Z]+:CONSOLE[:(]\d+\)?\]\s*(?P<message>.*)$")

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@dataclass(frozen=True)
class Browsed:
    returncode: int
    dom: str
    stderr: str

    def console_errors(self) -> list[str]:
        """Messages the page logged (see the module docstring for why every level counts)."""
        found = []
        for line in self.stderr.splitlines():
            match = CONSOLE_LINE.match(line)
            if match:
                found.append(match.group("message"))
            elif "Uncaught" in line:  # an exception reported in some other log format
                found.append(line)
        return found


@pytest.fixture
def browse(tmp_path: Path) -> Callable[[Path], Browsed]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    runs = iter(range(100))

    def run(page: Path) -> Browsed:
        profile = tmp_path / f"profile-{next(runs)}"
        done = subprocess.run(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-extensions",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # offline, whatever the page asks for
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=3000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        return Browsed(done.returncode, done.stdout, done.stderr)

    return run


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_fixture_report_renders_every_section_without_console_errors(
    browse: Callable[[Path], Browsed], tmp_path: Path
) -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    page = browse(write(tmp_path / "report.html", render_report(ReportData.from_dict(data))))
    assert page.returncode == 0, page.stderr[-3000:]
    assert page.console_errors() == []
    assert page.dom.rstrip().endswith("</html>")
    for section in ("gate", "scorecard", "distributions", "over-time", "worst"):
        assert f'<section id="{section}"' in page.dom
    assert page.dom.count("<svg") == 3 * len(data["distributions"]) + 6
    assert page.dom.count("<polyline") > 0 and page.dom.count("<rect") > 100
    for candidate in data["candidates"]:
        assert f'data-candidate="{candidate["candidate"]}"' in page.dom
    for result in data["gate"]:
        assert f'data-verdict="{result["verdict"]}"' in page.dom
    assert "&lt;script&gt;alert(1)" in page.dom.replace("<ins>", "").replace("</ins>", "")
    assert "<script" not in page.dom


def test_an_empty_report_renders_without_console_errors(browse: Callable[[Path], Browsed], tmp_path: Path) -> None:
    empty = ReportData(title="empty", generated_at=None, window_start=None, window_end=None, candidates=())
    page = browse(write(tmp_path / "empty.html", render_report(empty)))
    assert page.returncode == 0, page.stderr[-3000:]
    assert page.console_errors() == []
    assert "No data in this window." in page.dom


def test_the_check_ignores_chromium_startup_noise(browse: Callable[[Path], Browsed], tmp_path: Path) -> None:
    page = browse(write(tmp_path / "plain.html", "<!DOCTYPE html><title>plain</title><p>plain</p>"))
    assert page.returncode == 0
    assert page.console_errors() == []


def test_the_check_catches_a_page_that_throws(browse: Callable[[Path], Browsed], tmp_path: Path) -> None:
    broken = '<!DOCTYPE html><title>boom</title><p>x</p><script>throw new Error("boom")</script>'
    page = browse(write(tmp_path / "boom.html", broken))
    assert page.returncode == 0
    assert any("Uncaught Error: boom" in message for message in page.console_errors()), page.stderr[-3000:]


def test_the_check_catches_an_external_fetch_in_the_report(browse: Callable[[Path], Browsed], tmp_path: Path) -> None:
    tampered = render_report(ReportData(title="tampered")).replace(
        "<main>", '<main><img alt="" src="https://example.com/pixel.png">', 1
    )
    page = browse(write(tmp_path / "tampered.html", tampered))
    assert page.returncode == 0
    errors = page.console_errors()
    assert any("https://example.com/pixel.png" in m and "Content Security Policy" in m for m in errors), errors
