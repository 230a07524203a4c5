"""A process and its descendants, read from /proc: CPU seconds and proportional set size.

``os.wait4`` only reports a child once it is reaped; a daemon's Playwright driver and
Chromium processes live as long as it does, so the benchmarks read them while they run.
PSS (``/proc/PID/smaps_rollup``) shares each page among the processes that map it, so the
sum over a tree does not count Chromium's shared libraries once per process as RSS would.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return text[text.rindex(")") + 2 :].split()


def tree(root: int) -> list[int]:
    """``root`` and every live descendant."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its live descendants, reaped children included."""
    total = 0
    for pid in tree(root):
        fields = stat_fields(pid)
        if fields is not None:  # utime, stime, cutime, cstime: fields 14-17, index 11-14 here
            total += sum(int(value) for value in fields[11:15])
    return total / CLOCK_TICKS


def pss_of(pid: int) -> int:
    """Proportional set size of the one process ``pid`` in bytes (0 once it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def rollup(pid: int) -> dict[str, int]:
    """The byte counts of ``/proc/PID/smaps_rollup`` (Pss, Pss_Anon, Pss_File, …); {} once gone."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines[1:]:  # the first line is the address range
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            found[name] = int(value.split()[0]) * 1024
    return found


def pss_bytes(root: int) -> int:
    """Proportional set size of ``root`` and its live descendants."""
    return sum(pss_of(pid) for pid in tree(root))
