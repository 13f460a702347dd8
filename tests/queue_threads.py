"""Threads for the queue tests: a run in a thread that the test waits for with a timeout
(a blocked run never hangs the suite), and a check that no test leaves a thread running."""
from __future__ import annotations

import threading

import pytest

WAIT = 10.0  # seconds a test waits for a run it expects to finish (it fails, never hangs)
BLOCKED = 0.3  # seconds a test waits to see that a run is (still) blocked


class Background:
    """``fn()`` in a daemon thread; ``result()`` waits (at most WAIT) and returns its value
    or re-raises its exception.

    Example:
        >>> run = Background(lambda: sess.run(dequeue))
        >>> assert run.blocked()            # still waiting after BLOCKED seconds
        >>> sess.run(enqueue); run.result()
    """

    def __init__(self, fn):
        self._outcome: list = []
        self._thread = threading.Thread(target=self._call, args=(fn,), daemon=True,
                                        name="queue-test-background")
        self._thread.start()

    def _call(self, fn):
        try:
            self._outcome.append((True, fn()))
        except BaseException as err:  # noqa: BLE001 - handed to result()
            self._outcome.append((False, err))

    def blocked(self) -> bool:
        self._thread.join(BLOCKED)
        return self._thread.is_alive()

    def result(self):
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the background run did not finish"
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


@pytest.fixture(autouse=True)
def no_thread_left():
    """Fail a test that leaves a thread of its own running (after WAIT seconds)."""
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        if not thread.name.startswith("graphc-pool"):  # the runtime's own worker pool
            thread.join(WAIT)
    left = [t.name for t in set(threading.enumerate()) - before
            if t.is_alive() and not t.name.startswith("graphc-pool")]
    assert not left, f"threads left running: {left}"
