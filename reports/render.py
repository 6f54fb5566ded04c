"""The published site: `render_site` writes it from the data files, `serve_site` shows it.

```
SITE/index.html                  headline, ranking, charts, brand x country heatmap, and
                                 the channels side by side (a study on several channels)
SITE/companies/<brand>.html      one page per brand
SITE/countries/<country>.html    one page per country
SITE/methodology.html            design, definitions, the study's own numbers, downloads
SITE/charts/*.svg                every chart (matplotlib, deterministic)
SITE/static/style.css
SITE/data/                       the data files (analysis.publish), linked from every page
SITE/.replybench-site            the files above, so a later report may replace them
```

Every link is relative and nothing is fetched from elsewhere, so the site works from
`file://` and from any web server. The same data give the same bytes. Company and country
pages are drawn in worker processes when there are many (charts cost most of the time).
"""

from __future__ import annotations

import contextlib
import functools
import http
import http.server
import itertools
import multiprocessing
import os
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.charts import ChartSpec, Painter
from reports.company import company_page
from reports.context import CompanyPage, CountryPage, IndexPage, MethodPage
from reports.data import DESIGN_FILES, REQUIRED, WAVES_FILE, load
from reports.fmt import finalize
from reports.method import method_page
from reports.pages import country_page, index_page
from reports.site_folder import staged_site
from reports.view import View
from study.errors import StudyError

Page = IndexPage | CompanyPage | CountryPage | MethodPage
TEMPLATES: dict[type[Any], str] = {
    IndexPage: "index.html",
    CompanyPage: "company.html",
    CountryPage: "country.html",
    MethodPage: "methodology.html",
}
PARALLEL_FROM = 60  # pages; below this, worker processes cost more than they save
Job = tuple[str, Page, list[ChartSpec]]  # (path relative to the site, page, its charts)


@functools.cache
def environment() -> Environment:
    """The templates, autoescaped, with undefined names an error and outside text `shown`."""
    return Environment(
        loader=PackageLoader("reports"),
        autoescape=select_autoescape(),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        finalize=finalize,  # every printed value: no direction controls (reports.fmt)
    )


def context(page: Page) -> dict[str, Any]:
    """A page's fields as the template's variables."""
    return {f.name: getattr(page, f.name) for f in fields(page)}


def render_page(page: Page) -> str:
    """The HTML of one page."""
    return environment().get_template(TEMPLATES[type(page)]).render(context(page))


def render_site(
    data: Path | Sequence[Path],
    site_dir: Path,
    study_dir: Path | None = None,
    *,
    workers: int | None = None,
    force: bool = False,
) -> Path:
    """Write the site into `site_dir` from the data files; the path of its index.html.

    `data` is the folder `analysis.publish.publish_data` wrote (it may be `site_dir/data`)
    or the list of paths it returned. The site is built beside `site_dir` and replaces it
    whole (`reports.site_folder`): a folder holding files replybench did not write is
    refused unless `force`. See `write_site` for the rest.
    """
    sources = _sources(data)
    keep = [] if study_dir is None else [study_dir]
    with staged_site(site_dir, force=force, vouched=sources, keep=keep) as stage:
        write_site(sources, stage, study_dir, workers=workers)
    return site_dir / "index.html"


def write_site(
    data: Path | Sequence[Path],
    site_dir: Path,
    study_dir: Path | None = None,
    *,
    workers: int | None = None,
) -> None:
    """Write the site into the new folder `site_dir` (`staged_site` gives one) from the data
    files, copied into `site_dir/data` when they live elsewhere. From `study_dir`, when
    given, the researchers' targets.csv and scripts.csv are published beside them
    (study.toml is not: it names the probe accounts). `workers`: processes drawing the
    company and country pages (default: one per CPU). Raises StudyError when a data file is
    missing.
    """
    data_dir = site_dir / "data"
    _gather(_sources(data), data_dir)
    extra = _design_files(study_dir, data_dir)
    view = View(load(data_dir), extra)
    for folder in ("companies", "countries", "charts", "static"):
        (site_dir / folder).mkdir(exist_ok=True)
    css = files("reports").joinpath("static", "style.css").read_bytes()
    _write(site_dir / "static" / "style.css", css)
    total = 2 + len(view.countries) + len(view.brands)
    _write_all(_jobs(view, data_dir), total, site_dir, workers)


