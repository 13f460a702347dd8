"""Rows and markdown tables of the benchmark suite."""
from __future__ import annotations

__all__ = ["row", "markdown"]


def row(workload, impl, metric, value, **extra):
    """One result of the table."""
    return dict(workload=workload, impl=impl, metric=metric, value=value, **extra)


def markdown(rows, header: str) -> str:
    """The rows as a markdown table under ``header``."""
    lines = [header, "", "| workload | implementation | metric | value | notes |",
             "|---|---|---|---|---|"]
    for entry in rows:
        notes = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in entry.items() if k not in ("workload", "impl", "metric",
                                                                "value"))
        lines.append(f"| {entry['workload']} | {entry['impl']} | {entry['metric']} | "
                     f"{entry['value']:.4g} | {notes} |")
    return "\n".join(lines) + "\n"
