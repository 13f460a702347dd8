"""The per-thread default-session stack, beside the default-graph stack of graph.py.

It lives in core so that ``Tensor.eval``, ``Operation.run`` and ``Variable.load`` find their
session without importing the runtime (imports go one way: core never imports runtime/). The
runtime's ``Session`` pushes itself here (``with sess:``, ``sess.as_default()``,
``InteractiveSession``); core only needs what every session offers: ``graph``, ``run`` and
``load_variable``.
"""
from __future__ import annotations

import contextlib
import threading

__all__ = ["get_default_session", "push", "remove", "entered", "session_for"]


class _DefaultSessionStack(threading.local):
    def __init__(self):
        self.stack: list = []


_SESSIONS = _DefaultSessionStack()


def get_default_session():
    """The innermost session entered with ``with`` or ``as_default()`` in this thread."""
    return _SESSIONS.stack[-1] if _SESSIONS.stack else None


def push(session) -> None:
    """Make ``session`` this thread's default until ``remove(session)``."""
    _SESSIONS.stack.append(session)


def remove(session) -> None:
    """Drop ``session`` from this thread's stack (wherever it is; no error if absent)."""
    if session in _SESSIONS.stack:
        _SESSIONS.stack.remove(session)


@contextlib.contextmanager
def entered(session):
    """``session`` is this thread's default inside the block (``Session.as_default``).

    Example:
        >>> with default_session.entered(sess):
        ...     y.eval()
    """
    push(session)
    try:
        yield session
    finally:
        remove(session)


def session_for(session, element):
    """``session``, else the default session, checked to run ``element``'s graph."""
    session = session or get_default_session()
    if session is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                         "registered. Use `with sess.as_default()` or pass an explicit "
                         "session to `eval(session=sess)`")
    if element.graph is not session.graph:
        raise ValueError(f"Cannot use the given session to evaluate '{element.name}': its "
                         "graph is different from the session's graph.")
    return session
