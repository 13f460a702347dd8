"""Imports go one way: core -> passes -> runtime -> public facade -> tools (README, Layout).

The tests read the real import graph: every import statement of every module under graphc/,
passes/, runtime/ and tools/, at module level and inside functions, with relative imports
resolved. A lower layer never imports a higher one; where it needs a service from above
(the default session, a fused kernel binder), the higher layer registers it. Inside
graphc/ops/ the op families have an order too, and no modules below the facade import each
other in a cycle.
"""
from __future__ import annotations

import ast
import fnmatch
import pathlib
from dataclasses import dataclass

import networkx as nx

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = {"graphc": "graphc", "passes": "graphc.passes", "runtime": "graphc.runtime",
                   "tools": "graphc.tools"}

# Inside core, bottom to top: the IR knows no op family; the families build on the IR; the
# Variable class and the Tensor operators build on the families.
CORE_LEVELS = (
    ("IR", ("graphc.errors", "graphc.dtypes", "graphc.shapes", "graphc.registry",
            "graphc.nodes", "graphc.editing", "graphc.graph", "graphc.algorithms",
            "graphc.printing", "graphc.convert", "graphc.static_values", "graphc.index_spec",
            "graphc.fetches",
            "graphc.serialization", "graphc.serialization.*",
            "graphc.default_session", "graphc.devices", "graphc.gradient_overrides",
            "graphc.graph_collections", "graphc.nest",
            "graphc.example_proto")),  # imports nothing of graphc; ops/parsing.py needs it
    ("ops", ("graphc.ops", "graphc.ops.*")),
    ("ops API", ("graphc.variables", "graphc.operators", "graphc.variable_scatter")),
    ("control flow", ("graphc.control_flow", "graphc.control_flow.*")),
    ("sharing", ("graphc.initializers", "graphc.regularizers", "graphc.variable_store",
                 "graphc.variable_scope")),
)

# Bottom to top: a module may import modules of its own layer and of the layers before it.
LAYERS = (
    ("core", tuple(pattern for _, patterns in CORE_LEVELS for pattern in patterns)),
    ("passes", ("graphc.passes", "graphc.passes.*")),
    ("runtime", ("graphc.runtime", "graphc.runtime.*")),
    ("facade", ("graphc", "graphc.train", "graphc.nn", "graphc.math", "graphc.random",
                "graphc.linalg",
                "graphc.compat", "graphc.viz", "graphc.viz.*", "graphc.losses", "graphc.contrib",
                "graphc.contrib.*", "graphc.keras", "graphc.keras.*", "graphc.app", "graphc.flags",
                "graphc.tf_logging", "graphc.config", "graphc.config_devices", "graphc.deprecated",
                "graphc.saving", "graphc.saving.*",
                "graphc.layers", "graphc.layers.*", "graphc.training", "graphc.training.*",
                "graphc.debugging", "graphc.optimizer", "graphc.optimizers_more",
                "graphc.learning_rate", "graphc.moving_averages", "graphc.clip_ops",
                "graphc.nn_losses", "graphc.nn_more", "graphc.weighted_loss", "graphc.data",
                "graphc.data.*", "graphc.eager", "graphc.eager.*",
                "graphc.nn_norm", "graphc.nn_sampled", "graphc.onnx", "graphc.onnx.*",
                "graphc.rnn", "graphc.rnn.*",
                "graphc.monitored", "graphc.monitored.*", "graphc.gfile", "graphc.tf_io",
                "graphc.records", "graphc.records.*", "graphc.python_io",
                "graphc.parsing", "graphc.sparse", "graphc.sparse.*",
                "graphc.testing",
                "graphc.summary", "graphc.summary.*", "graphc.dask", "graphc.dask.*",
                "graphc.metrics", "graphc.metrics.*", "graphc.function_tools",
                "graphc.tf1_compositions", "graphc.tf1_helpers", "graphc.tf1_extras", "graphc.version", "graphc.linalg_more", "graphc.linalg_expm", "graphc.linalg_tridiag", "graphc.linalg_lu", "graphc.linalg_eigh_tridiag", "graphc.strings", "graphc.strings_split",
                "graphc.bitwise", "graphc.sets", "graphc.signal", "graphc.signal.*", "graphc.distributions", "graphc.distributions.*",
                "graphc.saved_model", "graphc.saved_model.*",
                "graphc.image", "graphc.image.*", "graphc.lookup",
                "graphc.queues", "graphc.readers", "graphc.input_producers",
                "graphc.input_batching")),
    ("tools", ("graphc.tools", "graphc.tools.*")),
)
FACADE = [name for name, _ in LAYERS].index("facade")

