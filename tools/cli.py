"""The ``graphc`` command."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    """Entry point of the ``graphc`` command.

    Example:
        $ graphc demo
    """
    parser = argparse.ArgumentParser(prog="graphc", description="graphc command-line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build, run and print a small model")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from graphc.tools.demo import main as demo_main
        return demo_main()
    return 2


if __name__ == "__main__":
    sys.exit(main())
