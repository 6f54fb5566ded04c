"""`report --out DIR`: the site is built beside DIR and swapped in whole; files replybench did
not write are never deleted without --force, and nothing is written through a link."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from reports import render, site_folder
from reports.render import render_site
from reports.site_folder import MANIFEST
from study.errors import StudyError
from tests.reports.conftest import Site


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under `root`: a file's bytes, a link's target (links are not followed)."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture
def site(multichannel_site: Site, tmp_path: Path) -> Path:
    """A site written by replybench into tmp_path/site."""
    render_site(multichannel_site.data, tmp_path / "site", multichannel_site.study)
    return tmp_path / "site"


def test_a_rerun_replaces_exactly_what_the_last_one_wrote(
    multichannel_site: Site, site: Path
) -> None:
    listed = (site / MANIFEST).read_text(encoding="utf-8").splitlines()
    assert "index.html" in listed and "data/metrics.json" in listed
    (site / "companies" / "gone.html").write_text("a brand no longer studied", encoding="utf-8")
    with (site / MANIFEST).open("a", encoding="utf-8") as f:
        f.write("companies/gone.html\n")  # as an earlier report with that brand wrote it
    render_site(multichannel_site.data, site)  # no study folder this time
    assert not (site / "companies" / "gone.html").exists()
    assert not (site / "data" / "targets.csv").exists()
    assert (site / "index.html").is_file() and leftovers(site.parent) == []


def test_a_folder_with_files_replybench_did_not_write_is_refused(
    multichannel_site: Site, site: Path, tmp_path: Path
) -> None:
    (site / "notes.txt").write_text("mine", encoding="utf-8")
    (site / "companies" / "about.html").write_text("mine too", encoding="utf-8")
    outside = tmp_path / "outside.html"
    outside.write_text("not the site's", encoding="utf-8")
    (site / "countries" / "de.html").unlink()
    (site / "countries" / "de.html").symlink_to(outside)  # a page replaced by a link
    before = snapshot(site)
    with pytest.raises(StudyError) as raised:
        render_site(multichannel_site.data, site)
    assert str(raised.value) == (
        f"{site} holds 3 file(s) replybench did not write (companies/about.html, "
        "countries/de.html, notes.txt); choose a new or empty folder for --out, or add "
        "--force to replace the folder and everything in it"
    )
    assert snapshot(site) == before and leftovers(tmp_path) == []
    render_site(multichannel_site.data, site, force=True)
    assert not (site / "notes.txt").exists() and not (site / "countries" / "de.html").is_symlink()
    assert outside.read_text(encoding="utf-8") == "not the site's"  # never written through


def test_a_folder_that_is_a_link_or_holds_the_study_is_refused_even_with_force(
    multichannel_site: Site, site: Path, tmp_path: Path
) -> None:
    link = tmp_path / "published"
    link.symlink_to(site)
    with pytest.raises(StudyError, match="is a symbolic link; give the folder itself"):
        render_site(multichannel_site.data, link, force=True)
    study = multichannel_site.study
    with pytest.raises(StudyError, match=f"holds {study}, which a site must not replace"):
        render_site(multichannel_site.data, study.parent, study, force=True)


def test_a_full_disk_leaves_the_old_site_whole(
    multichannel_site: Site, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(site)
    written: list[Path] = []

    def fill(path: Path, data: bytes) -> None:
        if len(written) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        path.write_bytes(data)

    monkeypatch.setattr(render, "_write", fill)
    with pytest.raises(StudyError) as raised:
        render_site(multichannel_site.data, site, multichannel_site.study, workers=1)
    message = str(raised.value)
    assert message.startswith(f"{site}: could not write the site: No space left on device (")
    assert message.endswith("; the folder is unchanged: free some space or fix the permissions "
                            "and run again")  # fmt: skip
    assert snapshot(site) == before and leftovers(site.parent) == []


def test_a_swap_that_fails_half_way_puts_the_old_site_back(
    multichannel_site: Site, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(site)
    renames: list[tuple[Path, Path]] = []

    def second_fails(src: Path, dst: Path) -> None:
        renames.append((src, dst))
        if len(renames) == 2:  # the old site is aside, the new one not yet in place
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        os.rename(src, dst)

    monkeypatch.setattr(site_folder, "rename", second_fails)
    with pytest.raises(StudyError, match="could not write the site: Input/output error"):
        render_site(multichannel_site.data, site, multichannel_site.study)
    assert renames[0][0] == renames[1][1] == renames[2][1] == site
    assert snapshot(site) == before and leftovers(site.parent) == []


def test_an_old_copy_that_cannot_be_removed_is_named_in_one_warning(
    multichannel_site: Site,
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(site_folder, "remove", lambda folder: None)  # e.g. a busy NFS file
    render_site(multichannel_site.data, site, multichannel_site.study)
    [old] = [site.parent / name for name in leftovers(site.parent)]
    assert old.name.startswith(".site.replybench-old-") and (old / "index.html").is_file()
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"the new site is in {site}, but its old copy could not be removed: delete the folder {old}"
    ]
    assert (site / MANIFEST).is_file()
