"""The ``planc`` MkDocs plugin: plans, runs, results and rules as generated pages.

Registered through the ``mkdocs.plugins`` entry point, so ``plugins: [search, planc]`` in
``mkdocs.yml`` is all a project needs. Pages are virtual (``File.generated``, MkDocs 1.6):
nothing generated is written into ``docs_dir``; hand-written pages there stay as they are,
and ``mkdocs serve`` rebuilds them when a plan changes (the plans folder is watched).

Options (``mkdocs.yml``)::

    plugins:
      - search
      - planc:
          plans_dir: plans          # relative to the folder of mkdocs.yml
          build_dir: build/plans    # compiled groups (planc compile --out)

Only the home page, the plan pages and the rule index go into the navigation: run pages
(there may be thousands) are linked from their plan page, so every page's nav stays small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import markupsafe
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

ASSETS = {
    "assets/planc/planc.css": "site/planc.css",
    "assets/planc/planc.js": "site/planc.js",
}


class PlancConfig(Config):
    plans_dir = c.Type(str, default="plans")
    build_dir = c.Type(str, default="build/plans")


class PlancPlugin(BasePlugin[PlancConfig]):
    """Generates the site's plan, run and rule pages at build time."""

    def __init__(self) -> None:
        self._pages: dict[str, str] = {}
        self._root = Path.cwd()

    def _paths(self, config: Any) -> tuple[Path, Path, Path]:
        root = (
            Path(config.config_file_path).resolve().parent
            if config.config_file_path
            else Path.cwd()
        )
        return root, root / self.config.plans_dir, root / self.config.build_dir

    def on_config(self, config: Any) -> Any:
        from .config import load_settings
        from .rules import BUILTIN_CODES, BY_CODE, RULES
        from .site import collect, render_pages

        root, plans_dir, build_dir = self._paths(config)
        self._root = root
        settings, _diags = load_settings(root, set(BY_CODE) | set(BUILTIN_CODES))
        settings.root = root
        self._views = collect(settings, plans_dir, build_dir)
        self._pages = render_pages(
            self._views, RULES, directory_urls=bool(config.use_directory_urls)
        )
        for css, _ in ASSETS.items():
            if css.endswith(".css") and css not in config.extra_css:
                config.extra_css.append(css)
            if css.endswith(".js") and css not in config.extra_javascript:
                config.extra_javascript.append(css)
        if config.nav is None:
            nav: list[Any] = [{"Plans": "index.md"}]
            # Material renders nav titles unescaped: a plan title is user text.
            nav.append(
                {
                    "Plan pages": [
                        {str(markupsafe.escape(v.title)): f"plans/{v.slug}/index.md"}
                        for v in self._views
                    ]
                }
            )
            docs = Path(config.docs_dir)
            for page in sorted(docs.glob("*.md")) if docs.is_dir() else []:
                if page.name != "index.md":
                    nav.append(page.relative_to(docs).as_posix())
            nav.append({"Rules": "rules/index.md"})
            config.nav = nav
        return config

    def on_files(self, files: Files, config: Any) -> Files:
        from importlib import resources

        for path, text in self._pages.items():
            if files.get_file_from_path(path) is not None:
                continue  # a hand-written page of the same path wins
            files.append(File.generated(config, path, content=text))
        for dest, src in ASSETS.items():
            content = (resources.files("compiler") / "templates" / src).read_text("utf-8")
            files.append(File.generated(config, dest, content=content))
        return files

    def on_serve(self, server: Any, config: Any, builder: Any) -> Any:
        _root, plans_dir, build_dir = self._paths(config)
        for folder in (plans_dir, build_dir):
            if folder.is_dir():
                server.watch(str(folder))
        return server
