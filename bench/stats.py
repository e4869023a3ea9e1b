"""Percentiles and memory, measured the same way by every part."""

import os
from pathlib import Path


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds (nearest rank), with the sample count so a reader can judge p99."""
    ordered = sorted(seconds)

    def rank(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1000

    return {"p50_ms": round(rank(0.50), 3), "p99_ms": round(rank(0.99), 3), "samples": len(ordered)}


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (VmHWM). Not getrusage's ru_maxrss: Linux carries that
    across exec, so a child would report its parent's peak."""
    status = Path(f"/proc/{pid}/status").read_text()
    return round(next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024, 1)


def process_usage(pid: int) -> dict[str, float]:
    """Peak RSS and CPU seconds of a running child, read from /proc before it exits."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_ticks = int(fields[11]) + int(fields[12])  # utime and stime
    return {"peak_rss_mb": peak_rss_mb(pid), "cpu_s": round(cpu_ticks / os.sysconf("SC_CLK_TCK"), 2)}


def machine_busy_s() -> float:
    """CPU seconds spent on all cores, every process included (PostgreSQL, the load generator),
    from /proc/stat: whether the machine, not one process, was the limit."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(n) for n in Path("/proc/stat").read_text()
                                                              .split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