# graphc/ops/ families, bottom to top: a family imports only families before it. Helpers
# two families need live in common. Gradient rules of adjoint pairs in different families
# (conv2d and conv2d_backprop_*) create the later op by its registered name instead.
OP_FAMILIES = ("common", "control", "shape_ops", "creation", "select", "elementwise",
               "reduce", "indexing", "gemm", "linalg",
               "kernel_choice", "batch_split",  # timed choices; splitting work over the pool
               "copy_loops", "array", "padding", "nn",
               "xent_loops", "sparse_xent",
               "jit_cache", "conv_loops", "conv_buffers", "conv_direct_support", "conv_rows",
               "fused", "conv_direct_epilogue",  # an epilogue program inlined in conv_direct
               "conv_direct", "conv_kernels",
               "pool_loop_code", "pool_loops", "pool_kernels",  # max pooling, split by batch_split
               "conv", "conv_grads", "random", "state", "debug",
               "pool_taps_code", "pool_taps",  # pools recording their first-max taps
               "check_ops", "py_func", "data", "epilogue",
               "relu_grad_loops", "relu_bias_grad",  # a ReLU's and its bias's gradients
               "activations", "normalization", "depthwise", "conv_variants", "sampling",
               "update_loops", "scaled_update",  # an SGD step as one op, on state
               # TF1 math/array ops (issue 11), on top of the families above
               "cumulative", "scatter", "masking", "sorting", "segment", "matrix_diag",
               "linalg_extra", "math_extra", "safe_math", "state_scatter", "special_math", "partition", "counting",
               "shape_checks", "random_more", "batch_gather", "search_repeat",
               "linalg_decomp", "linalg_lu", "linalg_sqrtm", "strings", "bitwise", "decode_raw",
               # tf.image, space/depth, 3-D convolutions and pools
               "resize_taps", "image_resize", "space_depth", "space_batch",
               "patches", "pool_argmax", "nn_extra", "conv3d", "pool3d", "nms",
               "distorted_box", "dynamic_slice", "lookup_ops",
               # TF's stateless random ops (Philox, TF's values)
               "philox", "stateless_random", "stateless_sampling", "decode_csv", "string_codecs", "bitcast",
               "image_codecs", "image_codec_ops",
               # tf.train.Example parsing and SparseTensor ops
               "parsing", "sparse_ops", "sets", "fingerprint", "string_split", "draw_boxes",
               # TF1's queue-based input pipelines: counters, queues, readers
               "count_up_to", "queue_state", "queue", "reader",
               # tf.signal's framing and DCT kernels
               "signal_frames", "signal_dct")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: str
    line: int
    in_function: bool
    type_checking: bool  # under ``if TYPE_CHECKING:``: never executed

    def where(self) -> str:
        scope = "inside a function" if self.in_function else "at module level"
        return f"{self.path}:{self.line} ({self.importer}, {scope}) imports {self.imported}"


def read_modules(root: pathlib.Path = ROOT) -> dict:
    """``{module name: (path relative to root, is a package, source)}`` of the tree."""
    modules = {}
    for folder, package in PACKAGE_FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join([package] + (parts[:-1] if is_package else parts))
            modules[name] = (str(path.relative_to(root)), is_package, path.read_text())
    return modules


def _targets(node, importer: str, is_package: bool, known) -> list:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module
    # ``from package import name`` imports the submodule package.name when there is one
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix
            for a in node.names]


def _is_type_checking(node) -> bool:
    test = node.test
    return isinstance(node, ast.If) and (getattr(test, "id", None) == "TYPE_CHECKING" or
                                         getattr(test, "attr", None) == "TYPE_CHECKING")


def import_edges(modules: dict) -> list:
    """Every import of a graphc module by a module of the tree (one per statement and
    imported module)."""
    edges = []
    for importer, (path, is_package, source) in modules.items():
        def visit(node, in_function, type_checking):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in _targets(child, importer, is_package, modules):
                        if target == "graphc" or target.startswith("graphc."):
                            edges.append(Import(importer, target, path, child.lineno,
                                                in_function, type_checking))
                visit(child, in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)),
                    type_checking or isinstance(child, ast.If) and _is_type_checking(child))
        visit(ast.parse(source, path), False, False)
    return list(dict.fromkeys(edges))


def _rank(module: str, table) -> int:
    """Index of the first row of ``table`` whose patterns match ``module`` (-1: none)."""
    for index, (_, patterns) in enumerate(table):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return index
    return -1


def _family(module: str) -> int:
    if module == "graphc.ops":
        return len(OP_FAMILIES)  # the package imports every family
    name = module.split(".")[2]
    return OP_FAMILIES.index(name) if name in OP_FAMILIES else -1


def layering_problems(modules: dict, edges: list) -> list:
    """One message per module outside the tables and per import going up."""
    problems = [f"{path}: module {name} is in no layer of LAYERS" for name, (path, *_) in
                modules.items() if _rank(name, LAYERS) < 0]
    problems += [f"{path}: op family {name} is not in OP_FAMILIES" for name, (path, *_) in
                 modules.items() if name.startswith("graphc.ops") and _family(name) < 0]
    for edge in edges:
        if edge.imported not in modules:
            problems.append(f"{edge.where()}, which does not exist")
            continue
        low, high = _rank(edge.imported, LAYERS), _rank(edge.importer, LAYERS)
        if low > high:
            problems.append(f"{edge.where()}: layer {LAYERS[high][0]} imports the higher "
                            f"layer {LAYERS[low][0]}")
        elif low == high == 0:
            problems += _core_problems(edge)
    return problems


