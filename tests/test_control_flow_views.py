"""How control flow shows: the text IR lists subgraphs under their op, pictures draw a
loop as a labelled cluster, the pass table shows what happened inside bodies."""
import shutil

import pytest

import graphc as tf
from graphc.viz.report import pass_table, subgraph_table


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def loop_with_branch():
    x = tf.placeholder(tf.float32, [3], name="x")
    _, s = tf.while_loop(lambda i, s: i < 3,
                         lambda i, s: (i + 1, tf.cond(i > 1, lambda: s * 2.0, lambda: s)),
                         [0, x], name="steps")
    return x, s


def test_text_ir_prints_subgraphs_indented_under_their_op():
    loop_with_branch()
    lines = str(tf.get_default_graph()).splitlines()
    head = next(k for k, line in enumerate(lines) if "= while_loop(" in line)
    assert lines[head + 1].startswith("  cond(") and "->" in lines[head + 1]
    body = next(k for k, line in enumerate(lines) if line.startswith("  body("))
    branch = next(k for k, line in enumerate(lines) if line.startswith("      true_fn("))
    assert body < branch
    assert any(line.startswith("        ") and "multiply(" in line for line in lines[branch:])


def test_elementwise_ops_on_outer_tensors_inside_a_branch_belong_to_the_branch():
    x = tf.placeholder(tf.float32, [3])
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: -x)
    [cond] = [op for op in tf.get_default_graph().get_operations() if op.type == "cond"]
    false_fn, true_fn = cond.attrs["branches"]
    assert "multiply" in [op.type for op in true_fn.ops()]
    assert "negative" in [op.type for op in false_fn.ops()]
    assert "multiply" not in [op.type for op in tf.get_default_graph().get_operations()]
    del y


def test_a_loop_renders_as_a_labelled_cluster_of_its_subgraphs(tmp_path):
    _, s = loop_with_branch()
    path = tmp_path / "loop.dot"
    tf.render(s, str(path))
    source = path.read_text()
    assert "label=\"while_loop 'steps'\"" in source
    for label in ("label=body", "label=cond", "label=true_fn", "label=false_fn",
                  "label=\"cond 'steps/cond'\""):
        assert label in source, label
    if shutil.which("dot"):
        tf.render(s, str(tmp_path / "loop.png"))
        assert (tmp_path / "loop.png").stat().st_size > 1000


def test_the_pass_table_shows_what_happened_inside_bodies():
    x = tf.placeholder(tf.float32, [3], name="x")
    _, s = tf.while_loop(lambda i, s: i < 3,
                         lambda i, s: (i + 1, tf.sin(s) * 1.0 + tf.exp(tf.constant(0.0))),
                         [0, x], name="steps")
    _, records = tf.optimize(tf.get_default_graph(), [s], feeds=[x])
    table = pass_table(records)
    row = next(line for line in table.splitlines() if "in steps/body" in line)
    assert "fold_mul_one" in row and "fold_constants" in row
    detail = subgraph_table(records)
    assert detail.startswith("steps/cond") and "steps/body" in detail
