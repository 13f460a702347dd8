"""Mutation testing: plant realistic bugs one at a time and see whether the tests notice.

Each mutant changes one spot of ``graphc/ops``, ``passes/`` or ``runtime/`` the way a slip of
the hand would: a flipped operator or comparison, a dropped sign, an operand dropped from an
``and``/``or`` (a flag no longer checked), ``not`` removed, a constant off by one, a
statement deleted (an edge no longer followed), an ``if`` always or never taken, a tuple
element or a keyword argument dropped (an attribute missing from a key). The tests relevant
to the mutated module run against it (``TESTS_FOR``, with ``-x`` and a time limit); the
mutant is served at import by the ``tests.mutant_loader`` pytest plugin, so the working
tree never changes. Test data (samples, references, docstrings, messages) is not mutated.

Usage:
    python -m graphc.tools.mutate --count 50 --seed 1     # a random sample, then a table
    python -m graphc.tools.mutate --list --only passes/   # every site in passes/
    python -m graphc.tools.mutate --site passes/cse.py:41:8:compare   # one mutant again
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("graphc/ops", "passes", "runtime")
# source prefix -> the tests that cover it (the longest matching prefix wins); test files
# named after the module (tests/**/test_*<module>*.py) run too
QUICK_DIFFERENTIAL = "tests/test_differential.py::test_random_graphs_agree_with_the_reference"
QUICK_SEEDS = "0:40"  # the differential graphs a mutant of passes/ or runtime/ must get through
SESSIONS = ["tests/test_session_run.py", "tests/test_session_feeds.py",
            "tests/test_session_ownership.py", "tests/test_session_concurrency.py",
            "tests/test_memory.py", "tests/test_runtime_errors.py", "tests/test_variables.py"]
TESTS_FOR = {
    "graphc/ops/": ["tests/ops", "tests/test_gradients.py", "tests/test_shapes.py",
                    "tests/test_op_semantics.py"],
    "graphc/ops/random.py": ["tests/ops", "tests/passes/test_cse.py",
                             "tests/passes/test_constant_folding.py"],
    "graphc/ops/state.py": SESSIONS + ["tests/test_train.py"],
    "graphc/ops/control.py": ["tests/ops", "tests/test_graph.py",
                              "tests/test_control_dependencies.py"] + SESSIONS,
    "graphc/ops/fused.py": ["tests/passes/test_fusion.py", "tests/test_fused_engines.py",
                            "tests/test_fused_differential.py", "tests/ops"],
    "passes/": ["tests/passes", QUICK_DIFFERENTIAL],
    "passes/gradients.py": ["tests/test_gradients.py", "tests/ops/test_registry_gradients.py",
                            "tests/test_train.py"],
    "runtime/": SESSIONS + [QUICK_DIFFERENTIAL],
    "runtime/bisect.py": ["tests/passes/test_pipeline.py"],
    "runtime/fused/": ["tests/test_fused_engines.py", "tests/test_fused_differential.py",
                       "tests/passes/test_fusion.py", QUICK_DIFFERENTIAL],
}
# keyword arguments and functions that hold test data, not behaviour
_DATA_KEYWORDS = {"samples", "error_samples", "reference", "doc", "tested_elsewhere"}
_DATA_FUNCTIONS = ("_sample", "sample", "_error", "error_samples", "_reference", "reference")
_COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                  ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
                  ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One planted bug: replace the source between two positions by ``replacement``."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    kind: str
    original: str
    replacement: str
    variant: int = 0  # several mutants of one kind at one spot (which operand, keyword...)

    @property
    def site(self) -> str:
        return f"{self.path}:{self.line}:{self.col}:{self.kind}:{self.variant}"

    def describe(self) -> str:
        return f"{_short(self.original)} -> {_short(self.replacement)}"

    def apply(self, source: str) -> str:
        """The mutated source (positions are ast's: 1-based lines, UTF-8 byte columns)."""
        lines = source.encode().splitlines(keepends=True)
        start = sum(len(x) for x in lines[:self.line - 1]) + self.col
        end = sum(len(x) for x in lines[:self.end_line - 1]) + self.end_col
        data = source.encode()
        return (data[:start] + self.replacement.encode() + data[end:]).decode()


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


class _Sites(ast.NodeVisitor):
    """Collects the mutants of one module."""

    def __init__(self, path: str, source: str):
        self.path, self.source, self.found = path, source, []
        self.depth = 0  # functions and lambdas entered: module-level tables are data

    def add(self, node, kind: str, replacement: str, expression: bool = True):
        original = ast.get_source_segment(self.source, node) or ""
        text = f"({replacement})" if expression else replacement
        variant = sum(1 for m in self.found if (m.line, m.col, m.kind) == (
            node.lineno, node.col_offset, kind))
        self.found.append(Mutant(self.path, node.lineno, node.col_offset, node.end_lineno,
                                 node.end_col_offset, kind, original, text, variant))

    def _swapped(self, node, **changes) -> str:
        clone = ast.parse(ast.unparse(node), mode="eval").body
        for name, value in changes.items():
            setattr(clone, name, value)
        return ast.unparse(clone)

    # -- what is never mutated -----------------------------------------------------------
    def visit_FunctionDef(self, node):
        if node.name.startswith(_DATA_FUNCTIONS) or node.name.endswith("_samples"):
            return
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        self.depth += 1
        for statement in body:
            self.visit(statement)
        self.statement_sites(body)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_keyword(self, node):
        if node.arg not in _DATA_KEYWORDS:
            self.visit(node.value)

    def visit_Raise(self, node):  # error messages: what raises is mutated, not the text
        return

    def visit_JoinedStr(self, node):
        return

    def visit_Assign(self, node):
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)

    # -- mutations ----------------------------------------------------------------------------
    def visit_BinOp(self, node):
        swap = _BINOP_SWAPS.get(type(node.op))
        strings = any(isinstance(v, ast.Constant) and isinstance(v.value, str)
                      for v in (node.left, node.right))
        if swap and not strings:
            self.add(node, "operator", self._swapped(node, op=swap()))
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, (ast.USub, ast.Not)):
            kind = "sign" if isinstance(node.op, ast.USub) else "not"
            self.add(node, kind, ast.unparse(node.operand))
        self.generic_visit(node)

    def visit_Compare(self, node):
        swap = _COMPARE_SWAPS.get(type(node.ops[0]))
        if swap:
            self.add(node, "compare", self._swapped(node, ops=[swap()] + node.ops[1:]))
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        for index in range(len(node.values)):
            rest = node.values[:index] + node.values[index + 1:]
            text = ast.unparse(rest[0]) if len(rest) == 1 else ast.unparse(
                ast.BoolOp(op=node.op, values=rest))
            self.add(node, "drop-operand", text)
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.add(node, "and-or", ast.unparse(ast.BoolOp(op=other, values=node.values)))
        self.generic_visit(node)

    def visit_Constant(self, node):
        value = node.value
        if not self.depth:
            return
        if isinstance(value, bool):
            self.add(node, "constant", repr(not value))
        elif isinstance(value, int) and abs(value) < 1 << 20:
            self.add(node, "off-by-one", repr(value + 1))

    def visit_If(self, node):
        for forced in ("True", "False"):
            self.add(node.test, "condition", forced)
        self.generic_visit(node)
        self.statement_sites(node.body)
        self.statement_sites(node.orelse)

    def visit_For(self, node):
        self.generic_visit(node)
        self.statement_sites(node.body)

    visit_While = visit_For

    def visit_Tuple(self, node):
        if self.depth and isinstance(node.ctx, ast.Load) and 2 <= len(node.elts) <= 6 and not any(
                isinstance(e, ast.Starred) for e in node.elts):
            for index in range(len(node.elts)):
                rest = node.elts[:index] + node.elts[index + 1:]
                self.add(node, "drop-element", ast.unparse(ast.Tuple(elts=rest, ctx=ast.Load()))
                         + ("," if len(rest) == 1 else ""))
        self.generic_visit(node)

    def visit_Call(self, node):
        for index, keyword in enumerate(node.keywords):
            if keyword.arg is None or keyword.arg in _DATA_KEYWORDS:
                continue
            clone = ast.parse(ast.unparse(node), mode="eval").body
            del clone.keywords[index]
            self.add(node, "drop-keyword", ast.unparse(clone))
        self.generic_visit(node)

    def statement_sites(self, body):
        """Deleting a statement that acts (a call for its effect, an update, a return of a
        value in a loop's early exit): ``stack.extend(...)`` gone is DCE ignoring edges."""
        for statement in body:
            effect = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            if effect or isinstance(statement, (ast.AugAssign, ast.Continue, ast.Break)):
                self.add(statement, "delete", "pass", expression=False)


