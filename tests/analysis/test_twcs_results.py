"""import-twcs and analyze give the very results of the code before they were made fast.

The digests were computed by the code of main at 9b5aaea, without this work (Python regular
expressions and `executemany` in import-twcs, the journal read row by row, the bootstrap
measured over every cell), on the same inputs: every row of the journal's probes, replies,
meta and events in insertion order, and `analyze`'s JSON (200 bootstrap replicates). The
same comparison at full size (2.8 million tweets, 1,000 replicates) is reported in
benchmarks/RESULTS.md. A deliberate change of the import's or the analysis's rules changes
them: recompute them then.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from analysis.analyze import analyze
from analysis.compare import BrandSample, bootstrap_ranks, ranks_of, restricted_means
from analysis.twcs import import_twcs
from benchmarks.twcs_corpus import write_corpus
from study.journal.tables import open_journal

SMALL = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "analysis" / "twcs_small.csv"
PINNED = {
    "twcs_small.csv": (
        "e3fb136a7774ad6d4e06d600c6a5f249a5300dd552e865e0a805eeb550766859",
        "ca683067fdfb946898bafcceee6e13e696ded14d0f91e88d57b314d67012f5cb",
    ),
    "c.csv": (
        "5ce191ba7b725c03f0033431730217a0ac7f2b3c4b8e48268377b55c20752361",
        "ed29b89dbef89da43e083aeb354e81423922071f4cd98244f1e10b5e91c57f81",
    ),
}


def journal_digest(journal: Path) -> str:
    # Through the journal's owner: an imported corpus's probes and replies are in Parquet
    # files beside journal.sqlite (study.journal.corpus), read back in their order.
    con = open_journal(journal.parent.parent)
    try:
        h = hashlib.sha256()
        for table in ("probes", "replies", "meta", "events"):
            # The persona columns came after the pin; an import leaves them empty.
            columns = [
                str(r[1])
                for r in con.execute(f"PRAGMA table_info({table})")
                if r[1] not in ("persona", "followers")
            ]
            for row in con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        con.close()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_journal_and_analysis_are_those_of_the_old_code(tmp_path: Path, name: str) -> None:
    csv = tmp_path / name
    if name == "c.csv":  # the generated corpus
        write_corpus(csv, 30_000, brands=12, seed=7)
    else:
        csv.write_bytes(SMALL.read_bytes())
    study = tmp_path / name.removesuffix(".csv") / "corpus"  # the study name is "corpus"
    summary = import_twcs(csv, study)
    result = json.dumps(analyze(study, replicates=200), sort_keys=True)
    assert (journal_digest(summary.journal), hashlib.sha256(result.encode()).hexdigest()) == (
        PINNED[name]
    )


def test_the_bootstrap_is_the_plain_resampling_of_each_brand() -> None:
    """Brand by brand, batches of index rows from one generator; each resample sorted and
    measured with `restricted_means` gives the same ranks."""
    rng = np.random.default_rng(4)
    samples = []
    for name, n, scale in (("a", 40, 3.0), ("b", 700, 5.0), ("c", 300_000, 6.0)):
        d = np.minimum(np.round(rng.exponential(scale, n) * 3600) / 3600, 72.0)
        o = (d < 72.0) & (rng.random(n) < 0.9)
        order = np.lexsort((~o, d))
        samples.append(BrandSample(name, d[order], o[order]))
    got = bootstrap_ranks(samples, 72.0, 6, seed=8)
    draw = np.random.default_rng(8)
    rmst, rate = np.empty((6, 3)), np.empty((6, 3))
    for k, s in enumerate(samples):
        n = len(s.durations)
        step = max(1, 250_000 // n)
        for lo in range(0, 6, step):
            idx = np.sort(draw.integers(0, n, size=(min(6, lo + step) - lo, n)), axis=1)
            rmst[lo : lo + step, k] = restricted_means(s.durations[idx], s.observed[idx], 72.0)
            rate[lo : lo + step, k] = s.observed[idx].mean(axis=1)
    assert np.array_equal(got, ranks_of(rmst, rate))
