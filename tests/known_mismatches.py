"""Mismatch classes of the differential suite whose fixes are under way on other branches.

``test_differential.py`` tolerates a mismatch only when an entry below explains it (each
has a minimal repro test there, marked ``xfail(strict=True)`` with the same branch). When a
branch is merged, delete its entries here and its xfail marks there: any mismatch of the
class that remains then fails the suite with a shrunk repro.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from tests import differential


@dataclasses.dataclass(frozen=True)
class Known:
    branch: str
    summary: str
    explains: Callable  # (recipe, mismatch) -> bool


def _engine_dependent(recipe, mismatch) -> bool:
    """The same mode with every fused node on the NumPy engine has no such mismatch."""
    if mismatch.kind != "value" or mismatch.mode == "unoptimized":
        return False
    mode = "exact" if mismatch.mode == "loops" else mismatch.mode
    calls = max(mismatch.call + 1, differential.calls_for(mode))
    again = differential.check(recipe, (mode,), calls=calls, fused_engine="numpy")
    return not any(m.kind == "value" and m.index == mismatch.index for m in again)


KNOWN = [
    Known("engines", "compiled loops and SIMD loops differ from NumPy (FMA contraction, "
          "NaN and signed zeros of relu/maximum/minimum/sign/elu, pow)", _engine_dependent),
]
# Fixed and merged (their repro tests in test_differential.py now pass): x*0 and x-x on
# NaN-capable ops, constant reassociation overflow, matmul of inner dimension 1 keeping -0.0,
# transpose(transpose(x)) of unknown rank crashing the optimizer, x + 0.0 -> x keeping -0.0
# (semantics); fetched results aliasing refilled feeds (state).


def explanation(recipe, mismatch):
    """The Known entry explaining ``mismatch``, or None."""
    for known in KNOWN:
        if known.explains(recipe, mismatch):
            return known
    return None
