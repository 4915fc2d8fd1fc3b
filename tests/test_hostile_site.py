"""Hostile values never become script, links or file reads in the site (issue 15, items
1–3): plan titles, tracker reasons, run keys and results task names carry markdown and
HTML attacks; tracker ``output:`` and results log paths point outside the group. Checked in
the built HTML and in Debian's Chromium (no script runs)."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from .conftest import need_or_skip
from .site_project import GROUP, build_project, build_site

CHROMIUM = "/usr/bin/chromium"
JS_LINK = "[x](javascript:window.__xss=2)"
ATTR = '{: onclick="window.__xss=3" }'
TITLE = "x: </title><script>window.__xss=1</script> " + JS_LINK + " " + ATTR
PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    proj = build_project(tmp)
    (proj / "plans" / "xss.md").write_text(
        "---\nkind: plan\ntitle: " + json.dumps(TITLE) + "\n---\n"
        f"## 📋 Plan: {JS_LINK} {ATTR}\n\n### Objective\nSee {JS_LINK}.\n", "utf-8")
    outside = tmp / "secret"
    outside.mkdir()
    (outside / "id_rsa").write_text(PRIVATE + "\n", "utf-8")
    (outside / "key.out").write_text(PRIVATE + "\n", "utf-8")  # a log suffix, outside
    group = proj / "build" / "plans" / GROUP
    status_path = group / "runs_status.yaml"
    status = yaml.safe_load(status_path.read_text())
    names = list(status["runs"])
    first, second, third = names[0], names[1], names[2]
    status["runs"][first]["finetune"].update(status="failed", exit_code=1,
                                             reason=f"{JS_LINK} {ATTR}",
                                             output="/etc/passwd")
    status["runs"][second]["finetune"].update(output=str(outside / "key.out"))
    status["runs"][third]["finetune"].update(output=str(outside / "id_rsa"))
    status["runs"]["/abs/evil"] = {"finetune": {"status": "failed", "reason": JS_LINK,
                                                "output": str(outside / "key.out")}}
    status["runs"][f"{JS_LINK}{ATTR}"] = {"finetune": {"status": "pending"}}
    status_path.write_text(yaml.safe_dump(status, sort_keys=False))
    results = json.loads((group / "results.json").read_text())
    for rec in results["runs"].values():
        rec["training"]["log"] = str(outside / "key.out")
        for ev in rec["evaluations"].values():
            ev["task"] = f"{JS_LINK}{ATTR}"
    (group / "results.json").write_text(json.dumps(results))
    proc = build_site(proj)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proj / "build" / "site"


def _html(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text("utf-8", "replace")
            for p in site.rglob("*.html")}


def test_no_script_link_or_event_attribute_from_plan_or_tracker(hostile_site: Path) -> None:
    pages = _html(hostile_site)
    assert len(pages) > 10
    for name, html in pages.items():
        assert "<script>window.__xss" not in html, name
        assert not re.search(r"""href=["']?\s*javascript:""", html, re.I), name
        # an event attribute inside a tag (text such as a <title>'s may show the characters)
        assert not re.search(r"""<[a-z][^>]*\son\w+\s*=\s*["']?window\.__xss""", html,
                             re.I), name
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        assert title is None or "<" not in title.group(1), name


def test_files_outside_the_group_are_never_published(hostile_site: Path) -> None:
    every = "".join(p.read_text("utf-8", "replace") for p in hostile_site.rglob("*")
                    if p.is_file() and p.suffix in (".html", ".json", ".csv", ".yaml", ".md",
                                                     ".txt", ".js"))
    assert "root:x:0:0" not in every
    assert "PRIVATE KEY" not in every


def test_the_hostile_pages_run_no_script_in_chromium(hostile_site: Path) -> None:
    need_or_skip(Path(CHROMIUM).exists() and shutil.which("chromium") is not None,
                 "Debian chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(hostile_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    pages = [p for p in _html(hostile_site) if "xss" in p or GROUP.split("_")[0] in p]
    dialogs: list[str] = []
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for rel in pages[:40]:
                page.goto(f"{base}/{rel}")
                for link in page.query_selector_all("a"):
                    href = (link.get_attribute("href") or "").strip().lower()
                    assert not href.startswith("javascript:"), (rel, href)
                    assert link.get_attribute("onclick") is None, rel
                for el in page.query_selector_all("[onclick], [onmouseover], [onerror]"):
                    raise AssertionError((rel, el.evaluate("e => e.outerHTML")))
                assert page.evaluate("() => window.__xss") is None, rel
            browser.close()
    finally:
        httpd.shutdown()
    assert dialogs == []
