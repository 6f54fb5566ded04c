"""`replybench login`: credentials that a person must grant once, in a browser, before a run
(docs/going-live.md). Today: `login x STUDY`, X's OAuth 2.0 user token."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from replybench.common import ApiBase, StudyDir, err, handles_errors
from study.errors import UsageError

commands = typer.Typer(
    help="Authorise replybench on a platform once; the tokens go to the token store, never "
    "to the study folder.",
    no_args_is_help=True,
    epilog="Example: replybench login x my-study --live",
)


@commands.command(
    "x",
    epilog="Example: replybench login x my-study --live   "
    "(or --api-base http://127.0.0.1:8765 to try it on the simulator)",
)
@handles_errors
def login_x(
    study_dir: StudyDir,
    api_base: ApiBase = None,
    live: Annotated[bool, typer.Option("--live", help="Authorise on the real X (x.com).")] = False,
    port: Annotated[
        int,
        typer.Option(
            help="Port of the loopback callback, http://127.0.0.1:PORT/callback (0 picks a "
            "free one; X needs the exact callback URL registered in the app's settings)."
        ),
    ] = 0,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Only print the address; open it yourself.")
    ] = False,
    persona: Annotated[
        str | None,
        typer.Option(
            "--persona",
            help="Log in the account of this persona ([personas.NAME] on X) instead of "
            "[channels.x]'s; in the browser, be logged in to X as that account.",
        ),
    ] = None,
) -> None:
    """Authorise the study's X app for the probe account (OAuth 2.0 with PKCE) and keep the
    token pair in the token store, keyed by account; the runner refreshes it from there."""
    import webbrowser

    from probes.login import login_x as run_login

    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")

    def open_browser(url: str) -> None:
        if not no_browser:
            webbrowser.open(url)

    done = asyncio.run(
        run_login(
            study_dir,
            env=os.environ,
            api_base=api_base,
            live=live,
            open_browser=open_browser,
            say=lambda line: print(line, flush=True),
            port=port,
            persona=persona,
        )
    )
    print(f"stored the X OAuth 2.0 token of @{done.account} (valid until {done.expires_at_text})")
    err(f"token store: {done.path}")
