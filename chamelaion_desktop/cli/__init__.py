"""``chamelaion-cli``: the Chamelaion lip-sync API from a terminal, on the same core as the app.

Run ``chamelaion-cli --help`` or ``python -m chamelaion_desktop.cli --help``. Exit status:
0 done, 1 API error, 2 bad usage or input (nothing was sent), 3 the job failed,
130 cancelled (Ctrl+C). Errors are one line on stderr, never a traceback, never the key.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..api import (
    ENV_BASE_URL,
    PRODUCTION_URL,
    APIConnectionError,
    AuthenticationError,
    ChamelaionError,
)
from ..core.credentials import ENV_API_KEY, CredentialStore, resolve_api_key
from ..core.media import MediaError, check_audio, check_video
from . import commands
from .commands import (
    EXIT_API_ERROR,
    EXIT_CANCELLED,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Context,
    UsageError,
)
from .output import Console
from .parser import PROG, build_parser

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_CANCELLED",
    "EXIT_JOB_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "main",
]

_COMMANDS: dict[str, Callable[[Context], Coroutine[Any, Any, int]]] = {
    "health": commands.health,
    "whoami": commands.whoami,
    "submit": commands.submit,
    "submit-url": commands.submit,
    "get": commands.get,
    "list": commands.list_requests,
    "download": commands.download,
}


def _is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _check_destination(path: str) -> None:
    target = Path(path)
    if target.is_dir():
        return
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"The folder {folder} does not exist: create it or choose another path.")


def _check_inputs(args: argparse.Namespace) -> None:
    """Refuse bad input before anything is sent, so no job is ever created from it.

    Raises:
        UsageError, MediaError: with one sentence for the user.
    """
    command: str = args.command
    if getattr(args, "reference_id", None) == "":
        raise UsageError("The --reference-id value is empty: give an identifier or leave it out.")
    if command in {"get", "download"} and not args.id.strip():
        raise UsageError("The request id is empty: give a request id or a reference_id.")
    if command == "submit":
        check_video(args.video)
        check_audio(args.audio)
    if command == "submit-url":
        for label, url in (("video", args.video_url), ("audio", args.audio_url)):
            if not _is_http_url(url):
                raise UsageError(
                    f"The {label} URL {url!r} is not an http(s) URL: give a public link."
                )
    if getattr(args, "output", None):
        _check_destination(args.output)
    if command == "download":
        _check_destination(args.path)
    if command == "list" and args.all and (args.limit or args.offset is not None):
        raise UsageError("--all fetches every page: leave out --limit and --offset.")


def _base_url(explicit: str | None, environ: Mapping[str, str]) -> str:
    url = (explicit or environ.get(ENV_BASE_URL) or PRODUCTION_URL).strip().rstrip("/")
    if not _is_http_url(url):
        raise UsageError(f"The base URL {url!r} is not an http(s) URL: check --base-url.")
    return url


def _run(argv: list[str] | None, environ: Mapping[str, str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error already printed (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    console = Console(as_json=args.json, quiet=args.quiet)
    try:
        base_url = _base_url(args.base_url, environ)
        _check_inputs(args)
        store = CredentialStore()
        if args.command in {"login", "logout"}:
            ctx = Context(args, base_url, console, store, "none")
            if args.command == "logout":
                return commands.logout(ctx, environ_has_key=bool(environ.get(ENV_API_KEY)))
            return asyncio.run(commands.login(ctx, commands.read_new_key(ctx)))
        needs_key = args.command != "health"
        key, source = resolve_api_key(
            args.api_key, base_url, environ=environ, store=store if needs_key else None
        )
        if needs_key and key is None:
            why = f" ({store.last_error.message.rstrip('.')})" if store.last_error else ""
            raise UsageError(
                f"No API key for {base_url}: run '{PROG} login', set {ENV_API_KEY} "
                f"or pass --api-key{why}."
            )
        ctx = Context(args, base_url, console, store, source, api_key=key)
        return asyncio.run(_COMMANDS[args.command](ctx))
    except (UsageError, MediaError) as exc:
        console.error(f"Error: {exc}")
        return EXIT_USAGE
    except ChamelaionError as exc:
        # .message, not str(): the server's words alone, as API.md documents them.
        console.error(f"Error: {exc.message}")
        if isinstance(exc, AuthenticationError):
            console.error(f"Hint: check your API key: {PROG} login")
        elif (
            isinstance(exc, APIConnectionError)
            and exc.request_sent
            and args.command in {"submit", "submit-url"}
        ):
            # The job may exist: a blind resubmission could pay for it twice.
            where = (
                f"{PROG} list --reference-id {args.reference_id}"
                if args.reference_id
                else f"{PROG} list"
            )
            console.error(f"Hint: the job may have been created; check with '{where}' first.")
        return EXIT_API_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run ``chamelaion-cli`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Console script ``chamelaion-cli`` and ``python -m chamelaion_desktop.cli``.
    """
    try:
        return _run(argv, os.environ)
    except KeyboardInterrupt:
        Console(as_json=False, quiet=False).error("Cancelled.")
        return EXIT_CANCELLED
