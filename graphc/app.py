"""``gc.app``: TF1's ``tf.app``: ``run`` parses the command-line flags and calls ``main``.

Example:
    >>> import graphc as tf
    >>> tf.app.flags.DEFINE_integer("steps", 100, "training steps")
    >>> def main(argv):
    ...     print("training for", tf.app.flags.FLAGS.steps, "steps; arguments:", argv[1:])
    >>> if __name__ == "__main__":
    ...     tf.app.run()          # or tf.app.run(main=main, argv=[...])
"""
from __future__ import annotations

import sys

from graphc import flags

__all__ = ["run", "flags"]


def run(main=None, argv=None):
    """Parse ``argv`` (default ``sys.argv``) into ``flags.FLAGS``, then exit with
    ``main(remaining argv)``'s return value, as TF1's ``tf.app.run`` (through absl) does.

    As in TF1, flags no ``DEFINE_*`` call defined are passed on to ``main`` in its argv
    instead of failing; a flag value that does not parse ends the program with status 1 and
    a message on stderr. ``main`` defaults to the ``main`` function of ``__main__``.

    Raises:
        SystemExit: always, with ``main``'s return value (0 for None).
    """
    args = sys.argv if argv is None else list(argv)
    try:
        remaining = flags.FLAGS(args, known_only=True)
    except flags.Error as err:
        print(f"FATAL Flags parsing error: {err}\nPass --help to see help on flags.",
              file=sys.stderr)
        sys.exit(1)
    if main is None:
        main = getattr(sys.modules["__main__"], "main", None)
        if main is None:
            raise AttributeError("gc.app.run(): no main given and __main__ defines no main()")
    sys.exit(main(remaining))
