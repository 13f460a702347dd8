"""Graph collections with TF1's GraphKeys and regex scope filters; local and model variables."""
import numpy as np
import pytest

import graphc as gc


@pytest.fixture
def graph():
    g = gc.Graph()
    with g.as_default():
        yield g


def test_graph_keys_have_tf1_values():
    keys = gc.GraphKeys
    assert (keys.GLOBAL_VARIABLES, keys.LOCAL_VARIABLES, keys.TRAINABLE_VARIABLES,
            keys.MODEL_VARIABLES, keys.REGULARIZATION_LOSSES, keys.UPDATE_OPS, keys.LOSSES,
            keys.SUMMARIES, keys.QUEUE_RUNNERS, keys.GLOBAL_STEP, keys.TRAIN_OP,
            keys.MOVING_AVERAGE_VARIABLES) == (
        "variables", "local_variables", "trainable_variables", "model_variables",
        "regularization_losses", "update_ops", "losses", "summaries", "queue_runners",
        "global_step", "train_op", "moving_average_variables")
    assert keys.VARIABLES == keys.GLOBAL_VARIABLES


def test_scope_filter_is_a_regex_match_from_the_start(graph):
    made = {}
    for name in ("tower_0/w", "tower_1/w", "head/w", "x/tower_2/w"):
        with gc.variable_scope(name.rsplit("/", 1)[0]):
            made[name] = gc.get_variable("w", [1])
    names = lambda scope: [v.op.name for v in gc.get_collection(  # noqa: E731
        gc.GraphKeys.GLOBAL_VARIABLES, scope)]
    assert names("tower_[01]") == ["tower_0/w", "tower_1/w"]
    assert names("head|tower_1") == ["tower_1/w", "head/w"]
    assert names("tower") == ["tower_0/w", "tower_1/w"]  # match, not search
    assert gc.trainable_variables("x/") == [made["x/tower_2/w"]]
    gc.add_to_collection("mixed", 3)  # items without a name drop out under a scope filter
    gc.add_to_collection("mixed", made["head/w"])
    assert gc.get_collection("mixed") == [3, made["head/w"]]
    assert gc.get_collection("mixed", "head") == [made["head/w"]]


def test_add_get_and_edit_collections(graph):
    gc.add_to_collections(["a", "b", "a"], "item")
    gc.add_to_collections("c", "other")
    assert gc.get_collection("a") == ["item"] and gc.get_collection("b") == ["item"]
    assert gc.get_collection("c") == ["other"] and gc.get_collection("missing") == []
    copy = gc.get_collection("a")
    copy.append("not stored")
    ref = gc.get_collection_ref("a")
    ref.append("stored")
    assert gc.get_collection("a") == ["item", "stored"]
    assert gc.get_collection_ref("new") == [] and "new" in graph.get_all_collection_keys()
    graph.clear_collection("a")
    assert gc.get_collection("a") == []


def test_local_variables_are_not_global_and_have_their_initializer(graph):
    count = gc.Variable(0, collections=[gc.GraphKeys.LOCAL_VARIABLES], name="count")
    weight = gc.Variable(np.ones(2), name="weight")
    model = gc.Variable(1.0, collections=[gc.GraphKeys.MODEL_VARIABLES,
                                          gc.GraphKeys.GLOBAL_VARIABLES], name="model")
    assert gc.local_variables() == [count] and count not in gc.global_variables()
    assert gc.model_variables() == [model] and gc.global_variables() == [weight, model]
    assert gc.all_variables() == gc.global_variables() and gc.moving_average_variables() == []
    init_global = gc.global_variables_initializer()
    init_local = gc.local_variables_initializer()
    assert (init_global.name, init_local.name) == ("init", "init_1")
    bump = gc.assign_add(count, 1)
    ready = [gc.is_variable_initialized(v) for v in (count, weight)]
    assert ready[0].dtype == gc.bool and ready[0].shape == ()
    with gc.Session() as sess:
        assert sess.run(ready) == [False, False]
        sess.run(init_global)
        assert sess.run(ready) == [False, True]
        with pytest.raises(gc.errors.FailedPreconditionError):
            sess.run(bump)
        sess.run(init_local)
        assert sess.run(ready) == [True, True]
        assert sess.run(bump) == 1 and sess.run(bump) == 2
        sess.run(gc.initialize_local_variables())
        assert sess.run(count) == 0
