"""Analysis of a study's journal in DuckDB: outcomes, censored response statistics, exports.

Public API (each reads `study_dir/journal/journal.sqlite`; `as_of` defaults to the
journal's last observation):

- `outcomes(study_dir, as_of=None) -> DataFrame`: one row per sent probe, its first
  response or censoring (analysis/sql/outcomes.sql).
- `metrics(study_dir, as_of=None) -> DataFrame`: every group's response statistics.
- `km_curves(study_dir, as_of=None) -> DataFrame`: each brand's Kaplan-Meier step curve.
- `analyze(study_dir, as_of=None) -> dict`: all of it plus the brand comparisons, JSON-ready.
- `parse_as_of(text) -> datetime`: an as-of time from the command line.

The names are bound here eagerly, so `analysis.outcomes` is the function even though a
module of that name exists (import from `analysis.outcomes` for the module's insides).
"""

from analysis.analyze import analyze
from analysis.metrics import km_curves, metrics
from analysis.outcomes import outcomes, parse_as_of

__all__ = ["analyze", "km_curves", "metrics", "outcomes", "parse_as_of"]
