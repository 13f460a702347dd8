"""The ``graphc`` command: render a model's graph, inspect what the optimizer does, run the demo.

How MODEL.py exposes its graph (checked in this order):

An ONNX file (``MODEL.onnx``) is imported with ``graphc.onnx.import_model``: its outputs are
the fetches and its inputs the feeds. A graphc graph file (``tf.io.write_graph``'s ``.pb`` or
``.pbtxt``, a checkpoint's ``.meta``) is imported into a fresh graph: the fetches are its
``train_op`` collection (a meta graph) or else the ops nobody reads, the feeds its
placeholders. Otherwise:

1. a function ``build()`` returning ``(graph, fetches)`` (or just ``fetches``, or the
   ``ConcreteFunction`` of a ``gc.function``: its traced graph);
2. module-level ``fetches`` (a tensor, an op, a name, or a list of them) and optionally
   ``graph`` (default: the graph the model built into, a fresh one per run) and ``feeds``
   (placeholders the optimizer should treat as fed).

``--fetch NAME`` (repeatable) replaces the model's fetches by tensors or ops of that name.

Exit codes: 0 success, 2 bad command line, 3 the graphviz ``dot`` program is missing,
4 the model file is missing, fails, builds no graph or lacks a fetch.
"""
from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

import graphc as gc
from graphc.control_flow import subgraphs_of
from graphc.errors import DataLossError
from graphc.onnx import import_model
from graphc.serialization import container
from graphc.viz import DotNotFoundError, render_layer_tree
from graphc.viz.report import html_report, pass_table

from .demo import add_arguments as add_demo_arguments
from .demo import run as run_demo

EXIT_USAGE, EXIT_NO_DOT, EXIT_MODEL = 2, 3, 4


class ModelError(Exception):
    """MODEL.py could not provide a graph and fetches."""


def load_model(path: str, fetch_names=None):
    """Run MODEL.py in a fresh default graph; return ``(graph, fetches, feeds)``.

    Example:
        >>> graph, fetches, feeds = load_model("tools/examples/network.py")
    """
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"model file {path!r} does not exist")
    if file.suffix == ".onnx":
        return _load_onnx(file, fetch_names)
    with open(file, "rb") as handle:
        start = handle.read(len(container.MAGIC))
    if start == container.MAGIC or (start.startswith(b"{") and file.suffix != ".py"):
        return _load_graph_file(file, fetch_names)
    fresh = gc.Graph()
    try:
        with fresh.as_default():
            namespace = runpy.run_path(str(file), run_name="__graphc_model__")
            built = namespace["build"]() if callable(namespace.get("build")) else None
    except Exception as err:  # noqa: BLE001 - any failure of user code is reported as such
        raise ModelError(f"running {path} failed: {type(err).__name__}: {err}") from err
    graph = namespace.get("graph")
    fetches = namespace.get("fetches")
    if isinstance(built, gc.ConcreteFunction):  # a traced gc.function: its graph
        graph, fetches = built.graph, built.outputs
    elif isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], gc.Graph):
        graph, fetches = built
    elif built is not None:
        fetches = built
    if graph is None:
        graph = fresh if fresh.get_operations() else None
    if not isinstance(graph, gc.Graph) or not graph.get_operations():
        raise ModelError(f"{path} builds no graph: define build() returning (graph, fetches), "
                         "or module-level `fetches` (and `graph`)")
    if fetch_names:
        fetches = []
        for name in fetch_names:
            try:
                fetches.append(graph.as_graph_element(name))
            except (KeyError, ValueError, TypeError):
                raise ModelError(f"unknown fetch {name!r}: no tensor or op of that name in the "
                                 f"graph of {path}") from None
    if fetches is None:
        raise ModelError(f"{path} names no fetches: set `fetches` or pass --fetch NAME")
    fetches = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    feeds = namespace.get("feeds") or [op.outputs[0] for op in graph.get_operations()
                                       if op.type == "placeholder"]
    return graph, [graph.as_graph_element(f) if isinstance(f, str) else f for f in fetches], \
        list(feeds)


def _load_onnx(file: Path, fetch_names):
    """An ONNX model's graph, its outputs as fetches and its inputs as feeds."""
    try:
        graph, inputs, outputs = import_model(str(file))
    except (ImportError, ValueError, TypeError) as err:
        raise ModelError(f"importing {file} failed: {type(err).__name__}: {err}") from err
    fetches = list(outputs.values())
    if fetch_names:
        try:
            fetches = [graph.as_graph_element(name) for name in fetch_names]
        except (KeyError, ValueError, TypeError):
            raise ModelError(f"unknown fetch among {fetch_names} in {file}") from None
    return graph, fetches, list(inputs.values())


