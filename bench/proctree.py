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


def kind_of(pid: int) -> str:
    """What process ``pid`` is, for the CPU split: "python", "driver" (Playwright's node),
    "chromium browser", "chromium renderer", "chromium zygote" (renderers it reaped are
    counted here), "chromium gpu/utility", or "other"."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    words = [a.decode(errors="replace") for a in argv if a]
    if len(words) == 1:  # Chromium rewrites its title: one string, the flags spaced
        words = words[0].split(" ")
    program = os.path.basename(words[0]) if words else ""
    if program.startswith("python"):
        return "python"
    if program == "node":
        return "driver"
    if "chrom" in program:
        kind = next((w.split("=", 1)[1] for w in words[1:] if w.startswith("--type=")), "")
        if not kind:
            return "chromium browser"
        if kind == "zygote":
            # A renderer forked by the zygote keeps the zygote's title: the zygote's child.
            fields = stat_fields(pid)
            parent = int(fields[1]) if fields else 0
            return (
                "chromium renderer" if kind_of(parent) == "chromium zygote" else "chromium zygote"
            )
        if kind == "renderer":
            return "chromium renderer"
        return "chromium gpu/utility"
    return "other"


def cpu_split(root: int) -> dict[str, float]:
    """CPU seconds of ``root`` and its live descendants by :func:`kind_of`, each process's
    own time plus its reaped children's (``root``'s reaped children under "reaped by
    python": orphans a subreaper adopted)."""
    split: dict[str, float] = {}
    for pid in tree(root):
        fields = stat_fields(pid)
        if fields is None:
            continue
        own = sum(int(value) for value in fields[11:13]) / CLOCK_TICKS
        reaped = sum(int(value) for value in fields[13:15]) / CLOCK_TICKS
        kind = kind_of(pid)
        if kind == "python" and pid != root:
            kind = "other python (the imitation)"
        split[kind] = split.get(kind, 0.0) + own
        if pid == root:
            split["reaped by python"] = split.get("reaped by python", 0.0) + reaped
        else:
            split[kind] += reaped
    return split