def _core_problems(edge: Import) -> list:
    low, high = _rank(edge.imported, CORE_LEVELS), _rank(edge.importer, CORE_LEVELS)
    if low > high:
        return [f"{edge.where()}: core level {CORE_LEVELS[high][0]} imports the higher level "
                f"{CORE_LEVELS[low][0]}"]
    both_ops = edge.importer.startswith("graphc.ops") and edge.imported.startswith("graphc.ops")
    if both_ops and _family(edge.imported) > _family(edge.importer):
        return [f"{edge.where()}: an op family imports a later one (OP_FAMILIES order)"]
    return []


def import_cycles(edges: list) -> list:
    """Import cycles among modules below the facade (imports under TYPE_CHECKING never run).
    The facade is left out: ``graphc.compat.v1`` is graphc itself, by design."""
    below = [e for e in edges if not e.type_checking and e.importer != e.imported and
             _rank(e.importer, LAYERS) != FACADE and _rank(e.imported, LAYERS) != FACADE]
    graph = nx.DiGraph((e.importer, e.imported) for e in below)
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_no_module_imports_a_higher_layer_or_a_later_op_family():
    modules = read_modules()
    problems = layering_problems(modules, import_edges(modules))
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_modules_import_no_cycle():
    cycles = import_cycles(import_edges(read_modules()))
    assert not cycles, f"import cycles: {cycles}"


def test_function_level_imports_go_down_and_say_why():
    """An import inside a function hides a dependency; the few left must give a reason (the
    test above checks their direction)."""
    modules = read_modules()
    silent = []
    for edge in import_edges(modules):
        lines = modules[edge.importer][2].splitlines()
        if edge.in_function and "#" not in lines[edge.line - 1] and \
                not lines[edge.line - 2].strip().startswith("#"):
            silent.append(edge.where())
    assert not silent, "function-level imports without a comment saying why:\n" + \
        "\n".join(silent)


def relative_import_problems(modules: dict) -> list:
    """Imports inside graphc.passes, graphc.runtime and graphc.tools of their own package that
    are absolute, and relative ones that leave it."""
    wrong = []
    for name, (path, is_package, source) in modules.items():
        package = ".".join(name.split(".")[:2])
        if package not in ("graphc.passes", "graphc.runtime", "graphc.tools"):
            continue
        if path.startswith("tools/examples/"):  # scripts run by path: they import as users do
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                target = _targets(node, name, is_package, modules)[0]
                inside = target == package or target.startswith(package + ".")
                if inside != bool(node.level):
                    wrong.append(f"{path}:{node.lineno} imports {target} "
                                 f"{'absolutely' if inside else 'relatively'}")
            elif isinstance(node, ast.Import):
                wrong += [f"{path}:{node.lineno} imports {a.name} absolutely"
                          for a in node.names if a.name.startswith(package + ".")]
    return wrong


def test_passes_runtime_and_tools_import_their_own_modules_relatively():
    """Relative imports let tools reading the source tree (where passes/ is a top-level
    folder, not graphc/passes/) see the structure; core is imported as graphc.*."""
    wrong = relative_import_problems(read_modules())
    assert not wrong, "\n".join(wrong)


def _planted(modules: dict, module: str, line: str) -> dict:
    path, is_package, source = modules[module]
    return {**modules, module: (path, is_package, source + f"\n\ndef _planted():\n    {line}\n")}


def test_the_checks_catch_planted_mistakes():
    """Each rule, shown to fail: an upward import inside a function, a later op family, the
    IR importing ops, a core import cycle, an absolute import inside passes/."""
    modules = read_modules()
    upward = _planted(modules, "graphc.nodes", "from graphc.runtime.session import Session")
    lines = len(modules["graphc.nodes"][2].splitlines())
    assert layering_problems(upward, import_edges(upward)) == [
        f"graphc/nodes.py:{lines + 4} (graphc.nodes, inside a function) imports "
        "graphc.runtime.session: layer core imports the higher layer runtime"]
    later = _planted(modules, "graphc.ops.shape_ops", "from graphc.ops.reduce import reduce_sum")
    (problem,) = layering_problems(later, import_edges(later))
    assert "graphc/ops/shape_ops.py" in problem and "later one" in problem
    ir = _planted(modules, "graphc.static_values", "from graphc.ops import indexing")
    (problem,) = layering_problems(ir, import_edges(ir))
    assert "core level IR imports the higher level ops" in problem
    cycle = _planted(modules, "graphc.shapes", "from graphc import graph")
    assert any({"graphc.graph", "graphc.shapes"} <= set(c)
               for c in import_cycles(import_edges(cycle)))
    absolute = _planted(modules, "graphc.passes.dce", "from graphc.passes import result")
    assert [p for p in relative_import_problems(absolute) if "passes/dce.py" in p] == [
        f"passes/dce.py:{len(modules['graphc.passes.dce'][2].splitlines()) + 4} imports "
        "graphc.passes.result absolutely"]