def _load_graph_file(file: Path, fetch_names):
    """A graphc graph or meta graph file imported into a fresh graph, with fetches (see the
    module docstring) and its placeholders as feeds."""
    data = file.read_bytes()
    graph = gc.Graph()
    try:
        header, _ = container.decode(data, ("graph", "meta_graph"), str(file))
        with graph.as_default():
            if header["kind"] == "meta_graph":
                gc.train.import_meta_graph(gc.train.MetaGraphDef.FromString(data, str(file)))
            else:
                gc.import_graph_def(gc.GraphDef.FromString(data, str(file)), name="")
    except (DataLossError, ValueError, TypeError) as err:
        raise ModelError(f"importing {file} failed: {type(err).__name__}: {err}") from err
    if fetch_names:
        try:
            fetches = [graph.as_graph_element(name) for name in fetch_names]
        except (KeyError, ValueError, TypeError):
            raise ModelError(f"unknown fetch among {fetch_names} in {file}") from None
    else:
        fetches = graph.get_collection("train_op") or [
            op for op in graph.get_operations() if not any(t.consumers() for t in op.outputs)]
    feeds = [op.outputs[0] for op in graph.get_operations() if op.type == "placeholder"]
    return graph, fetches, feeds


def control_flow_outline(ops, indent: str = "") -> list:
    """One line per control-flow op of ``ops`` and, indented under it, one per subgraph it
    holds (its op count), nested ones under theirs.

    Example:
        >>> control_flow_outline(graph.get_operations())
        ['rnn/while (while_loop)', '  cond: 13 ops', '  body: 32 ops']
    """
    lines = []
    for op in ops:
        if not op.opdef.subgraphs:
            continue
        lines.append(f"{indent}{op.name} ({op.type})")
        for key, sub in subgraphs_of(op):
            inner = sub.ops()
            role = key if sub.label == key else f"{key} {sub.label}"  # "branches true_fn"
            lines.append(f"{indent}  {role}: {len(inner)} ops")
            lines.extend(control_flow_outline(inner, indent + "    "))
    return lines


def _render(args) -> int:
    graph, fetches, _ = load_model(args.model, args.fetch)
    if args.layers:
        path = render_layer_tree(graph, args.output, fold_repeats=not args.no_fold,
                                 rankdir=args.rankdir, title=args.title,
                                 max_depth=args.collapse_depth)
        print(f"wrote {path}")
        return 0
    target = fetches
    if args.focus:
        try:
            target = graph.as_graph_element(args.focus)
        except (KeyError, ValueError, TypeError):
            raise ModelError(f"unknown focus node {args.focus!r}") from None
    elif args.whole:
        target = graph
    path = gc.render(target, args.output, depth=args.depth if args.focus else None,
                     collapse_depth=args.collapse_depth, hide_constants=args.hide_constants,
                     fold_repeats=not args.no_fold, cost=args.cost, rankdir=args.rankdir,
                     max_nodes=args.max_nodes, title=args.title,
                     layer_boxes=args.layer_boxes)
    print(f"wrote {path}")
    return 0


def _inspect(args) -> int:
    graph, fetches, feeds = load_model(args.model, args.fetch)
    outline = control_flow_outline(graph.get_operations())
    if outline:
        print("control flow:\n" + "\n".join(outline) + "\n")
    _, records = gc.optimize(graph, fetches, feeds=feeds)
    print(pass_table(records))
    if args.html:
        print(f"wrote {html_report(records, args.html, original=graph)}")
    return 0


def _demo(args) -> int:
    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphc", description="graphc command-line tools",
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="draw a model's graph (png, svg, pdf or dot)")
    render.add_argument("model", help="MODEL.py defining build() or `fetches`")
    render.add_argument("-o", "--output", required=True, help="output file, e.g. graph.png")
    render.add_argument("--fetch", action="append", help="draw this tensor/op (repeatable)")
    render.add_argument("--whole", action="store_true", help="draw the whole graph")
    render.add_argument("--focus", help="draw the neighbourhood of this node only")
    render.add_argument("--depth", type=int, default=2, help="neighbourhood radius for --focus")
    render.add_argument("--collapse-depth", type=int, help="collapse scopes nested deeper")
    render.add_argument("--hide-constants", action="store_true", help="leave constants out")
    render.add_argument("--no-fold", action="store_true", help="draw repeated blocks each")
    render.add_argument("--cost", choices=["flops", "bytes"], help="colour ops by cost")
    render.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="flow direction")
    render.add_argument("--max-nodes", type=int, default=250, help="auto-collapse above this")
    render.add_argument("--title", help="caption of the picture")
    render.add_argument("--layers", action="store_true",
                        help="draw the layer tree (gc.layers models): a box per layer with its "
                             "output shape and parameters; --collapse-depth limits the depth")
    render.add_argument("--layer-boxes", action="store_true",
                        help="draw each layer without child layers as one box")
    render.set_defaults(run=_render)
    inspect = sub.add_parser("inspect", help="show what every optimizer pass does")
    inspect.add_argument("model", help="MODEL.py defining build() or `fetches`, an ONNX "
                                       "file or a graphc graph file (.pb, .pbtxt, .meta)")
    inspect.add_argument("--fetch", action="append", help="optimize for this tensor/op")
    inspect.add_argument("--html", help="also write a self-contained HTML report here")
    inspect.set_defaults(run=_inspect)
    demo = sub.add_parser("demo", help="train an Inception CNN on scikit-learn's digits")
    add_demo_arguments(demo)
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``graphc`` command.

    Example:
        $ graphc render tools/examples/network.py -o network.png
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except DotNotFoundError as err:
        print(f"graphc: error: {err}", file=sys.stderr)
        return EXIT_NO_DOT
    except ModelError as err:
        print(f"graphc: error: {err}", file=sys.stderr)
        return EXIT_MODEL
    except ValueError as err:
        print(f"graphc: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
