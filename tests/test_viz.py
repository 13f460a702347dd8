"""Pictures: DOT structure, styles, clusters and views; PNG output; the pass report."""
import shutil

import numpy as np
import pytest

import graphc as gc
from graphc.viz import DotNotFoundError
from graphc.viz.dot import escape
from graphc.viz.report import html_report, pass_table

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="graphviz 'dot' is not installed here "
                               "(CI installs it, so these run there)")


def _dense_model():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 4), name="x")
        with gc.name_scope("dense"):
            w = gc.Variable(np.ones((4, 3), np.float32), name="W")
            y = gc.nn.relu(gc.matmul(x, w) + 1.0)
        loss = gc.reduce_mean(gc.square(y), name="loss")
        grads = gc.gradients(loss, [w])
    return g, x, w, y, loss, grads


def _dot(target, tmp_path, **options):
    return gc.render(target, tmp_path / "g.dot", **options).read_text()


def test_dot_has_nodes_edges_labels_and_clusters(tmp_path):
    g, x, w, y, loss, grads = _dense_model()
    text = _dot(loss, tmp_path)
    assert 'label="x\\nplaceholder"' in text and "shape=ellipse" in text
    assert "shape=cylinder" in text and 'label=matmul' in text
    assert "subgraph cluster_dense" in text and 'label="f32[?,3]"' in text
    assert "gradients" not in text  # the expression tree of loss has no gradient ops
    whole = _dot(g, tmp_path)
    assert "subgraph cluster_gradients" in whole and "dashed" in whole
    assert "shape=note" in whole  # constants


def test_hide_constants_collapse_and_focus(tmp_path):
    g, x, w, y, loss, grads = _dense_model()
    assert "shape=note" not in _dot(g, tmp_path, hide_constants=True)
    collapsed = _dot(g, tmp_path, collapse_depth=0)
    assert "shape=folder" in collapsed and "cluster_dense" not in collapsed
    focus = _dot(y, tmp_path, depth=1)
    assert "label=relu" in focus and "label=matmul" not in focus and "penwidth=3" in focus


def test_large_graphs_collapse_by_default_and_say_so(tmp_path):
    g = gc.Graph()
    with g.as_default():
        h = gc.placeholder(gc.float32, (2,), name="x")
        for i in range(60):
            with gc.name_scope(f"layer{i}_{i % 7}"):
                h = gc.tanh(h * 1.5 + 0.5)
    text = _dot(g, tmp_path, max_nodes=100, fold_repeats=False)
    assert "collapsed to stay under 100 boxes" in text and "shape=folder" in text


def test_repeated_blocks_are_folded_with_a_count(tmp_path):
    g = gc.Graph()
    with g.as_default():
        h = gc.placeholder(gc.float32, (2,), name="x")
        for i in range(1, 4):
            with gc.name_scope(f"block{i}"):
                h = gc.tanh(gc.exp(h) * 2.0 + 1.0)
    text = _dot(h, tmp_path)
    assert "×3: block1 … block3" in text and "cluster_block2" not in text


def test_cost_view_colours_by_estimated_flops(tmp_path):
    g, x, w, y, loss, grads = _dense_model()
    text = _dot(loss, tmp_path, cost="flops")
    assert "24 flop" in text  # matmul of (1, 4) by (4, 3): 2 * 3 * 4
    assert "estimated flops" in text and "#ff" in text


def test_labels_are_escaped():
    assert escape("a{b}|<c>") == "a\\{b\\}\\|\\<c\\>"


def test_unknown_format_is_refused(tmp_path):
    g, *_ = _dense_model()
    with pytest.raises(ValueError, match="unknown format '.gif'"):
        gc.render(g, tmp_path / "g.gif")


@needs_dot
@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                          (".pdf", b"%PDF")])
def test_picture_formats_are_valid(tmp_path, suffix, magic):
    g, x, w, y, loss, grads = _dense_model()
    path = gc.render(g, tmp_path / f"g{suffix}")
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 2000


@needs_dot
def test_missing_dot_is_a_clear_error_and_leaves_no_file(tmp_path, monkeypatch):
    g, *_ = _dense_model()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        gc.render(g, tmp_path / "g.png")
    assert not list(tmp_path.glob("g.png*"))


def test_text_ir_lists_one_line_per_op():
    g, x, w, y, loss, grads = _dense_model()
    lines = str(g).splitlines()
    assert len(lines) == len(g.get_operations())
    assert any(line.startswith("%") and "= matmul(" in line and ": f32[?,3]" in line
               for line in lines)


def test_pass_table_and_html_report_name_every_pass(tmp_path):
    g, x, w, y, loss, grads = _dense_model()
    optimized, records = gc.optimize(g, [loss] + grads, feeds=[x])
    table = pass_table(records)
    for record in records:
        assert record.name in table
    assert "total" in table.splitlines()[-1]
    path = html_report(records, tmp_path / "report.html", original=g)
    page = path.read_text()
    for index, record in enumerate(records):
        assert f"<h2 id='pass-{index}'>{index}. {record.name}</h2>" in page
    if HAS_DOT:
        assert page.count("<svg") >= 2
    assert "--- before" in page or "No change" in page
