"""tf.train.ClusterSpec, replica_device_setter and basic_train_loop (monitored/cluster.py)."""
import pytest

import graphc as gc


def test_cluster_spec_lists_jobs_and_tasks():
    spec = gc.train.ClusterSpec({"ps": ["ps0:2222", "ps1:2222"],
                                 "worker": {0: "w0:2222", 3: "w3:2222"}})
    assert spec.jobs == ["ps", "worker"]
    assert spec.num_tasks("ps") == 2 and spec.num_tasks("worker") == 2
    assert spec.task_indices("worker") == [0, 3]
    assert spec.task_address("ps", 1) == "ps1:2222"
    assert spec.job_tasks("worker") == ["w0:2222", None, None, "w3:2222"]
    assert spec.as_dict() == {"ps": ["ps0:2222", "ps1:2222"],
                              "worker": {0: "w0:2222", 3: "w3:2222"}}
    assert gc.train.ClusterSpec(spec) == spec and spec != gc.train.ClusterSpec({})
    assert not gc.train.ClusterSpec({}) and spec


@pytest.mark.parametrize("call, match", [
    (lambda s: s.num_tasks("chief"), "No such job in cluster: 'chief'"),
    (lambda s: s.task_address("ps", 5), "No task with index 5 in job 'ps'"),
])
def test_cluster_spec_names_missing_jobs_and_tasks(call, match):
    with pytest.raises(ValueError, match=match):
        call(gc.train.ClusterSpec({"ps": ["ps0:2222"]}))


@pytest.mark.parametrize("cluster", [["a:1"], {"ps": "a:1"}, {"ps": {-1: "a:1"}},
                                     {"ps": [1234]}, {3: ["a:1"]}])
def test_cluster_spec_refuses_malformed_clusters(cluster):
    with pytest.raises(TypeError, match="ClusterSpec"):
        gc.train.ClusterSpec(cluster)


def test_replica_device_setter_puts_variables_on_ps_tasks_in_turn():
    cluster = {"ps": ["ps0:1", "ps1:1"], "worker": ["w0:1"]}
    with gc.Graph().as_default():
        with gc.device(gc.train.replica_device_setter(cluster=cluster)):
            a, b, c = gc.Variable(1.0), gc.Variable(2.0), gc.Variable(3.0)
            total = a + b + c
            with gc.device("/job:worker/task:7"):
                pinned = gc.Variable(4.0)
        devices = [v.op.device for v in (a, b, c)]
        assert devices == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0"]
        assert total.op.device == "/job:worker"
        assert pinned.op.device == "/job:worker/task:7"  # asked for another job: kept
        with gc.Session() as sess:  # one process runs it all
            sess.run(gc.global_variables_initializer())
            assert sess.run(total) == 6.0


def test_replica_device_setter_without_ps_is_none_and_takes_a_strategy():
    assert gc.train.replica_device_setter() is None
    assert gc.train.replica_device_setter(cluster={"worker": ["w:1"]}) is None
    with gc.Graph().as_default():
        with gc.device(gc.train.replica_device_setter(ps_tasks=3, ps_strategy=lambda op: 2,
                                                      worker_device="/job:worker/task:1")):
            v = gc.Variable(1.0)
            y = v * 2.0
        assert v.op.device == "/job:ps/task:2" and y.op.device == "/job:worker/task:1"


class FakeSupervisor:
    """Two sessions: the first aborts after two steps, the second stops after three."""

    def __init__(self):
        self.sessions, self.steps = 0, 0

    def managed_session(self, master=""):
        supervisor = self

        class Session:
            def __enter__(self):
                supervisor.sessions += 1
                return self

            def __exit__(self, *exc):
                return False
        return Session()

    def should_stop(self):
        return self.steps >= 5


def test_basic_train_loop_retries_an_aborted_session():
    supervisor = FakeSupervisor()
    seen = []

    def step(session, scale, offset=0):
        supervisor.steps += 1
        seen.append(supervisor.steps * scale + offset)
        if supervisor.steps == 2 and supervisor.sessions == 1:
            raise gc.errors.AbortedError(None, None, "aborted")

    gc.train.basic_train_loop(supervisor, step, args=[10], kwargs={"offset": 1})
    assert supervisor.sessions == 2 and seen == [11, 21, 31, 41, 51]


def test_piecewise_constant_decay_is_piecewise_constant():
    assert gc.train.piecewise_constant_decay is gc.train.piecewise_constant
