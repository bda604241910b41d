"""docs/benchmarks.md is written by the benchmark scripts: each writes its table between its own markers.

A script's text replaces what the file holds between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``; the markers are put into the document once, by hand, and a
file without them is left alone (the script says so). Every script that writes
takes ``--no-write`` (only print) and ``--section NAME`` (other markers), and
states in its text the command that ran and the day it ran.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_between_markers(path: Path, markers: tuple[str, str], text: str) -> bool:
    """Replace what ``path`` holds between ``markers`` with ``text``; False, and nothing written, when it lacks them."""
    content = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = content.find(markers[0]), content.find(markers[1])
    if start < 0 or end < start:
        return False
    start += len(markers[0])
    path.write_text(content[:start] + "\n" + text.strip("\n") + "\n" + content[end:], encoding="utf-8")
    return True


def add_write_options(parser: argparse.ArgumentParser, section: str | None, default_help: str | None = None) -> None:
    """``--no-write`` and ``--section``; ``section`` None means the script picks it after parsing (``default_help`` says how)."""
    parser.add_argument("--no-write", action="store_true", help=f"only print; leave {BENCHMARKS.relative_to(ROOT)} as it is")
    parser.add_argument(
        "--section",
        default=section,
        metavar="NAME",
        help=f"write between <!-- NAME:start --> and <!-- NAME:end --> of {BENCHMARKS.relative_to(ROOT)} (default: {default_help or section})",
    )


def command() -> str:
    """The command line that ran this script, as the document shows it."""
    return " ".join(["python", f"scripts/{Path(sys.argv[0]).name}", *(shlex.quote(a) for a in sys.argv[1:])])


def today() -> str:
    return datetime.date.today().isoformat()


def publish(args: argparse.Namespace, text: str, path: Path = BENCHMARKS) -> None:
    """Write ``text`` between the markers of ``args.section`` unless ``--no-write``; say where it went."""
    if args.no_write:
        return
    pair = markers(args.section)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if write_between_markers(path, pair, text):
        print(f"written into {shown} between {pair[0]} and {pair[1]}", file=sys.stderr)
    else:
        print(f"note: {shown} has no {pair[0]} … {pair[1]}; nothing written (put the markers in once)", file=sys.stderr)
