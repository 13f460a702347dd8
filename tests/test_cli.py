"""The graphc command end to end, in subprocesses, including its error paths."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tools" / "examples"
HAS_DOT = subprocess.run(["which", "dot"], capture_output=True).returncode == 0


def graphc(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "graphc.tools.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("command", [[], ["render"], ["inspect"], ["demo"]])
def test_help(command):
    result = graphc(*command, "--help")
    assert result.returncode == 0 and "usage: graphc" in result.stdout


@pytest.mark.skipif(not HAS_DOT, reason="graphviz 'dot' is not installed (CI installs it)")
def test_render_png_and_focus(tmp_path):
    out = tmp_path / "net.png"
    result = graphc("render", EXAMPLES / "network.py", "-o", out, "--collapse-depth", "1")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
    focus = graphc("render", EXAMPLES / "network.py", "-o", tmp_path / "f.svg",
                   "--focus", "block2/concat", "--depth", "1")
    assert focus.returncode == 0, focus.stderr


def test_render_dot_with_fetch(tmp_path):
    out = tmp_path / "y.dot"
    result = graphc("render", EXAMPLES / "expression.py", "-o", out, "--fetch", "y:0")
    assert result.returncode == 0, result.stderr
    assert "label=tanh" in out.read_text()


def test_inspect_prints_the_table_and_writes_html(tmp_path):
    report = tmp_path / "report.html"
    result = graphc("inspect", EXAMPLES / "network.py", "--html", report)
    assert result.returncode == 0, result.stderr
    assert "fusion" in result.stdout and "total" in result.stdout
    assert "fuse_elementwise" in report.read_text()


def test_demo_runs_in_its_reduced_mode(tmp_path):
    """The README's demo in the reduced mode CI runs (480 images, 1 epoch)."""
    pytest.importorskip("sklearn", reason="the demo extra (scikit-learn) is not installed")
    result = graphc("demo", "--quick", "--no-progress", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "digits: 480 training" in out and "InceptionBlock" in out
    assert "total params: 7,362 (trainable 7,314, non-trainable 48)" in out
    assert "epoch 1/1  loss " in out and " steps/s" in out and "test accuracy 0." in out
    assert "fusion" in out and "total" in out  # the pass table of the training step
    assert "ŷ = -0.0100, ∂ŷ/∂θ0 = 0.1000 (= x0)" in out
    checkpoint = tmp_path / "demo" / "checkpoint"
    assert f"checkpoint: {checkpoint / 'digits_cnn'}" in out
    assert (checkpoint / "checkpoint").is_file() and (checkpoint / "digits_cnn.meta").is_file()
    for name in ("network", "layers", "expression"):
        if HAS_DOT:
            assert (tmp_path / "demo" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
            assert f"{tmp_path / 'demo' / name}.png" in out


def test_missing_dot_is_reported_with_exit_code_3(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    result = graphc("render", EXAMPLES / "expression.py", "-o", tmp_path / "e.png", env=env)
    assert result.returncode == 3 and "apt-get install graphviz" in result.stderr
    assert not (tmp_path / "e.png").exists()


def test_model_errors_exit_with_code_4(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    broken = tmp_path / "broken.py"
    broken.write_text("import graphc as gc\nraise RuntimeError('boom')\n")
    cases = [(empty, "builds no graph"), (broken, "RuntimeError: boom"),
             (tmp_path / "missing.py", "does not exist")]
    for model, message in cases:
        result = graphc("render", model, "-o", tmp_path / "out.dot")
        assert result.returncode == 4 and message in result.stderr, result.stderr
    unknown = graphc("render", EXAMPLES / "expression.py", "-o", tmp_path / "o.dot",
                     "--fetch", "nope:0")
    assert unknown.returncode == 4 and "unknown fetch 'nope:0'" in unknown.stderr


def test_bad_arguments_exit_with_code_2(tmp_path):
    assert graphc("render", EXAMPLES / "expression.py").returncode == 2
    result = graphc("render", EXAMPLES / "expression.py", "-o", tmp_path / "x.gif")
    assert result.returncode == 2 and "unknown format" in result.stderr


def test_installed_entry_point():
    script = Path(sys.executable).with_name("graphc")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "render" in result.stdout
