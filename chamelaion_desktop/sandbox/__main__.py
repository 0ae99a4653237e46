"""``python -m chamelaion_desktop.sandbox`` / ``chamelaion-sandbox``: serve until a signal.

Prints exactly one line on stdout, ``Chamelaion sandbox listening on <base_url>``, once the
port is bound (and ``--seed``/``--seed-active`` jobs are stored); SIGINT or SIGTERM stop it
cleanly with exit status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from .config import Faults, SandboxConfig
from .server import Sandbox


def _parse_key(value: str) -> tuple[str, str]:
    token, sep, name = value.partition("=")
    if not token:
        raise argparse.ArgumentTypeError("an API key must not be empty")
    return token, (name if sep and name else "Sandbox")


def build_parser() -> argparse.ArgumentParser:
    """The command line; see ``--help``."""
    defaults = SandboxConfig(data_dir=Path("."))
    parser = argparse.ArgumentParser(
        prog="chamelaion-sandbox",
        description="A local server that speaks the Chamelaion lip-sync API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".sandbox-data"), help="jobs, uploads, outputs"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        type=_parse_key,
        metavar="KEY[=NAME]",
        help="accepted token, optionally with its display name; repeatable (sandbox-key)",
    )
    parser.add_argument("--quota", type=int, default=defaults.quota, help="jobs per key")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=defaults.rate_limit,
        help="generation requests per minute per key; 0 = off",
    )
    parser.add_argument("--queue-delay", type=float, default=defaults.queue_delay, help="seconds")
    parser.add_argument(
        "--processing-time", type=float, default=defaults.processing_time, help="seconds"
    )
    parser.add_argument("--url-ttl", type=float, default=defaults.url_ttl, help="seconds")
    parser.add_argument(
        "--max-upload-bytes", type=int, default=defaults.max_upload_bytes, help="bytes"
    )
    parser.add_argument(
        "--fetch-timeout", type=float, default=defaults.fetch_timeout, help="seconds"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="share 0..1 of requests answered 500"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="add N finished jobs to the first key's history at start (benchmarks, demos)",
    )
    parser.add_argument(
        "--seed-active",
        type=int,
        default=0,
        metavar="N",
        help="and N jobs that run to completion over queue-delay + processing-time seconds",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """A ``SandboxConfig`` from parsed arguments."""
    keys = dict(args.api_key) if args.api_key else {"sandbox-key": "Sandbox"}
    return SandboxConfig(
        data_dir=args.data_dir,
        api_keys=keys,
        quota=args.quota,
        rate_limit=args.rate_limit,
        queue_delay=args.queue_delay,
        processing_time=args.processing_time,
        url_ttl=args.url_ttl,
        max_upload_bytes=args.max_upload_bytes,
        fetch_timeout=args.fetch_timeout,
        faults=Faults(latency=args.latency, error_rate=args.error_rate),
    )


async def serve(
    config: SandboxConfig, host: str, port: int, seed: int = 0, seed_active: int = 0
) -> None:
    """Run a sandbox until SIGINT or SIGTERM; prints the listening line once bound and,
    when ``seed`` or ``seed_active`` is set, once those jobs are stored (``seed_jobs``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with Sandbox(config, host=host, port=port) as sandbox:
            if seed or seed_active:
                await sandbox.seed_jobs(seed, seed_active)
            print(f"Chamelaion sandbox listening on {sandbox.base_url}", flush=True)
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 after a clean stop, 1 if startup failed)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.seed < 0 or args.seed_active < 0:
        parser.error("--seed and --seed-active must not be negative")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(
            serve(config_from_args(args), args.host, args.port, args.seed, args.seed_active)
        )
    except OSError as exc:
        print(f"chamelaion-sandbox: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