def _jobs(view: View, data_dir: Path) -> Iterator[Job]:
    """Every page with its charts, built one at a time (so workers start on the first
    while the rest are built)."""
    index, charts = index_page(view)
    yield "index.html", index, charts
    yield "methodology.html", method_page(view, data_dir), []
    for code in view.countries:
        page, charts = country_page(view, code)
        yield f"countries/{view.country_slug[code]}.html", page, charts
    for brand in view.brands:
        company, charts = company_page(view, brand)
        yield f"companies/{view.brand_slug[brand]}.html", company, charts


def write_pages(jobs: list[Job], site_dir: Path) -> None:
    """Draw each job's charts and write its page (in a worker process or not)."""
    painter = Painter()
    for path, page, charts in jobs:
        for spec in charts:
            _write(site_dir / spec.path, painter.svg(spec))
        _write(site_dir / path, render_page(page).encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    """Write one file of the site (the seam the tests fill the disk at)."""
    path.write_bytes(data)


def _write_all(jobs: Iterator[Job], total: int, site_dir: Path, workers: int | None) -> None:
    n = workers if workers is not None else os.cpu_count() or 1
    if n <= 1 or total < PARALLEL_FROM:
        write_pages(list(jobs), site_dir)
        return
    size = max(1, min(25, total // (4 * n)))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=spawn) as pool:
        batches = iter(lambda: list(itertools.islice(jobs, size)), [])
        for done in [pool.submit(write_pages, batch, site_dir) for batch in batches]:
            done.result()


def _sources(data: Path | Sequence[Path]) -> list[Path]:
    if not isinstance(data, Path):
        return list(data)
    waves = data / WAVES_FILE[0]
    return [data / name for name in REQUIRED] + ([waves] if waves.is_file() else [])


def _gather(sources: list[Path], data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for src in sources:
        dest = data_dir / src.name
        if src.is_file() and (not dest.exists() or not src.samefile(dest)):
            shutil.copyfile(src, dest)


def _design_files(study_dir: Path | None, data_dir: Path) -> tuple[str, ...]:
    copied = []
    for name, _ in DESIGN_FILES:
        dest = data_dir / name
        src = None if study_dir is None else study_dir / name
        if src is not None and src.is_file():
            if not dest.exists() or not src.samefile(dest):
                shutil.copyfile(src, dest)
            copied.append(name)
        elif dest.is_file():
            dest.unlink()  # from an earlier render with another study folder
    return tuple(copied)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site's regular files, with headers that keep pages from loading anything
    else: nothing reached through a symbolic link, and no folder listings (404 for both)."""

    def translate_path(self, path: str) -> str:
        found = super().translate_path(path)
        return found if _inside(Path(self.directory), Path(found)) else ""  # "": 404

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(http.HTTPStatus.NOT_FOUND, "File not found")

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()


def _inside(root: Path, path: Path) -> bool:
    """Whether `path` under `root` is a regular file, or a folder with a regular index.html,
    reached without following a symbolic link."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    kind = "dir"
    for part in parts:
        root = root / part
        kind = _kind(root)
        if kind not in ("dir", "file"):
            return False
    if kind == "dir":
        return _kind(root / "index.html") == "file"
    return kind == "file"


def _kind(path: Path) -> str:
    """'dir', 'file' (regular), 'other' (a link, a device...) or 'none', never following a
    symbolic link."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "none"
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def make_server(
    site_dir: Path, port: int, host: str = "127.0.0.1"
) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the site in `site_dir` (port 0: any free port)."""
    if not (site_dir / "index.html").is_file():
        raise StudyError(
            f"{site_dir}: no index.html here; write the site first with replybench report"
        )
    handler = functools.partial(_Handler, directory=str(site_dir.resolve()))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise StudyError(
            f"cannot listen on {host}:{port} ({e.strerror}); choose another port with --port"
        ) from e


def serve_site(
    site_dir: Path,
    port: int = 8000,
    *,
    host: str = "127.0.0.1",
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the site until interrupted; `ready` gets its address once it listens."""
    server = make_server(site_dir, port, host)
    with server:
        if ready is not None:
            ready(f"http://{host}:{server.server_address[1]}/")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