def source_of(path: str, commit: str = "") -> str:
    """A module's source in the working tree, or at ``commit`` (so that two runs mutate the
    same text while the tree moves on)."""
    if not commit:
        return (ROOT / path).read_text()
    return subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def collect(only: str = "", commit: str = "") -> list:
    """Every mutant of the target modules (``only``: a path prefix)."""
    found = []
    for target in TARGETS:
        for path in sorted((ROOT / target).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if not relative.startswith(only):
                continue
            source = source_of(relative, commit)
            sites = _Sites(relative, source)
            sites.visit(ast.parse(source))
            found += sites.found
    return found


def sample(mutants: list, count: int, seed: int) -> list:
    """``count`` mutants, the kinds taking turns (so the many keyword and constant sites do
    not crowd out the few sign and operand ones), sites drawn at random within a kind."""
    rng = random.Random(seed)
    by_kind: dict = {}
    for mutant in mutants:
        by_kind.setdefault(mutant.kind, []).append(mutant)
    for sites in by_kind.values():
        rng.shuffle(sites)
    chosen: list = []
    kinds = sorted(by_kind)
    while len(chosen) < min(count, len(mutants)):
        for kind in kinds:
            if by_kind[kind] and len(chosen) < count:
                chosen.append(by_kind[kind].pop())
    return chosen


def tests_for(path: str, tests_root: Path = ROOT) -> list:
    """The tests to run against a mutant of ``path``."""
    prefix = max((p for p in TESTS_FOR if path.startswith(p)), key=len)
    stem = Path(path).stem.strip("_")
    named = sorted(str(p.relative_to(tests_root)) for p in (tests_root / "tests").rglob(
        f"test_*{stem}*.py")) if len(stem) >= 3 else []
    return list(dict.fromkeys(TESTS_FOR[prefix] + named))


@dataclasses.dataclass
class Outcome:
    mutant: Mutant
    status: str  # caught, survived, timeout, invalid
    detail: str
    seconds: float


def run_mutant(mutant: Mutant, timeout: float, tests_root: Path = ROOT,
               commit: str = "") -> Outcome:
    """Run the mutant's tests against it; caught when any fails (first failure named)."""
    started = time.perf_counter()
    source = source_of(mutant.path, commit)
    mutated = mutant.apply(source)
    try:
        compile(mutated, mutant.path, "exec")
    except SyntaxError as err:
        return Outcome(mutant, "invalid", f"syntax: {err}", 0.0)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(mutated)
    # a kernel cache of its own: the disk cache keys kernels by their generated source only,
    # so a mutant of the helpers they call would be served correct kernels compiled earlier
    # (and would leave wrong ones behind for everyone else)
    kernels = tempfile.mkdtemp(prefix="graphc-mutant-kernels-")
    env = dict(os.environ, GRAPHC_MUTANT_FILE=str(ROOT / mutant.path),
               GRAPHC_MUTANT_SOURCE=handle.name, PYTHONDONTWRITEBYTECODE="1",
               GRAPHC_DIFFERENTIAL_SEEDS=QUICK_SEEDS, GRAPHC_CACHE_DIR=kernels)
    # an older tests/ (for a before/after comparison) may lack some of the files named
    tests = [t for t in tests_for(mutant.path, tests_root)
             if (tests_root / t.split("::")[0]).exists()]
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-p", "tests.mutant_loader", "-p", "no:randomly", *tests]
    try:
        done = subprocess.run(command, cwd=tests_root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(mutant, "timeout", f"over {timeout:.0f} s", time.perf_counter() - started)
    finally:
        os.unlink(handle.name)
        shutil.rmtree(kernels, ignore_errors=True)
    elapsed = time.perf_counter() - started
    if done.returncode == 0:
        return Outcome(mutant, "survived", "", elapsed)
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return Outcome(mutant, "caught", failed[0] if failed else done.stdout[-200:], elapsed)


def table(outcomes: list) -> str:
    rows = [f"{'status':9} {'site':42} {'kind':13} mutation"]
    for o in outcomes:
        site = f"{o.mutant.path}:{o.mutant.line}"
        rows.append(f"{o.status:9} {site:42} {o.mutant.kind:13} {o.mutant.describe()}")
        if o.status == "caught":
            rows.append(f"{'':9} {_short(o.detail, 110)}")
    caught = sum(o.status in ("caught", "timeout") for o in outcomes)
    valid = sum(o.status != "invalid" for o in outcomes)
    rows.append(f"caught {caught} of {valid} mutants ({valid - caught} survived)")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="mutants to sample")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--only", default="", help="path prefix of the modules to mutate")
    parser.add_argument("--site", action="append", default=[], help="run these sites only")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument("--tests-root", default=str(ROOT),
                        help="directory holding the tests/ to run (e.g. an older version)")
    parser.add_argument("--at", default="", help="mutate the modules as of this commit")
    parser.add_argument("--list", action="store_true", help="list the sites and stop")
    args = parser.parse_args(argv)
    mutants = collect(args.only, args.at)
    if args.list:
        for mutant in mutants:
            print(f"{mutant.site:50} {mutant.describe()}")
        print(f"{len(mutants)} sites")
        return 0
    if args.site:
        chosen = [m for m in mutants if m.site in set(args.site)]
    else:
        chosen = sample(mutants, args.count, args.seed)
    outcomes = []
    for index, mutant in enumerate(chosen, 1):
        outcome = run_mutant(mutant, args.timeout, Path(args.tests_root), args.at)
        outcomes.append(outcome)
        print(f"[{index}/{len(chosen)}] {outcome.status:8} {mutant.site} "
              f"{mutant.describe()} ({outcome.seconds:.0f} s)", flush=True)
    print(table(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
