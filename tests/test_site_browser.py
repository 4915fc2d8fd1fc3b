"""The built site in a real browser: Debian's Chromium driven by Playwright.

Opens the site through a local HTTP server, navigates home → plan → run → rule, uses the
search box and the plan filter, checks that no console error appears, and saves
screenshots under ``test-artifacts/``. Never downloads a browser.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, need_or_skip
from .site_project import GROUP, build_project, build_site

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proj = build_project(tmp_path_factory.mktemp("browser"))
    proc = build_site(proj)
    assert proc.returncode == 0, proc.stderr
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(proj / "build" / "site")
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_navigate_search_and_filter_without_console_errors(server: str) -> None:
    need_or_skip(
        Path(CHROMIUM).exists() and shutil.which("chromium") is not None,
        "Debian chromium is not installed (apt-get install chromium)",
    )
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "console",
            lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))

        page.goto(f"{server}/index.html")
        page.wait_for_selector("article h1:has-text('Plans')")
        page.screenshot(path=str(ARTIFACTS / "site-home.png"), full_page=True)

        page.fill("#planc-filter-text", "escaping")
        visible = page.locator("article table tbody tr:visible")
        assert visible.count() == 1
        page.fill("#planc-filter-text", "")
        page.select_option("#planc-filter-kind", "tasks")
        assert page.locator("article table tbody tr:visible").count() == 1
        page.select_option("#planc-filter-kind", "")

        page.click(f"article a:has-text('{GROUP}')")
        page.wait_for_selector("article h3:has-text('Evaluation matrix')")
        assert page.locator("svg.planc-chart").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "site-plan.png"), full_page=True)

        page.click("article a:has-text('Llama-3.2-1B-Instruct_rank4')")
        page.wait_for_selector("article h2:has-text('Training curve')")
        assert page.locator('article code:has-text("#SBATCH")').count() >= 1
        page.screenshot(path=str(ARTIFACTS / "site-run.png"), full_page=True)

        page.goto(f"{server}/rules/index.html")
        page.click("article a:has-text('CM004')")
        page.wait_for_selector("article h1:has-text('CM004')")
        page.screenshot(path=str(ARTIFACTS / "site-rule.png"), full_page=True)

        page.goto(f"{server}/index.html")
        page.click("input.md-search__input")
        page.keyboard.type("mojibake", delay=30)  # Material reacts to key events, not fill()
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        assert page.locator(".md-search-result__item").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "site-search.png"))
        browser.close()
    assert errors == []
