"""The site answers a reviewer's questions, for the shipped CPU sweep really run.

``plans/lr-sweep`` is compiled, run with ``planc run --local`` (one run made to fail on
purpose, :data:`tests.site_project.FAILING_RUN`), harvested with ``planc results`` and built
into the site. The pages must show every run's primary metric, the best level or that the
levels are not separated (mean ± sd), the Success Criteria verdicts, the failure in place,
and the data files; in Debian's Chromium (Playwright), sorting, the status filter, the
comparison view and the phone layout must work without console errors. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, need_or_skip, run_planc
from .site_project import (
    FAILING_RUN,
    FAILURE,
    SWEEP_GROUP,
    SWEEP_SLUG,
    build_site,
    build_sweep_project,
)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
PLAN = f"plans/{SWEEP_SLUG}/index.html"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sklearn", reason="the shipped sweep needs scikit-learn")
    proj = build_sweep_project(tmp_path_factory.mktemp("sweep-site"))
    proc = build_site(proj)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr
    return proj


@pytest.fixture(scope="module")
def site(project: Path) -> Path:
    return project / "build" / "site"


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text("utf-8")


def test_plan_page_shows_each_runs_primary_metric_and_the_outcome(site: Path,
                                                                  project: Path) -> None:
    html = read(site, PLAN)
    results = json.loads((project / "build/plans" / SWEEP_GROUP / "results.json").read_text())
    for name, entry in results["runs"].items():
        if name == FAILING_RUN:
            assert entry["metrics"] is None
            continue
        value = entry["metrics"]["test_accuracy"]
        assert f"{value:.4g}" in html, name
    assert "Primary metric" in html and "test_accuracy" in html
    m = re.search(r"(Levels not separated|Best: )[^<]*?(\d\.\d+) ± (\d\.?\d*)", html)
    assert m, "the best level or 'not separated' is named with its mean ± sd"
    assert "test_accuracy by alpha" in html and "<circle" in html  # the level plot


def test_success_criteria_verdicts_with_evidence(site: Path) -> None:
    html = read(site, PLAN)
    assert "Success criteria" in html
    assert re.search(r'planc-v-fail">✗ fail</span></td>\s*<td>All 6 runs finish', html)
    assert f"did not finish: {FAILING_RUN}" in html
    verdicts = re.findall(r'planc-v-(pass|fail|pending|unchecked)', html)
    assert len(verdicts) == 3


def test_failed_run_page_has_exit_code_reason_and_log_tail(site: Path, project: Path) -> None:
    page = read(site, f"plans/{SWEEP_SLUG}/runs/{FAILING_RUN}.html")
    assert "Failed with exit code 1" in page
    assert FAILURE in page and "Last lines of the log" in page
    log_link = re.search(r'href="(\.\./logs/[^"]+\.html)"', page)
    assert log_link, "the run page links its log page"
    log = read(site, f"plans/{SWEEP_SLUG}/logs/{Path(log_link.group(1)).name}")
    assert "md-header" in log and f"runs/{FAILING_RUN}.html" in log  # themed, with a way back
    plan = read(site, PLAN)
    assert f'<a href="runs/{FAILING_RUN}.html">{FAILING_RUN}</a>' in plan
    assert "Failed and unfinished runs" in plan and "RuntimeError" in plan
    local = str(project.resolve())
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".csv", ".yaml"):
            assert local not in path.read_text("utf-8", errors="replace"), path


def test_home_counts_runs_by_status(site: Path) -> None:
    html = read(site, "index.html")
    assert re.search(r"planc-completed[^>]*>✓ completed</span> 5\b", html)
    assert re.search(r"planc-failed[^>]*>✗ failed</span> 1\b", html)
    assert 'id="planc-filter-status"' in html


def test_plan_links_results_json_runs_csv_and_tracker(site: Path) -> None:
    html = read(site, PLAN)
    for name in ("results.json", "runs.csv", "runs_status.yaml"):
        assert f'href="{name}"' in html and (site / f"plans/{SWEEP_SLUG}" / name).is_file()
    data = json.loads(read(site, f"plans/{SWEEP_SLUG}/results.json"))
    assert data["outcome"]["primary_metric"] == "test_accuracy"
    assert [c["verdict"] for c in data["outcome"]["criteria"]][0] == "fail"
    rows = list(csv.DictReader(io.StringIO(read(site, f"plans/{SWEEP_SLUG}/runs.csv"))))
    assert len(rows) == 6 and {"run", "status", "alpha", "seed", "test_accuracy"} <= set(rows[0])
    failed = next(r for r in rows if r["run"] == FAILING_RUN)
    assert failed["status"] == "failed" and failed["exit_code"] == "1"


def test_planc_results_prints_the_same_verdicts(project: Path) -> None:
    proc = run_planc("results", f"build/plans/{SWEEP_GROUP}", "--no-store", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "## Outcome" in proc.stdout and "**Primary metric:** test_accuracy" in proc.stdout
    assert "## Success Criteria" in proc.stdout
    assert f"| ✗ fail | All 6 runs finish and each writes `metrics.json` | 1 of 6 run(s) did " \
           f"not finish: {FAILING_RUN} |" in proc.stdout


def test_material_features_and_rendered_rule_summaries(site: Path) -> None:
    html = read(site, PLAN)
    assert 'type="checkbox"' in html and "[ ]" not in html  # task lists
    assert "planc-icon" in html and "📋" not in html.split("<title>")[0]  # offline icons
    rules = read(site, "rules/index.html")
    assert "`" not in re.sub(r"<pre.*?</pre>", "", rules, flags=re.S)
    config = (ROOT / "mkdocs.yml").read_text()
    for feature in ("navigation.instant", "content.code.copy", "pymdownx.tasklist",
                    "material.extensions.emoji.to_svg", "pymdownx.highlight"):
        assert feature in config


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_reviewer_in_chromium(server: str) -> None:
    need_or_skip(Path(CHROMIUM).exists() and shutil.which("chromium") is not None,
                 "Debian chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))

        page.goto(f"{server}/{PLAN}")
        page.wait_for_selector("article h2:has-text('Outcome')")
        runs = page.locator(".planc-runs table")
        body_rows = runs.locator("tbody tr")
        assert body_rows.count() == 6
        best = page.locator(".planc-best")
        assert best.is_visible() and re.search(r"\d\.\d+ ± \d", best.inner_text())
        assert page.locator(".planc-v-fail").first.is_visible()
        # the run table fits at 1400 px
        assert page.evaluate("(() => { const t = document.querySelector('.planc-runs table');"
                             " const w = t.closest('.md-typeset__scrollwrap') || t.parentElement;"
                             " return w.scrollWidth <= w.clientWidth + 1; })()")
        page.screenshot(path=str(ARTIFACTS / "sweep-plan.png"), full_page=True)

        # sorting by the primary metric reorders the rows
        def names() -> list[str]:
            return [t.strip() for t in runs.locator("tbody tr td:nth-child(2)").all_inner_texts()]

        before = names()
        header = runs.locator("thead th", has_text="test_accuracy")
        header.click()
        ascending = names()
        header.click()
        descending = names()
        assert ascending != before or descending != before
        assert descending[0] == "alpha0.01_seed1" and descending[-1] == FAILING_RUN

        # the status filter hides completed runs
        page.select_option(".planc-status-filter", "failed")
        visible = runs.locator("tbody tr:visible")
        assert visible.count() == 1 and FAILING_RUN in visible.first.inner_text()
        page.select_option(".planc-status-filter", "")
        assert runs.locator("tbody tr:visible").count() == 6

        # comparison of two runs shows only what differs: the seed, not alpha
        page.check("input.planc-pick[value='alpha0.01_seed0']")
        page.check("input.planc-pick[value='alpha0.01_seed1']")
        page.click(".planc-compare-button")
        out = page.locator(".planc-compare-out table")
        out.wait_for()
        text = out.inner_text()
        assert "factor seed" in text and "factor alpha" not in text and "test_accuracy" in text
        page.screenshot(path=str(ARTIFACTS / "sweep-compare.png"), full_page=True)

        # the failed run: exit code, reason and the log tail on its page
        page.click(f".planc-runs a:has-text('{FAILING_RUN}')")
        page.wait_for_selector("article h1:has-text('alpha0.001_seed1')")
        assert page.locator(".planc-failure").is_visible()
        assert page.locator("article pre", has_text=FAILURE).first.is_visible()
        page.screenshot(path=str(ARTIFACTS / "sweep-failed-run.png"), full_page=True)

        # search finds partial run names and metric names
        page.goto(f"{server}/index.html")
        page.click("input.md-search__input")
        page.keyboard.type("seed1", delay=30)
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        assert page.locator(".md-search-result__item").count() >= 1

        # phones: no horizontal overflow of the page; tables scroll inside their box
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        for rel in (PLAN, f"plans/{SWEEP_SLUG}/runs/{FAILING_RUN}.html", "index.html"):
            phone.goto(f"{server}/{rel}")
            phone.wait_for_selector("article h1")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (rel, width)
        phone.goto(f"{server}/{PLAN}")
        phone.wait_for_selector(".planc-runs table")
        phone.screenshot(path=str(ARTIFACTS / "sweep-plan-390.png"), full_page=True)
        browser.close()
    assert errors == []
