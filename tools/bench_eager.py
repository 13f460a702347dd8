"""W3-eager: W3's 100 small elementwise ops on a (4,) input, run op by op.

graphc eager (each op builds its recorded graph op and runs its kernel at once) and
``gc.function`` (the same Python traced once, then run from its optimized plan) next to
torch eager and JAX op by op (no jit). Reported per run of the 100 ops and per op; every run
starts from the NumPy input (``gc.constant``, ``torch.from_numpy``, ``jnp.asarray``).

The 100 ops are a user's program: their code is compiled as a module of its own, as a user's
script is, not as graphc's. graphc records the user's line of every eager op, and takes a
caller inside graphc (``graphc.tools`` included) for a library function whose user is
further up the stack; a chain defined in this file would measure that walk up through the
benchmark's own frames, which no user's program pays.
"""
from __future__ import annotations

import numpy as np

import graphc as gc

from . import bench_peers as peers
from .bench_table import row

OPS = 100

_PROGRAM = '''
def chain(steps, v):
    for i in range(OPS):
        v = steps[i % 4](v)
    return v


def steps(tanh, sin):
    return [lambda a: a * 1.01, lambda a: a + 0.1, tanh, sin]
'''
_USER = {"__name__": "w3e_user_program", "OPS": OPS}
exec(compile(_PROGRAM, "<W3e user program>", "exec"), _USER)  # noqa: S102 - fixed text
_chain, _steps = _USER["chain"], _USER["steps"]


def w3_eager(quick: bool, measure):
    """Rows for graphc eager, graphc gc.function, torch eager and JAX (op by op)."""
    x = np.linspace(0.0, 1.0, 4).astype(np.float32)
    reference = _chain([lambda a: a * np.float32(1.01), lambda a: a + np.float32(0.1),
                        np.tanh, np.sin], x)
    gc_steps = _steps(gc.tanh, gc.sin)
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
        torch_steps = _steps(torch.tanh, torch.sin)
        found.append(("torch eager", lambda: _chain(torch_steps, torch.from_numpy(x)).numpy()))
    if peers._have("jax"):
        import jax.numpy as jnp
        jax_steps = _steps(jnp.tanh, jnp.sin)
        found.append(("jax op by op (no jit)",
                      lambda: np.asarray(_chain(jax_steps, jnp.asarray(x)))))
    return found
