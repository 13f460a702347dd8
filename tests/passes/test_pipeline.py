"""The pipeline as users meet it: Session integration, configuration, records, provenance,
verification, bisection, and how much gradient graphs shrink."""
import inspect
import time

import numpy as np
import pytest

import graphc as gc
from graphc import passes
from graphc.passes import Interface, PassError, PassOptions, algebraic, cse, prune
from graphc.passes.patterns import Pat, Rule, X, const, rules_by_root
from graphc.passes.result import EXACT, histogram
from graphc.passes.verify import VerificationError, verify
from graphc.shapes import TensorShape
from tests.passes.tools import evaluate

F = gc.float64


def _model():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (None, 3), name="x")
        w = gc.Variable(np.arange(6.0).reshape(3, 2) / 10, name="w")
        y = gc.identity(gc.matmul(x, w) * 1.0 + 0.0, name="y")
        loss = gc.reduce_sum(gc.square(y), name="loss")
        [grad] = gc.gradients(loss, [w])
        init = gc.global_variables_initializer()
    return g, x, w, y, loss, grad, init


def test_session_optimizes_a_copy_and_caches_it():
    g, x, w, y, loss, grad, init = _model()
    before = [(op.name, op.type, [t.shape for t in op.outputs], list(op.inputs))
              for op in g.get_operations()]
    feed = {x: np.ones((2, 3))}
    with gc.Session(graph=g) as sess:
        sess.run(init)
        first = sess.run([loss, grad], feed)
        plan = sess._plans[next(iter(k for k in sess._plans if loss in k[0]))]
        sess.run([loss, grad], feed)
        assert sess._plans[next(iter(k for k in sess._plans if loss in k[0]))] is plan
        records = sess.optimization_records([loss, grad], feed)
    after = [(op.name, op.type, [t.shape for t in op.outputs], list(op.inputs))
             for op in g.get_operations()]
    assert before == after  # the user's graph is never mutated
    assert records[0].name == "prune" and records[-1].name == "relu_bias_grads"
    with gc.Session(graph=g, optimize=False) as plain:
        plain.run(init)
        reference = plain.run([loss, grad], feed)
        assert plain.optimization_records([loss, grad], feed) == []
    for got, want in zip(first, reference):
        np.testing.assert_allclose(got, want)


def test_configuration_by_names_disabled_and_safety():
    g, x, w, y, loss, grad, init = _model()
    feed = {x: np.ones((2, 3))}
    with gc.Session(graph=g, optimize=["constant_folding", "cse"]) as sess:
        names = {r.name for r in sess.optimization_records(loss, feed)}
    assert names == {"prune", "constant_folding", "cse"}
    config = gc.OptimizerConfig(disabled=("fusion", "algebraic"), safety=("exact",))
    with gc.Session(graph=g, optimize=config) as sess:
        records = sess.optimization_records(loss, feed)
    assert "fusion" not in {r.name for r in records}
    assert all(rw.safety == "exact" for r in records for rw in r.rewrites)
    with pytest.raises(ValueError, match="Unknown pass 'folding'"):
        gc.OptimizerConfig(passes=("folding",))


def test_optimize_returns_a_graph_and_one_record_per_pass():
    g, x, w, y, loss, grad, init = _model()
    user_ops = list(g.get_operations())
    started = time.perf_counter()
    optimized, records = gc.optimize(g, [loss, grad], feeds=[x])
    elapsed = time.perf_counter() - started
    assert optimized is not g and g.get_operations() == user_ops  # the user's graph is kept
    assert [r.name for r in records][:2] == ["prune", "constant_folding"]
    assert 0 < sum(r.seconds for r in records) <= elapsed  # measured, in seconds
    for record in records:
        assert record.seconds > 0 and sum(record.histogram_after.values()) == record.nodes_after
    rewritten = [r for r in records if r.rewrites]
    assert any(rw.rule == "remove_identity" for r in rewritten for rw in r.rewrites)
    assert "algebraic" in {r.name for r in rewritten}


def test_every_optimized_op_knows_its_origin():
    g, x, w, y, loss, grad, init = _model()
    optimized, records = gc.optimize(g, [loss, grad], feeds=[x])
    user_names = {op.name for op in g.get_operations()}
    for op in optimized.get_operations():
        made_by, sources = op.provenance
        assert sources and set(sources) <= user_names, (op.name, op.provenance)
        if made_by is not None:
            assert made_by.split("/")[0] in {"constant_folding", "algebraic", "stabilize",
                                             "cse", "fusion"}


