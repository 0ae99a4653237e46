"""The command line of ``chamelaion-cli``: subcommands, options and one-line usage errors."""

from __future__ import annotations

import argparse
from typing import NoReturn

PROG = "chamelaion-cli"

_DESCRIPTION = (
    "Lip-sync a video to a new audio track with the Chamelaion API. The API key comes from "
    "--api-key, else CHAMELAION_API_KEY, else the keychain (see 'login')."
)
_EPILOG = "Exit status: 0 done, 1 API error, 2 bad usage or input, 3 the job failed, 130 cancelled."


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one plain line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"Error: {message} (see '{self.prog} --help').\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is too small, it must be 1 or more")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative, it must be 0 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options accepted before and after the subcommand.

    After the subcommand they default to ``SUPPRESS`` so that, when absent there, they do
    not overwrite what was given before it.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default(None),
        help="API base URL (default: CHAMELAION_BASE_URL, else https://api.chamelaion.com/api)",
    )
    group.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(None),
        help="API key (default: CHAMELAION_API_KEY, else the keychain)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the result as one JSON document on stdout",
    )
    group.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=default(False),
        help="no progress bars or status updates on stderr",
    )


def _add_job_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference-id", metavar="ID", help="your identifier for the job")
    parser.add_argument(
        "--no-active-speaker-detection",
        dest="disable_active_speaker_detection",
        action="store_true",
        help="use max-face preprocessing (faster; for single-speaker videos)",
    )
    parser.add_argument("--wait", action="store_true", help="poll until the job completes or fails")
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="save the result here when done (implies --wait); a folder gets <id>.mp4",
    )
    parser.add_argument(
        "--poll-interval",
        metavar="SECONDS",
        type=_seconds,
        default=2.0,
        help="seconds between status checks with --wait (default: 2)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full ``chamelaion-cli`` parser; ``args.command`` names the subcommand."""
    parser = _Parser(prog=PROG, description=_DESCRIPTION, epilog=_EPILOG)
    _add_global_options(parser, suppress=False)
    common = _Parser(add_help=False)
    _add_global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help_text, description=help_text, parents=[common], epilog=_EPILOG
        )

    submit = command("submit", "upload a local video and audio file and start a lip-sync job")
    submit.add_argument("video", metavar="VIDEO", help="the video file (MP4)")
    submit.add_argument("audio", metavar="AUDIO", help="the audio file (WAV or MP3)")
    _add_job_options(submit)

    submit_url = command("submit-url", "start a lip-sync job from a public video and audio URL")
    submit_url.add_argument("video_url", metavar="VIDEO_URL", help="http(s) URL of an MP4 video")
    submit_url.add_argument("audio_url", metavar="AUDIO_URL", help="http(s) URL of a WAV/MP3")
    _add_job_options(submit_url)

    get = command("get", "show one request, by request id or reference_id")
    get.add_argument("id", metavar="ID", help="a request id or a reference_id")

    listing = command("list", "list requests, newest first")
    listing.add_argument("--limit", type=_positive_int, metavar="N", help="page size")
    listing.add_argument("--offset", type=_non_negative_int, metavar="N", help="skip N requests")
    listing.add_argument("--reference-id", metavar="ID", help="only requests with this id")
    listing.add_argument("--all", action="store_true", help="fetch every page")

    download = command("download", "save the output video of a completed request")
    download.add_argument("id", metavar="ID", help="a request id or a reference_id")
    download.add_argument("path", metavar="PATH", help="file to write, or an existing folder")

    command("whoami", "show the name of the API key in use")
    command("health", "check that the service answers")
    command("login", "check an API key and save it in the keychain for this base URL")
    command("logout", "remove the saved API key of this base URL from the keychain")
    return parser
