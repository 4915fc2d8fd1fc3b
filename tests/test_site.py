"""The MkDocs site built from the shipped plans plus a compiled, harvested group.

Checks the generated pages' content (home, plan, run, rules), escaping of plan and log
text, and that no secret from any file reaches the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.rules import RULES

from .site_project import ESUM_SLUG, GROUP, SECRET, build_project, build_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    proj = build_project(tmp_path_factory.mktemp("site"))
    proc = build_site(proj)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr
    return proj / "build" / "site"


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text("utf-8")


def plan_page(site: Path) -> str:
    return read(site, f"plans/{GROUP}--runs_plan/index.html")


def test_home_lists_every_plan_with_kind_lint_state_and_run_counts(site: Path) -> None:
    html = read(site, "index.html")
    for title in (GROUP, "Escaping"):
        assert title in html
    for kind in ("run-group", "plan", "tasks"):
        assert f"<td>{kind}</td>" in html
    assert "✓ clean" in html
    assert re.search(r"planc-completed[^>]*>✓ completed</span> \d+", html)
    assert 'id="planc-filter-text"' in html
    assert (site / "search" / "search_index.json").is_file()


def test_plan_page_has_runs_matrix_results_best_run_and_plots(site: Path) -> None:
    html = plan_page(site)
    assert "Llama-3.2-1B-Instruct_rank4" in html and "Llama-3.2-3B-Instruct_base" in html
    assert '<td><a href="runs/Llama-3.2-1B-Instruct_rank4.html">' in html  # a real table row
    assert "planc-failed" in html and "OUT_OF_MEMORY" in html
    assert "GPU hours" in html and "Estimates and actuals" in html
    assert "Evaluation matrix" in html
    assert "Best performing:" in html
    assert "<svg" in html and "Training loss per run" in html
    assert "Score by" in html
    assert "Run Plan: cap_8L_llama32_lora_comparison" in html  # the plan itself, rendered


def test_run_page_has_config_script_job_reason_log_and_curve(site: Path) -> None:
    runs = sorted((site / "plans" / f"{GROUP}--runs_plan" / "runs").glob("*.html"))
    assert len(runs) == 6
    failed = read(site, f"plans/{GROUP}--runs_plan/runs/Llama-3.2-3B-Instruct_rank64.html")
    assert "OUT_OF_MEMORY" in failed and "137" in failed
    ok = read(site, f"plans/{GROUP}--runs_plan/runs/Llama-3.2-1B-Instruct_rank4.html")
    assert "lora_rank" in ok and "#SBATCH" in ok
    assert "1000" in ok and "Training curve" in ok
    link = re.search(r'href="(\.\./logs/[^"]+\.html)"', ok)
    assert link, "run page links its log page"
    log = (site / f"plans/{GROUP}--runs_plan/runs" / link.group(1)).resolve()
    assert log.is_file() and "[REDACTED]" in log.read_text()
    assert 'href="../runs/Llama-3.2-1B-Instruct_rank4.html"' in log.read_text()  # a way back


def test_an_experiment_summary_is_listed_like_a_runs_plan(site: Path) -> None:
    """cruijff_kit's experiment_summary.yaml gets a plan page, a nav entry, a home row, its
    runs (fine-tuned, control, eval-only) with their tracker statuses, and run pages."""
    home = read(site, "index.html")
    href = f"plans/{ESUM_SLUG}/"
    # the nav entry and the home table row, by the experiment's name
    nav = re.search(rf'<a href="{href}index.html" class="md-nav__link">\s*'
                    r'<span class="md-ellipsis">\s*workflow_test_2026-03-16', home)
    assert nav, "nav entry for the experiment summary"
    row = re.search(rf'<tr>\s*<td><a href="{href}index.html">workflow_test_2026-03-16</a></td>'
                    r"\s*<td>experiment-summary</td>\s*<td>✓ clean</td>", home)
    assert row, "home table row with kind and lint state"
    page = read(site, f"plans/{ESUM_SLUG}/index.html")
    assert "<strong>Source</strong>: <code>plans/ck_capitalization/experiment_summary.yaml" \
        in page
    assert "<strong>Group</strong>: <code>workflow_test_2026-03-16</code>" in page
    for run in ("Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct_rank8",
                "Llama-3.2-1B-Instruct_base", "existing_ckpt_eval"):
        assert f'<td><a href="runs/{run}.html">{run}</a></td>' in page, run
    assert "planc-completed" in page and "planc-failed" in page
    # the YAML itself, escaped, with line anchors
    assert '<span id="L58">  - name: &quot;Llama-3.2-1B-Instruct_rank8&quot;</span>' in page \
        or "<span id=\"L58\">  - name: &#34;Llama-3.2-1B-Instruct_rank8&#34;</span>" in page
    ckpt = read(site, f"plans/{ESUM_SLUG}/runs/existing_ckpt_eval.html")
    assert "<strong>Type</strong>: eval-only" in ckpt
    assert "/scratch/ck/earlier/rank8/artifacts/epoch_0" in ckpt  # the checkpoint it loads


def test_rule_pages_come_from_docstrings(site: Path) -> None:
    index = read(site, "rules/index.html")
    for rule in RULES:
        assert rule.CODE in index
        page = read(site, f"rules/{rule.CODE}.html")
        assert rule.NAME in page and "Failing" in page and "Passing" in page


def test_plan_and_log_text_is_escaped(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    hostile = read(site, "plans/hostile/index.html")
    assert (
        "&lt;script&gt;alert(&#x27;plan&#x27;)" in hostile
        or "&lt;script&gt;alert('plan')" in hostile
    )
    for page in pages:
        text = page.read_text("utf-8")
        assert "<script>alert(" not in text, page
        assert "onerror=alert" not in text.replace("&lt;img src=x onerror=alert(1)&gt;", ""), page


def test_no_secret_reaches_the_site(site: Path) -> None:
    for path in site.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text("utf-8", errors="replace"), path


def test_no_remote_fonts_or_cdn(site: Path) -> None:
    html = read(site, "index.html")
    assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html
    assert "unpkg.com" not in html and "cdn.jsdelivr" not in html
