"""graphc.dask on a dask.distributed LocalCluster: tasks travel as (op type, attrs) and
row-wise regions as recipes of them, rebuilt on the workers, and a failing task still names the user's op and line."""
import numpy as np
import pytest

import graphc as gc

pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import graphc.dask as gd  # noqa: E402

from .test_dask import assert_same, data, mlp, region_tasks  # noqa: E402


@pytest.fixture(scope="module", params=[False, True], ids=["threads", "processes"])
def client(request):
    """A LocalCluster of in-process workers, and one of a worker process (pickled tasks)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=request.param,
                                  dashboard_address=None, memory_limit="1GiB") as cluster:
        with distributed.Client(cluster) as connected:
            yield connected


def test_mlp_gradients_and_a_training_step_on_a_cluster(client):
    graph = gc.Graph()
    with graph.as_default():
        x, y, loss, variables = mlp(graph)
        fetches = [loss] + gc.gradients(loss, variables)
        train = gc.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = gc.global_variables_initializer()
    X, Y = data()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        expected = sess.run(fetches, {x: X, y: Y})
        sess.run(train, {x: X, y: Y})
        trained = sess.run(variables)
    with gd.Session(graph=graph, chunks=40, client=client) as sess:
        sess.run(init)
        # row-wise regions travel as recipes, rebuilt into a plan on each worker
        assert region_tasks(sess.run(fetches, {x: X, y: Y}, compute=False)) == 3
        assert_same(expected, sess.run(fetches, {x: X, y: Y}))
        sess.run(train, {x: X, y: Y})
        assert_same(trained, sess.run(variables))


def test_a_task_failing_on_a_worker_names_the_users_op(client):
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, [None, 2])
        index = gc.placeholder(gc.int32, [None])
        picked = gc.gather(gc.constant(np.ones((4, 2), np.float32)), index, name="pick") + x
    with gd.Session(graph=graph, chunks=3, client=client) as sess:
        with pytest.raises(gc.errors.InvalidArgumentError,
                           match=r"op 'pick' \(gather, defined at .*test_dask_distributed.py:"
                                 r"\d+\) failed at run time on a chunk: .*9") as caught:
            sess.run(picked, {x: np.zeros((8, 2), np.float32),
                              index: np.array([0, 1, 2, 3, 0, 1, 9, 2], np.int32)})
    assert caught.value.op is picked.op.inputs[0].op
