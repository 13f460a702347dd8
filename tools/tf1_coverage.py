"""How much of TF1's API graphc has: the public names of ``tf.compat.v1`` and of its
submodules (docs/tf1_api_names.json, listed from TensorFlow 2.21 by ``--generate``) that
exist in graphc under the same path.

    python -m graphc.tools.tf1_coverage                  # a line per module, then the total
    python -m graphc.tools.tf1_coverage --missing nn     # what tf.nn has that graphc lacks
    python -m graphc.tools.tf1_coverage --generate FILE  # list TF's names (needs tensorflow)
"""
from __future__ import annotations

import argparse
import json
import os

import graphc as gc

NAMES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                          "tf1_api_names.json")
MODULES = ["", "nn", "math", "train", "layers", "losses", "linalg", "random", "data",
           "summary", "initializers", "strings", "io", "errors", "sparse", "image", "metrics",
           "nn.rnn_cell", "debugging", "dtypes", "saved_model", "graph_util", "test", "gfile",
           "distributions", "bitwise", "signal", "lookup", "config", "sets"]


def _has(namespace, name: str) -> bool:
    """Whether graphc provides ``name``: a name whose optional extra is not installed
    (the summary protos need tensorboard: ImportError on first use) counts, so the count
    does not depend on the extras installed."""
    try:
        getattr(namespace, name)
    except AttributeError:
        return False
    except ImportError:
        return True
    return True


def _resolve(root, path: str):
    for part in path.split(".") if path else []:
        if not _has(root, part):
            return None
        root = getattr(root, part)
    return root


def coverage(names: dict) -> list:
    """``(module, present, total, missing names)`` per module of ``names``."""
    rows = []
    for module, listed in names.items():
        found = _resolve(gc, module)
        missing = list(listed) if found is None else [n for n in listed if not _has(found, n)]
        rows.append((module or "tf", len(listed) - len(missing), len(listed), missing))
    return rows


def generate(path: str) -> None:
    import tensorflow.compat.v1 as tf  # noqa: PLC0415 - only this command needs TensorFlow
    names = {}
    for module in MODULES:
        try:
            found = _resolve(tf, module)
        except Exception:  # noqa: BLE001 - some TF submodules fail to import without Keras
            found = None
        if found is not None:
            names[module] = sorted(n for n in dir(found) if not n.startswith("_"))
    with open(path, "w") as handle:
        json.dump(names, handle)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", default=NAMES_FILE)
    parser.add_argument("--missing", help="list the missing names of this module ('' = tf)")
    parser.add_argument("--generate", help="write TF's names to this file (needs tensorflow)")
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.generate)
        return
    if not os.path.isfile(args.names):
        raise SystemExit(f"tf1_coverage: no name list at {args.names} (it ships in the "
                         "repository's docs/, not in the wheel): give one with --names")
    with open(args.names) as handle:
        rows = coverage(json.load(handle))
    if args.missing is not None:
        for module, _, _, missing in rows:
            if module == (args.missing or "tf"):
                print("\n".join(missing))
        return
    for module, present, total, _ in rows:
        print(f"{module:14s} {present:4d} / {total:4d}")
    print(f"{'total':14s} {sum(r[1] for r in rows):4d} / {sum(r[2] for r in rows):4d}")


if __name__ == "__main__":
    main()
