"""How busy the machine is: the reading graphc's pool checks before it splits work
(graphc.runtime.threads). /proc/stat's busy ticks since the last reading, where Linux has
it, else the 1-minute load average; and this process's own CPU seconds, which the pool
takes off the machine's busy cores (its own use is no other process's load).

Example:
    >>> busy = BusyCores()
    >>> busy()   # the load average on the first call, then the cores busy since the last
    0.4
"""
from __future__ import annotations

import os

__all__ = ["BusyCores", "load_average", "process_cpu_seconds"]


def process_cpu_seconds() -> float:
    """User and system CPU seconds of every thread of this process so far."""
    times = os.times()
    return times.user + times.system


class BusyCores:
    """How many of the machine's cores were busy since the last call (Linux: /proc/stat's
    ticks; steal counts as busy, the cores being lent elsewhere); where /proc/stat cannot
    be read, and on the first call, the 1-minute load average."""

    def __init__(self, path: str = "/proc/stat"):
        self._path = path
        self._last = None  # (busy ticks, all ticks) at the last call

    def _ticks(self):
        try:
            with open(self._path, "rb") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal (guest time is inside user)
        idle = sum(fields[3:5])
        return sum(fields[:8]) - idle, sum(fields[:8])

    def __call__(self) -> float:
        ticks, last = self._ticks(), self._last
        self._last = ticks
        if ticks is None or last is None or ticks[1] <= last[1]:
            return load_average()
        cores = os.cpu_count() or 1
        return cores * (ticks[0] - last[0]) / (ticks[1] - last[1])


def load_average() -> float:
    """The 1-minute load average (0 where the system has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not available: assume idle cores
        return 0.0
