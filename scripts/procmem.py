"""A process's memory as Linux reports it in /proc: one reader for every benchmark script.

Peak RSS is VmHWM, never getrusage's ru_maxrss: Linux carries ru_maxrss across
fork and exec, so a measuring child would report the peak of the parent that
started it (an index grown, a corpus read).
"""

from __future__ import annotations

import resource
from pathlib import Path

SELF = Path("/proc/self/status")


def status_gb(fields: tuple[str, ...] = ("VmHWM",), status: Path = SELF) -> dict[str, float]:
    """The named ``kB`` fields of a process's status file (VmHWM, VmRSS, RssAnon, RssFile…), in GB."""
    found = {}
    for line in status.read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            found[key] = int(value.split()[0]) / 2**20
    return found


def peak_gb(status: Path = SELF) -> float:
    """A process's peak RSS in GB; for this process, ru_maxrss where there is no /proc (not Linux)."""
    if status == SELF and not status.exists():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return status_gb(("VmHWM",), status)["VmHWM"]
