"""W3-eager: W3's 100 small elementwise ops on a (4,) input, run op by op.

graphc eager (each op builds its recorded graph op and runs its kernel at once) and
``gc.function`` (the same Python traced once, then run from its optimized plan) next to
torch eager and JAX op by op (no jit). Reported per run of the 100 ops and per op.
"""
from __future__ import annotations

import numpy as np

import graphc as gc

from . import bench_peers as peers
from .bench_table import row

OPS = 100


def _chain(steps, v):
    for i in range(OPS):
        v = steps[i % 4](v)
    return v


def w3_eager(quick: bool, measure):
    """Rows for graphc eager, graphc gc.function, torch eager and JAX (op by op)."""
    x = np.linspace(0.0, 1.0, 4).astype(np.float32)
    reference = _chain([lambda a: a * np.float32(1.01), lambda a: a + np.float32(0.1),
                        np.tanh, np.sin], x)
    gc_steps = [lambda a: a * 1.01, lambda a: a + 0.1, gc.tanh, gc.sin]
    traced = gc.function(lambda v: _chain(gc_steps, v))
    implementations = []
    with gc.eager():
        implementations.append(("graphc eager", lambda: _chain(gc_steps, gc.constant(x)).numpy()))
        first = traced(x)  # the trace: compile cost, reported apart from the steady state
        implementations.append(("graphc gc.function", lambda: traced(x).numpy()))
        rows = []
        for name, run in implementations + _peer_implementations(x):
            np.testing.assert_allclose(run(), reference, rtol=1e-5, err_msg=name)
            seconds = measure(run)
            rows.append(row("W3e", name, "us/run", seconds * 1e6,
                            us_per_op=round(seconds * 1e6 / OPS, 2)))
        del first
    return rows


def _peer_implementations(x):
    found = []
    if peers._have("torch"):
        import torch
        xt = torch.from_numpy(x)
        torch_steps = [lambda a: a * 1.01, lambda a: a + 0.1, torch.tanh, torch.sin]
        found.append(("torch eager", lambda: _chain(torch_steps, xt).numpy()))
    if peers._have("jax"):
        import jax.numpy as jnp
        xj = jnp.asarray(x)
        jax_steps = [lambda a: a * 1.01, lambda a: a + 0.1, jnp.tanh, jnp.sin]
        found.append(("jax op by op (no jit)", lambda: np.asarray(_chain(jax_steps, xj))))
    return found
