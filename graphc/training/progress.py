"""A progress bar for long loops: tqdm's, when tqdm is installed (the ``demo`` extra), the
stream is a terminal and it is not turned off; otherwise nothing is drawn.

Example:
    >>> with progress_bar(total=steps, desc="epoch 1/5", enabled=None) as bar:
    ...     for step in range(steps):
    ...         bar.update(1, loss=0.25)
"""
from __future__ import annotations

import sys

__all__ = ["progress_bar", "bar_wanted"]


def bar_wanted(enabled, stream=None) -> bool:
    """``enabled`` False: no; True: yes if tqdm is there; None: also only on a terminal."""
    if enabled is False:
        return False
    try:
        import tqdm  # noqa: F401 - optional (the demo extra); probed, not needed
    except ImportError:
        return False
    stream = stream or sys.stderr
    return bool(enabled) or bool(getattr(stream, "isatty", lambda: False)())


class _Bar:
    def __init__(self, total, desc, stream, every):
        from tqdm import tqdm  # noqa: optional dependency, present (bar_wanted checked)
        self._bar = tqdm(total=total, desc=desc, file=stream, unit="step", leave=False,
                         dynamic_ncols=True)
        self._every, self._steps = every, 0

    def update(self, steps=1, **postfix):
        self._steps += steps
        if postfix and self._steps % self._every == 0:
            self._bar.set_postfix({k: f"{v:.4f}" for k, v in postfix.items()}, refresh=False)
        self._bar.update(steps)

    def close(self):
        self._bar.close()


class _NoBar:
    def update(self, steps=1, **postfix):
        pass

    def close(self):
        pass


class progress_bar:  # noqa: N801 - used like a function
    """A context manager giving an object with ``update(steps, **postfix)``; postfix values
    (e.g. the running loss) are shown every ``every`` steps."""

    def __init__(self, total, desc="", enabled=None, stream=None, every=10):
        stream = stream or sys.stderr
        self._bar = _Bar(total, desc, stream, every) if bar_wanted(enabled, stream) else \
            _NoBar()

    def __enter__(self):
        return self._bar

    def __exit__(self, *exc):
        self._bar.close()