def test_run_time_errors_in_fused_code_point_at_user_ops():
    g = gc.Graph()
    with g.as_default():
        a = gc.placeholder(F, (None,), name="a")
        b = gc.placeholder(F, (None,), name="b")
        out = gc.tanh(a * 2.0 + b)
    with gc.Session(graph=g) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError) as info:
            sess.run(out, {a: np.ones(2), b: np.ones(3)})
    message = str(info.value)
    assert "made by fusion/fuse_elementwise from user op(s)" in message and "'add'" in message


def test_verifier_names_the_pass_that_broke_the_graph():
    g, x, w, y, loss, grad, init = _model()
    optimized, records = gc.optimize(g, [loss], feeds=[x])
    verify(optimized, records[-1].interface, after="everything")
    victim = next(op for op in optimized.get_operations() if op.type == "matmul")
    victim.outputs[0]._shape = TensorShape([7, 7])
    with pytest.raises(VerificationError, match="after cse: .* inference gives"):
        verify(optimized, records[-1].interface, after="cse")


def test_bisect_finds_a_wrong_rule(monkeypatch):
    """A deliberately wrong rule (x * 2 -> x + x + x) is found, with its before/after."""
    wrong = Rule("triple_instead_of_double", Pat("multiply", X, const("two", lambda v: np.all(
        v == 2))), lambda m: m.x + m.x + m.x, EXACT, "x * 2 -> 3x (wrong on purpose)")
    monkeypatch.setattr(algebraic, "INDEX", rules_by_root(algebraic.ALGEBRAIC_RULES + [wrong]))
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        out = gc.reduce_sum(gc.exp(x) * 1.0 + x * 2.0, name="out")
    report = gc.bisect(g, [out], {x: [0.1, 0.2, 0.3]})
    assert report.found and report.pass_name == "algebraic"
    assert report.rewrite.rule == "triple_instead_of_double"
    assert "multiply" in report.before and "add" in report.after
    assert "triple_instead_of_double" in str(report)
    monkeypatch.undo()
    assert not gc.bisect(g, [out], {x: [0.1, 0.2, 0.3]}).found


def _mlp_training_graph():
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, (None, 784), name="x")
        labels = gc.placeholder(gc.int32, (None,), name="labels")
        params, h = [], x
        for i, (n_in, n_out) in enumerate([(784, 256), (256, 256), (256, 10)]):
            w = gc.Variable(gc.random_normal([n_in, n_out], stddev=0.05, seed=i), name=f"W{i}")
            b = gc.Variable(gc.zeros([n_out]), name=f"b{i}")
            params += [w, b]
            h = gc.matmul(h, w) + b
            h = gc.nn.relu(h) if i < 2 else h
        loss = gc.reduce_mean(gc.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=h))
        grads = gc.gradients(loss, params)
    return g, x, labels, loss, grads


def test_mlp_gradient_graph_shrinks_substantially():
    g, x, labels, loss, grads = _mlp_training_graph()
    optimized, records = gc.optimize(g, [loss] + grads, feeds=[x, labels])
    before, after = records[0].nodes_after, records[-1].nodes_after
    # measured: 52 -> 41 (the gradient builder's graph is lean already: the sparse
    # cross-entropy's gradient is one backprop op, bias gradients are reduced statically)
    assert after <= 0.8 * before, (before, after)


# -- the pass interface: options, the schedule, failures ------------------------------------
def test_a_misspelled_option_is_refused_naming_the_valid_ones():
    """One typed options record: nothing is swallowed silently."""
    g, x, w, y, loss, grad, init = _model()
    pruned = prune.run(g, Interface((loss,), (), (x,)))
    with pytest.raises(TypeError, match="no option 'fold_limt'; valid options: safety, "
                                        "fold_limit, budget"):
        PassOptions(fold_limt=10)
    with pytest.raises(TypeError, match="OptimizerConfig has no option 'safty'.*safety"):
        gc.OptimizerConfig(safty=("exact",))
    with pytest.raises(TypeError):
        cse.run(pruned.graph, pruned.interface, fold_limit=10)  # options: a record
    with pytest.raises(ValueError, match="Unknown safety class 'exactly'"):
        PassOptions(safety=("exactly",))


