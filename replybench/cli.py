"""The `replybench` command: the app, its --version, and the groups of commands, one module
each (`replybench/cmd_*.py`). Each command parses its options, makes one library call, and
turns a `StudyError` into `Error: ...` and exit code 1 (2 for a `UsageError`: bad usage; see
`replybench.common.handles_errors`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from replybench import cmd_campaign, cmd_imports, cmd_login, cmd_merge, cmd_results, cmd_study
from replybench.cmd_campaign import bare_confirm

app = typer.Typer(
    name="replybench",
    help="Responsiveness benchmarking studies: plan, probe, analyse and publish who answers, "
    "how fast and how well.\n\nStart with: replybench demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# Added without a name, a group's commands become the app's own (`replybench plan`, not
# `replybench study plan`), listed in this order: design, run, bring in, results.
for group in (cmd_study, cmd_campaign, cmd_merge, cmd_imports, cmd_results):
    app.add_typer(group.commands)
app.add_typer(cmd_login.commands, name="login")  # `replybench login x STUDY`


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        print(f"replybench {version('replybench')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    # The app's help (Typer(help=...)) describes the command; this only adds --version.
    pass


def main() -> None:
    app(args=bare_confirm(sys.argv[1:]))
