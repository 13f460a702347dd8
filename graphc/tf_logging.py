"""``gc.logging``: TF1's ``tf.logging``, routed to Python's ``logging`` (logger "graphc").

As in TF1, the default verbosity is WARN, ``set_verbosity(INFO)`` makes ``info`` messages
appear, and a stderr handler is attached only when the program configured no logging of its
own (the root logger has no handler); otherwise records propagate to the program's handlers.

Example:
    >>> import graphc as tf
    >>> tf.logging.set_verbosity(tf.logging.INFO)
    >>> tf.logging.info("step %d: loss %.3f", 10, 0.25)
"""
from __future__ import annotations

import logging as _logging
import sys as _sys
import threading as _threading

__all__ = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL", "get_logger", "set_verbosity",
           "get_verbosity", "log", "debug", "info", "warn", "warning", "error", "fatal",
           "vlog", "log_if", "log_every_n", "log_first_n", "flush"]

DEBUG, INFO, WARN, ERROR, FATAL = (_logging.DEBUG, _logging.INFO, _logging.WARN,
                                   _logging.ERROR, _logging.FATAL)

_LOGGER: list = []
_LOCK = _threading.Lock()
_COUNTS: dict = {}  # call site -> how many times log_every_n / log_first_n saw it


def get_logger() -> _logging.Logger:
    """The ``graphc`` logger, set up on first use as TF sets up its ``tensorflow`` logger."""
    if _LOGGER:
        return _LOGGER[0]
    with _LOCK:
        if not _LOGGER:
            logger = _logging.getLogger("graphc")
            if logger.level == _logging.NOTSET:
                logger.setLevel(WARN)
            if not _logging.getLogger().handlers and not logger.handlers:
                handler = _logging.StreamHandler(_sys.stderr)
                handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
                logger.addHandler(handler)
            _LOGGER.append(logger)
    return _LOGGER[0]


def set_verbosity(v) -> None:
    """Log messages of level ``v`` (``DEBUG``, ``INFO``, ``WARN``, ``ERROR``, ``FATAL``) and up."""
    get_logger().setLevel(v)


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


def log(level, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs) -> None:
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs) -> None:
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs) -> None:
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs) -> None:
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs) -> None:
    """Log at FATAL (CRITICAL) level; like TF1's, it does not end the program."""
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def log_if(level, msg, condition, *args) -> None:
    """Log ``msg`` only when ``condition`` holds."""
    if condition:
        log(level, msg, *args)


def _count_call_site() -> int:
    frame = _sys._getframe(2)
    site = (frame.f_code.co_filename, frame.f_lineno)
    with _LOCK:
        count = _COUNTS.get(site, 0)
        _COUNTS[site] = count + 1
    return count


def log_every_n(level, msg, n, *args) -> None:
    """Log ``msg`` the 1st, (n+1)th, (2n+1)th... time this line runs."""
    if _count_call_site() % n == 0:
        log(level, msg, *args)


def log_first_n(level, msg, n, *args) -> None:
    """Log ``msg`` only the first ``n`` times this line runs."""
    if _count_call_site() < n:
        log(level, msg, *args)


def flush() -> None:
    for handler in get_logger().handlers:
        handler.flush()