def test_the_pipeline_list_is_the_whole_schedule(monkeypatch):
    """No pass runs that PIPELINE does not name; without prune, the runner copies the graph
    once before the first in-place pass, and the user's graph stays as it was."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        out = gc.exp(x) * 1.0 + gc.exp(x)
    text = g.as_text()
    monkeypatch.setattr(passes, "PIPELINE", (passes.Pass("cse", cse.run, cse.edit),))
    optimized, records = gc.optimize(g, [out], feeds=[x])
    assert [r.name for r in records] == ["cse"] and records[0].changed
    assert g.as_text() == text and optimized is not g
    with pytest.raises(ValueError, match="'prune' always runs"):
        gc.OptimizerConfig(disabled=("prune",))


def test_optimize_keeps_the_users_graph_and_a_snapshot_per_changed_pass():
    """Passes edit one working copy in place; gc.optimize's records still show each pass's
    own result (for before/after reports), and the user's graph is untouched."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (4,), name="x")
        out = gc.tanh(gc.exp(x) * 1.0) + gc.tanh(gc.exp(x) * 1.0) * gc.constant(2.0, F) * 3.0
    before = [(op.name, [t.name for t in op.inputs], [c.name for t in op.outputs
                                                       for c in t.consumers()])
              for op in g.get_operations()]
    optimized, records = gc.optimize(g, [out], feeds=[x])
    after = [(op.name, [t.name for t in op.inputs], [c.name for t in op.outputs
                                                      for c in t.consumers()])
             for op in g.get_operations()]
    assert before == after
    changed = [r for r in records if r.changed]
    assert len({id(r.graph) for r in changed}) == len(changed) >= 3
    for record in records:
        assert len(record.graph) == record.nodes_after, record.name
        assert record.histogram_after == histogram(record.graph), record.name
    values = np.linspace(-1, 1, 4)
    for record in changed:
        np.testing.assert_allclose(
            evaluate(record.graph, record.interface, [values])[0],
            evaluate(g, Interface((out,), (), (x,)), [values])[0], err_msg=record.name)
    with gc.Session(graph=g) as sess:  # a Session's records share its one working graph
        shared = {id(r.graph) for r in sess.optimization_records(out, {x: values})}
    assert len(shared) == 1  # prune's copy, edited in place by every later pass


def test_an_exception_inside_a_pass_names_the_pass_rule_op_and_line(monkeypatch):
    """A rule that crashes (a planted bug) is reported with everything needed to find it."""
    def crash(match):
        raise TypeError("'NoneType' object cannot be interpreted as an integer")
    broken = Rule("broken_rule", Pat("tanh", X), crash, EXACT, "tanh(x) -> ? (planted)")
    monkeypatch.setattr(algebraic, "INDEX", rules_by_root(algebraic.ALGEBRAIC_RULES + [broken]))
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        out = gc.tanh(x, name="squash")  # the user's line
    line = f"{__file__}:{inspect.currentframe().f_lineno - 1}"
    with gc.Session(graph=g) as sess, pytest.raises(PassError) as info:
        sess.run(out, {x: np.ones(3)})
    message = str(info.value)
    assert "pass 'algebraic' (after prune, constant_folding) failed in rule 'broken_rule'" \
        in message
    assert "op 'squash' (tanh, defined at " + line in message
    assert isinstance(info.value.__cause__, TypeError) and "NoneType" in message
    assert info.value.pass_name == "algebraic" and info.value.op.name == "squash"


def test_a_repeat_group_reruns_an_idempotent_pass_only_after_others_changed_the_graph():
    """Only CSE changes anything here: the group runs again for the rule tables, but CSE
    and DCE (which finish in one sweep) are not run again for nothing."""
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(F, (3,), name="x")
        out = gc.sin(x) * gc.tanh(gc.sin(x))
    optimized, records = gc.optimize(g, [out], feeds=[x], config=gc.OptimizerConfig(
        disabled=("xent_pairs", "pool_taps", "scaled_updates", "fusion", "epilogue", "relu_bias_grads")))
    assert [r.name for r in records] == [
        "prune", "constant_folding", "algebraic", "stabilize", "sibling_merge", "cse", "dce",
        "unused_columns", "loop_dead_values", "branch_folding", "loop_invariant_motion", "loop_accumulations",
        "subgraphs",
        "constant_folding",
        "algebraic",
        "stabilize",
        "sibling_merge"]  # CSE changed the graph after it ran
    assert [r.name for r in records if r.changed] == ["cse"]
