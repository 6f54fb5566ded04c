"""What every command module shares: the options several commands take, the console, and
the one place that turns a researcher's error into `Error: ...` and an exit code."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from study.errors import StudyError, StudyProblems, UsageError

F = TypeVar("F", bound=Callable[..., Any])

StudyDir = Annotated[Path, typer.Argument(help="The study folder.", show_default=False)]
ApiBase = Annotated[
    str | None, typer.Option(help="API base URL; overrides study.toml (e.g. the simulator).")
]
# The rank intervals' bootstrap (analysis.compare.REPLICATES and SEED, kept in step by a test).
Replicates = Annotated[
    int,
    typer.Option(
        help="Bootstrap replicates for the 95% rank intervals (at least 100; 10000 for a final "
        "publication).",
    ),
]
Seed = Annotated[
    int, typer.Option(help="Seed of the bootstrap: the same seed gives the same intervals.")
]


def checked_replicates(n: int) -> int:
    """--replicates, refused below 100 as bad usage."""
    if n < 100:
        raise UsageError(
            f"--replicates must be at least 100, not {n}: fewer give unstable 95% intervals"
        )
    return n


def wide_console() -> Any:
    """A rich console as wide as the terminal, or 160 columns when writing to a file or pipe
    (rich would fold the tables to 80)."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def err(line: str) -> None:
    print(line, file=sys.stderr)


def write_json(path: Path, result: dict[str, Any]) -> None:
    """Write a command's full results as JSON (whole or not at all), and say so."""
    from study.atomic import write_atomic

    text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"))
    print(f"wrote {path}")


STUDY_FILES = ("study.toml", "targets.csv", "scripts.csv", "simulator.toml")


def _show_problems(problems: StudyProblems, study_dir: Path | None) -> None:
    for p in problems.problems:
        where = p.file
        if study_dir is not None and where in STUDY_FILES:
            where = str(study_dir / where)  # the study's own files are named within it
        err(f"{where}:{p.line}: {p.message}" if p.line is not None else f"{where}: {p.message}")


def handles_errors(fn: F) -> F:
    """Turn a researcher's error into `Error: ...` and exit 1 (2 for bad usage, as for the
    usage errors the option parser finds); bugs stay tracebacks."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StudyProblems as e:
            d = kwargs.get("study_dir")
            _show_problems(e, d if isinstance(d, Path) else None)
            n = len(e.problems)
            err(f"Error: {n} problem{'s' if n != 1 else ''} found; fix them and run again")
            raise typer.Exit(1) from None
        except UsageError as e:
            err(f"Error: {e}")
            raise typer.Exit(2) from None
        except StudyError as e:
            err(f"Error: {e}")
            raise typer.Exit(1) from None
        except OSError as e:
            from study.journal.file import environment_error

            if not environment_error(e):
                raise
            where = f"{e.filename}: " if e.filename else ""
            err(
                f"Error: {where}{e.strerror or e}; free some disk space or fix the permissions, "
                "then run the same command again"
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def steps(console: Any = None) -> Iterator[Callable[[str], None]]:
    """A callback that shows the step a long command is at ("pairing inquiries and
    responses") as a spinner on standard error while the command runs, when that is a
    terminal; elsewhere (a pipe, a log file, a test) it shows nothing."""
    from rich.console import Console

    out = console if console is not None else Console(stderr=True)
    if not out.is_terminal:
        yield lambda _: None
        return
    with out.status("") as status:
        yield lambda text: status.update(f"{text} ...")
