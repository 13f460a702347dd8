"""The session state of eager execution: variable values and random streams, one per process."""
from __future__ import annotations

import numpy as np

from graphc.runtime.state import RunContext, SessionState

__all__ = ["EagerState", "EagerRunContext"]


class EagerRunContext(RunContext):
    """The run context of one eager op: random ops draw from one stream per seed pair, so
    repeated calls of a seeded op continue the stream (TF2's eager semantics) instead of
    restarting it."""

    __slots__ = ()

    def rng(self) -> np.random.Generator:
        seed, seed2 = self.op.attrs.get("seed"), self.op.attrs.get("seed2")
        return self.state.generator_for_seeds(seed, seed2)


class EagerState(SessionState):
    """Variable values and random streams of eager execution (one per process)."""

    def __init__(self):
        super().__init__()
        self.unseeded = np.random.default_rng()

    def generator_for_seeds(self, seed, seed2) -> np.random.Generator:
        if seed is None:
            return self.unseeded
        key = (int(seed) & 0xFFFFFFFF, int(seed2 or 0) & 0xFFFFFFFF)
        with self.lock:
            rng = self.generators.get(key)
            if rng is None:
                rng = self.generators[key] = np.random.default_rng(list(key))
            return rng
