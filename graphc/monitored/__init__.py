"""Monitored training (TF1's ``tf.train.MonitoredTrainingSession``, ``Scaffold``, the
session-run hooks, ``Coordinator`` and queue runners), exported through ``gc.train``.

Example:
    >>> hooks = [gc.train.StopAtStepHook(last_step=1000), gc.train.NanTensorHook(loss)]
    >>> with gc.train.MonitoredTrainingSession(checkpoint_dir="run", hooks=hooks) as sess:
    ...     while not sess.should_stop():
    ...         sess.run(train_op)
"""
from graphc.monitored.basic_hooks import (FeedFnHook, FinalOpsHook,  # noqa: F401
                                          GlobalStepWaiterHook, LoggingTensorHook,
                                          NanLossDuringTrainingError, NanTensorHook,
                                          SecondOrStepTimer, StopAtStepHook,
                                          assert_global_step)
from graphc.monitored.coordinator import (Coordinator, LooperThread, QueueRunner,  # noqa
                                          add_queue_runner, start_queue_runners)
from graphc.monitored.run_hook import (SessionRunArgs, SessionRunContext,  # noqa: F401
                                       SessionRunHook, SessionRunValues)
from graphc.monitored.saving_hooks import (CheckpointSaverHook,  # noqa: F401
                                           CheckpointSaverListener, StepCounterHook,
                                           SummarySaverHook)
from graphc.monitored.scaffold import (ChiefSessionCreator, Scaffold,  # noqa: F401
                                       SessionCreator, WorkerSessionCreator,
                                       report_uninitialized_variables)
from graphc.monitored.session_manager import SessionManager  # noqa: F401
from graphc.monitored.session import (MonitoredSession, SingularMonitoredSession,  # noqa
                                      StepContext)
from graphc.monitored.supervisor import Supervisor  # noqa: F401
from graphc.monitored.training_session import MonitoredTrainingSession  # noqa: F401
from graphc.monitored.checkpoint_utils import (checkpoints_iterator,  # noqa: F401
                                               get_checkpoint_mtimes, init_from_checkpoint,
                                               load_checkpoint, warm_start)
