"""TF1's names for distributed training, on one machine: ``ClusterSpec`` (the jobs and task
addresses of a cluster), ``replica_device_setter`` (variables on parameter-server tasks in
turn, other ops on the worker) and ``basic_train_loop`` (a Supervisor's loop, retried when a
session is aborted).

graphc runs every op on the host: the device names these give are recorded on the ops
(``op.device``, as every ``gc.device`` scope's), so a between-graph replicated program builds
and runs unchanged as one process.

Example:
    >>> cluster = gc.train.ClusterSpec({"ps": ["ps0:2222"], "worker": ["w0:2222", "w1:2222"]})
    >>> with gc.device(gc.train.replica_device_setter(cluster=cluster)):
    ...     w = gc.Variable(0.0)          # w.op.device == "/job:ps/task:0"
"""
from __future__ import annotations

from graphc.devices import DeviceSpec
from graphc.errors import AbortedError
from graphc.ops.state import VARIABLE

# TF1's STANDARD_PS_OPS (the op types of imported TF graphs) and graphc's own variable op
_STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable",
                    "MutableHashTableV2", "MutableHashTableOfTensors",
                    "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
                    "MutableDenseHashTableV2", "VarHandleOp", VARIABLE.name)

__all__ = ["ClusterSpec", "replica_device_setter", "basic_train_loop"]


class ClusterSpec:
    """The tasks of a cluster by job: ``{job: [address, ...]}`` (tasks 0, 1, ...) or
    ``{job: {task_index: address}}`` (sparse), or another ClusterSpec.

    Example:
        >>> spec = gc.train.ClusterSpec({"worker": {1: "w1:2222"}})
        >>> spec.task_indices("worker"), spec.job_tasks("worker")
        ([1], [None, 'w1:2222'])
    """

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        if not isinstance(cluster, dict):
            raise TypeError("ClusterSpec: cluster must be a dict of job names to lists or "
                            f"dicts of task addresses, or a ClusterSpec, got {cluster!r}")
        self._jobs: dict = {}
        for job, tasks in cluster.items():
            if not isinstance(job, str):
                raise TypeError(f"ClusterSpec: job names must be strings, got {job!r}")
            if isinstance(tasks, (list, tuple)):
                tasks = dict(enumerate(tasks))
            elif not isinstance(tasks, dict):
                raise TypeError(f"ClusterSpec: the tasks of job {job!r} must be a list or a "
                                f"dict of task index to address, got {tasks!r}")
            for index, address in tasks.items():
                if not isinstance(index, int) or index < 0:
                    raise TypeError(f"ClusterSpec: task index {index!r} of job {job!r} is "
                                    "not a non-negative integer")
                if not isinstance(address, str):
                    raise TypeError(f"ClusterSpec: the address of task {index} of job "
                                    f"{job!r} must be a string, got {address!r}")
            self._jobs[job] = dict(sorted(tasks.items()))

    @property
    def jobs(self) -> list:
        """The job names, sorted."""
        return sorted(self._jobs)

    def _tasks(self, job_name):
        try:
            return self._jobs[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def num_tasks(self, job_name) -> int:
        """How many tasks ``job_name`` has."""
        return len(self._tasks(job_name))

    def task_indices(self, job_name) -> list:
        """The task indices of ``job_name``, sorted."""
        return list(self._tasks(job_name))

    def task_address(self, job_name, task_index) -> str:
        """The address of one task."""
        tasks = self._tasks(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}") from None

    def job_tasks(self, job_name) -> list:
        """The addresses of ``job_name``'s tasks by index, None where an index is missing."""
        tasks = self._tasks(job_name)
        return [tasks.get(i) for i in range(max(tasks) + 1)] if tasks else []

    def as_dict(self) -> dict:
        """``{job: [addresses]}`` where a job's indices are 0..n-1, else ``{job: {i: a}}``."""
        return {job: list(tasks.values()) if list(tasks) == list(range(len(tasks)))
                else dict(tasks) for job, tasks in self._jobs.items()}

    def __bool__(self) -> bool:
        return bool(self._jobs)

    def __eq__(self, other) -> bool:
        return isinstance(other, ClusterSpec) and self._jobs == other._jobs

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"ClusterSpec({self.as_dict()!r})"


def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker",
                          merge_devices=True, cluster=None, ps_ops=None, ps_strategy=None):
    """A device function for ``gc.device``: ops of the ``ps_ops`` types (variables, by
    default) go to ``ps_device/task:i`` for i = 0, 1, ... in turn (or as ``ps_strategy(op)``
    says), every other op to ``worker_device``; an op's own device, where it has one, keeps
    its set fields (``merge_devices``). None when there is no parameter server (TF1's).

    Example:
        >>> with gc.device(gc.train.replica_device_setter(ps_tasks=2)):
        ...     a, b = gc.Variable(1.0), gc.Variable(2.0)    # /job:ps/task:0, /job:ps/task:1
    """
    if cluster is not None:
        spec = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)
        ps_tasks = spec.num_tasks("ps") if "ps" in spec.jobs else 0
    if ps_tasks == 0:
        return None
    if not merge_devices:
        raise ValueError("replica_device_setter: merge_devices=False is deprecated in TF1 "
                         "and not supported")
    ps_types = frozenset(ps_ops or _STANDARD_PS_OPS)
    turn = [0]

    def round_robin(op) -> int:
        task = turn[0]
        turn[0] = (turn[0] + 1) % ps_tasks
        return task

    choose = ps_strategy or round_robin

    def device_function(op) -> str:
        current = DeviceSpec.from_string(op.device or "")
        if op.type in ps_types:
            target = DeviceSpec.from_string(ps_device or "")
            # a task of the ps job, unless the op asked for another job (TF1's rule)
            if target.job is not None and current.job in (None, target.job):
                target.task = choose(op)
        else:
            target = DeviceSpec.from_string(worker_device or "")
        target.merge_from(current)  # the op's own fields win
        return target.to_string()
    return device_function


def basic_train_loop(supervisor, train_step_fn, args=None, kwargs=None, master=""):
    """Run ``train_step_fn(session, *args, **kwargs)`` in a ``supervisor.managed_session``
    until the supervisor should stop; an aborted session starts the loop again (TF1's
    ``tf.train.basic_train_loop``).

    Example:
        >>> gc.train.basic_train_loop(sv, lambda sess: sess.run(train_op))
    """
    args, kwargs = list(args or []), dict(kwargs or {})
    while True:
        try:
            with supervisor.managed_session(master) as session:
                while not supervisor.should_stop():
                    train_step_fn(session, *args, **kwargs)
            return
        except AbortedError:
            continue
