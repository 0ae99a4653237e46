"""What each ``chamelaion-cli`` subcommand does, against ``ChamelaionClient``.

Every command returns its exit status; API errors propagate to ``cli.main`` which prints
them. Local inputs were already checked (``cli.main``) before any of these runs, so a bad
file never creates a job.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..api import (
    COMPLETED,
    FAILED,
    AuthenticationError,
    ChamelaionClient,
    LipsyncGenerate,
    LipsyncRequest,
    Pagination,
    RequestPage,
)
from ..core.credentials import CredentialStore, CredentialStoreError, KeySource
from .output import Console, page_to_json, request_details, request_to_json, requests_table

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_CANCELLED = 130


class UsageError(Exception):
    """Bad usage or input, found before anything was sent: exit status 2, one sentence."""


@dataclass(frozen=True)
class Context:
    """What every command needs: where the API is, which key, how to print.

    ``api_key`` never reaches ``repr`` (the field is excluded) or any output.
    """

    args: argparse.Namespace
    base_url: str
    console: Console
    store: CredentialStore
    key_source: KeySource
    api_key: str | None = None

    def __repr__(self) -> str:
        return f"Context(base_url={self.base_url!r}, key_source={self.key_source!r})"

    def client(self, api_key: str | None = None) -> ChamelaionClient:
        """A client for ``base_url`` with ``api_key`` (default: the resolved key)."""
        return ChamelaionClient(api_key or self.api_key or "", base_url=self.base_url)


def _key_origin(ctx: Context) -> str:
    return {
        "argument": "--api-key",
        "environment": "CHAMELAION_API_KEY",
        "keychain": ctx.store.backend_name,
    }.get(ctx.key_source, "nowhere")


async def health(ctx: Context) -> int:
    """``GET /health``: exit 0 when the service says ``ok``."""
    async with ctx.client() as client:
        state = await client.health()
    ctx.console.result(
        {"status": state.status, "base_url": ctx.base_url},
        f"{ctx.base_url} is up (status: {state.status}).",
    )
    if not state.ok:
        ctx.console.error(f"Error: the service reports status {state.status!r}, not 'ok'.")
        return EXIT_API_ERROR
    return EXIT_OK


async def whoami(ctx: Context) -> int:
    """``GET /v1/users/me``: the display name of the key in use, and where the key came from."""
    async with ctx.client() as client:
        user = await client.whoami()
    ctx.console.result(
        {"name": user.name, "base_url": ctx.base_url, "key_source": ctx.key_source},
        f"{user.name} at {ctx.base_url} (key from {_key_origin(ctx)}).",
    )
    return EXIT_OK


async def submit(ctx: Context) -> int:
    """``POST generate-with-media`` (``submit``) or ``POST generate`` (``submit-url``),
    then optionally wait for the job and save its output."""
    args = ctx.args
    # None leaves the API's default (detection on) rather than sending an explicit false.
    disable: bool | None = True if args.disable_active_speaker_detection else None
    reference_id: str | None = args.reference_id or None
    async with ctx.client() as client:
        if args.command == "submit":
            with ctx.console.progress("Uploading") as bar:
                answer = await client.generate_with_media(
                    args.video,
                    args.audio,
                    disable_active_speaker_detection=disable,
                    reference_id=reference_id,
                    progress=bar,
                )
        else:
            answer = await client.generate(
                args.video_url,
                args.audio_url,
                disable_active_speaker_detection=disable,
                reference_id=reference_id,
            )
        if not (args.wait or args.output):
            _print_submitted(ctx, answer)
            return EXIT_OK
        ctx.console.note(f"Submitted request {answer.request_id}; waiting for it to finish.")
        request = await client.wait_for(
            answer.request_id,
            poll_interval=args.poll_interval,
            on_update=lambda r: ctx.console.note(
                f"{time.strftime('%H:%M:%S')}  {r.id}  {r.status}"
            ),
        )
        saved: Path | None = None
        if request.status == COMPLETED and args.output:
            saved = await _download(ctx, client, request, Path(args.output))
    return _report_finished(ctx, request, saved)


def _print_submitted(ctx: Context, answer: LipsyncGenerate) -> None:
    reference = f" (reference_id {ctx.args.reference_id})" if ctx.args.reference_id else ""
    ctx.console.result(
        {"status": answer.status, "request_id": answer.request_id},
        f"Submitted request {answer.request_id}{reference}.",
    )


def _report_finished(ctx: Context, request: LipsyncRequest, saved: Path | None) -> int:
    data = request_to_json(request)
    data["output_path"] = str(saved) if saved else None
    lines = [f"Request {request.id} {request.status}."]
    if request.processing_seconds is not None:
        lines[0] = f"Request {request.id} {request.status} in {request.processing_seconds:.1f} s."
    if saved:
        lines.append(f"Saved the result to {saved}.")
    elif request.output_url:
        lines.append(f"Output: {request.output_url}")
    ctx.console.result(data, "\n".join(lines) if request.status != FAILED else "")
    if request.status == FAILED:
        ctx.console.error(
            f"Error: request {request.id} failed: {request.error_message or 'no reason given'}."
        )
        return EXIT_JOB_FAILED
    return EXIT_OK


async def _download(
    ctx: Context, client: ChamelaionClient, request: LipsyncRequest, destination: Path
) -> Path:
    with ctx.console.progress("Downloading") as bar:
        return await client.download_output(request, destination, progress=bar)


async def get(ctx: Context) -> int:
    """``GET /v1/lipsync/requests/{id}``: one request, by request id or reference_id."""
    async with ctx.client() as client:
        request = await client.get_request(ctx.args.id)
    ctx.console.result(request_to_json(request), request_details(request))
    return EXIT_OK


async def list_requests(ctx: Context) -> int:
    """``GET /v1/lipsync/requests``: one page, or every page with ``--all``."""
    args = ctx.args
    async with ctx.client() as client:
        if args.all:
            found = [r async for r in client.iter_requests(reference_id=args.reference_id)]
            page = RequestPage(tuple(found), Pagination(len(found), 0, len(found)))
        else:
            page = await client.list_requests(
                limit=args.limit, offset=args.offset, reference_id=args.reference_id
            )
    total, first = page.pagination.total, page.pagination.offset + 1
    if page.data:
        footer = f"Requests {first} to {first + len(page.data) - 1} of {total}."
        if page.next_offset is not None:
            footer += f" More: --offset {page.next_offset}."
        text = f"{requests_table(page.data)}\n{footer}"
    else:
        text = f"No requests (total: {total})."
    ctx.console.result(page_to_json(page), text)
    return EXIT_OK


async def download(ctx: Context) -> int:
    """Save the output of a completed request; exit 3 if the job failed."""
    async with ctx.client() as client:
        request = await client.get_request(ctx.args.id)
        if request.status == FAILED:
            ctx.console.error(
                f"Error: request {request.id} failed, there is no output: "
                f"{request.error_message or 'no reason given'}."
            )
            return EXIT_JOB_FAILED
        if request.status != COMPLETED:
            ctx.console.error(
                f"Error: request {request.id} is {request.status}, not completed yet: "
                "try again later."
            )
            return EXIT_API_ERROR
        saved = await _download(ctx, client, request, Path(ctx.args.path))
    size = saved.stat().st_size
    ctx.console.result(
        {"request_id": request.id, "output_path": str(saved), "size_bytes": size},
        f"Saved {saved} ({size} bytes).",
    )
    return EXIT_OK


def read_new_key(ctx: Context) -> str:
    """The key to log in with: ``--api-key``, else a hidden prompt, else a line of stdin."""
    if ctx.args.api_key:
        return str(ctx.args.api_key).strip()
    if sys.stdin is not None and sys.stdin.isatty():
        key = getpass.getpass(f"API key for {ctx.base_url}: ")
    else:
        key = sys.stdin.readline() if sys.stdin is not None else ""
    if not key.strip():
        raise UsageError("No API key was given: paste the key at the prompt or on stdin.")
    return key.strip()


async def login(ctx: Context, key: str) -> int:
    """Check ``key`` with ``GET /v1/users/me``, then save it in the keychain."""
    async with ctx.client(key) as client:
        try:
            user = await client.whoami()
        except AuthenticationError as exc:
            ctx.console.error(
                f"Error: the server refused this key: {exc.message}. Nothing was saved."
            )
            return EXIT_API_ERROR
    try:
        await asyncio.to_thread(ctx.store.set, ctx.base_url, key)
    except CredentialStoreError as exc:
        ctx.console.error(f"Error: {exc.message}")
        return EXIT_API_ERROR
    where = ctx.store.backend_name
    ctx.console.result(
        {"name": user.name, "base_url": ctx.base_url, "backend": where},
        f"Saved the key of {user.name} for {ctx.base_url} in {where}.",
    )
    return EXIT_OK


def logout(ctx: Context, environ_has_key: bool) -> int:
    """Remove the keychain entry of ``base_url``; say if the environment still holds a key."""
    try:
        removed = ctx.store.delete(ctx.base_url)
    except CredentialStoreError as exc:
        ctx.console.error(f"Error: {exc.message}")
        return EXIT_API_ERROR
    where = ctx.store.backend_name
    text = (
        f"Removed the key for {ctx.base_url} from {where}."
        if removed
        else f"No key was saved for {ctx.base_url} in {where}."
    )
    ctx.console.result({"base_url": ctx.base_url, "removed": removed, "backend": where}, text)
    if environ_has_key:
        ctx.console.note("CHAMELAION_API_KEY is still set in this environment.")
    return EXIT_OK
