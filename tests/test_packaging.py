"""The package as a user installs it: the wheel holds every module, under the graphc name only.

passes/, runtime/ and tools/ sit at the top of the repository but install as graphc.passes,
graphc.runtime and graphc.tools (setup.py). CI builds the wheel once (``bash tools/dev.sh
wheel``, which also installs it into a fresh venv and runs it) and passes its path in
GRAPHC_WHEEL; without it the test builds one.
"""
import ast
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = {"graphc": "graphc", "passes": "graphc.passes", "runtime": "graphc.runtime",
                   "tools": "graphc.tools"}
BUILD_INPUTS = (*PACKAGE_FOLDERS, "pyproject.toml", "setup.py", "README.md")
GENERIC_NAMES = {"passes", "runtime", "tools"}  # importable only from the repository root


def source_modules():
    """``(path, path in the wheel)`` of every module in a package directory of the tree."""
    for folder, package in PACKAGE_FOLDERS.items():
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")):
            relative = path.relative_to(base)
            folders = [base.joinpath(*relative.parts[:i]) for i in range(len(relative.parts))]
            if all((d / "__init__.py").is_file() for d in folders):
                yield path, "/".join(package.split(".") + list(relative.parts))


def python_files():
    for folder in (*PACKAGE_FOLDERS, "tests"):
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield ROOT / "setup.py"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    given = os.environ.get("GRAPHC_WHEEL")
    if given:
        return pathlib.Path(given)
    # built from a copy: setuptools would add stale files from an old build/ in the tree
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=600)
    return next(out.glob("graphc-*.whl"))


def test_the_wheel_holds_every_module_under_the_graphc_name_only(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = {name.split("/")[0] for name in names}
    info = {name for name in top_level if name.endswith(".dist-info")}
    assert top_level - info == {"graphc"}
    (info_dir,) = info
    assert zipfile.ZipFile(wheel).read(f"{info_dir}/top_level.txt").decode().split() == ["graphc"]
    missing = [f"{path.relative_to(ROOT)} -> {installed}" for path, installed in source_modules()
               if installed not in names]
    assert not missing, f"the wheel lacks these modules (is a package left out?): {missing}"


def test_no_module_imports_a_top_level_folder_by_its_generic_name():
    """From the repository root ``import runtime`` works too, and would load a second copy
    of every module (two registries); inside the package it fails. Only graphc.* is right."""
    found = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {module!r}"
                      for module in modules if module.split(".")[0] in GENERIC_NAMES]
    assert not found, f"import these as graphc.passes / graphc.runtime / graphc.tools: {found}"


def test_the_smoke_test_passes_outside_the_source_tree(tmp_path):
    """The script CI runs against the installed wheel, here against this installation."""
    result = subprocess.run([sys.executable, "-m", "graphc.tools.smoke", "--png",
                             str(tmp_path / "smoke.png")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke: ok" in result.stdout


def test_importing_graphc_leaves_the_optional_heavy_packages_unimported():
    # numba (LLVM), dask, onnx and Pillow load only when a program uses what needs them
    script = ("import sys, graphc; print(sorted(m for m in ('numba', 'dask', 'onnx', "
              "'onnxruntime', 'PIL') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout
