"""Mismatch classes of the differential suite whose fixes are under way on other branches.

``test_differential.py`` tolerates a mismatch only when an entry below explains it (each
has a minimal repro test there, marked ``xfail(strict=True)`` with the same branch). When a
branch is merged, delete its entries here and its xfail marks there: any mismatch of the
class that remains then fails the suite with a shrunk repro.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

import graphc as gc
from tests import differential

RULES_THAT_DROP_NAN = {"fold_sub_self", "fold_mul_zero"}
REASSOCIATING_RULES = {"combine_mul_consts", "combine_add_consts"}
ZERO_RULES = {"fold_add_zero", "fold_sub_zero"}


@dataclasses.dataclass(frozen=True)
class Known:
    branch: str
    summary: str
    explains: Callable  # (recipe, mismatch) -> bool


def _rules_fired(recipe, mode: str) -> set:
    built = recipe.build()
    with gc.Session(graph=built.graph, optimize=differential.config_for(mode)) as sess:
        records = sess.optimization_records(built.fetches, recipe.feeds(built, 0))
    return {rewrite.rule for record in records for rewrite in record.rewrites}


def _nonfinite_lost(mismatch) -> bool:
    want = np.asarray(mismatch.want, dtype=float) if mismatch.want is not None else None
    return want is not None and not np.isfinite(want) and np.isfinite(
        np.asarray(mismatch.got, dtype=float))


def _sign_only(mismatch) -> bool:
    """Got and want differ only in sign: -0.0 for 0.0, or -inf for inf downstream of one."""
    if mismatch.got is None or mismatch.want is None:
        return False
    got, want = float(mismatch.got), float(mismatch.want)
    return got == -want or (got == 0 and want == 0)


def _engine_dependent(recipe, mismatch) -> bool:
    """The same mode with every fused node on the NumPy engine has no such mismatch."""
    if mismatch.kind != "value" or mismatch.mode == "unoptimized":
        return False
    mode = "exact" if mismatch.mode == "loops" else mismatch.mode
    calls = max(mismatch.call + 1, differential.calls_for(mode))
    again = differential.check(recipe, (mode,), calls=calls, fused_engine="numpy")
    return not any(m.kind == "value" and m.index == mismatch.index for m in again)


def _nan_dropped(recipe, mismatch) -> bool:
    return (mismatch.kind == "value" and mismatch.mode != "unoptimized"
            and _nonfinite_lost(mismatch)
            and bool(_rules_fired(recipe, mismatch.mode) & RULES_THAT_DROP_NAN))


def _reassociated(recipe, mismatch) -> bool:
    return (mismatch.kind == "value" and mismatch.mode != "unoptimized"
            and bool(_rules_fired(recipe, mismatch.mode) & REASSOCIATING_RULES))


def _zero_sign_dropped(recipe, mismatch) -> bool:
    return (mismatch.kind == "value" and mismatch.mode != "unoptimized" and _sign_only(mismatch)
            and bool(_rules_fired(recipe, mismatch.mode) & ZERO_RULES))


def _matmul_outer_product(recipe, mismatch) -> bool:
    if mismatch.kind != "value" or not _sign_only(mismatch):
        return False
    built = recipe.build()
    for op in built.graph.get_operations():
        if op.type == "matmul":
            a = op.inputs[0].shape
            inner = a.dims[-2 if op.attrs["transpose_a"] else -1] if a.rank else None
            if inner == 1:
                return True
    return False


def _transposes_of_unknown_rank(recipe, mismatch) -> bool:
    return mismatch.kind == "crash" and "_compose_transposes" in mismatch.detail


KNOWN = [
    Known("engines", "compiled loops and SIMD loops differ from NumPy (FMA contraction, "
          "NaN and signed zeros of relu/maximum/minimum/sign/elu, pow)", _engine_dependent),
    Known("semantics", "x*0 -> 0 and x-x -> 0 fire on ops that can return NaN",
          _nan_dropped),
    Known("semantics", "constant reassociation overflows or loses the operand",
          _reassociated),
    Known("semantics", "matmul with inner dimension 1 keeps -0.0 (broadcast multiply)",
          _matmul_outer_product),
    Known("semantics", "transpose(transpose(x)) on an unknown-rank x crashes the optimizer",
          _transposes_of_unknown_rank),
    Known("none yet (reported)", "x + 0.0 -> x and x - (-0.0) -> x keep -0.0 where IEEE "
          "gives +0.0 (classed exact)", _zero_sign_dropped),
]


def explanation(recipe, mismatch):
    """The Known entry explaining ``mismatch``, or None."""
    for known in KNOWN:
        if known.explains(recipe, mismatch):
            return known
    return None
