"""A process killed (SIGKILL) at a random moment while it saves checkpoints leaves the previous
checkpoint loadable: files are replaced atomically and the state file is written last. Also:
a checkpoint file that is a pickle is refused without running it."""
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import graphc as gc

SAVING_LOOP = textwrap.dedent("""
    import sys, numpy as np, graphc as gc
    folder = sys.argv[1]
    W = gc.Variable(np.zeros((300, 300), np.float32), name="W")
    b = gc.Variable(np.zeros(300, np.float32), name="b")
    value = gc.placeholder(gc.float32, ())
    fill = gc.group(gc.assign(W, gc.fill([300, 300], value)), gc.assign(b, gc.fill([300], value)))
    saver = gc.train.Saver(max_to_keep=2)
    with gc.Session() as sess:
        sess.run(gc.global_variables_initializer())
        for step in range(1, 100000):
            sess.run(fill, {value: float(step)})
            saver.save(sess, folder + "/model.ckpt", global_step=step)
            saver.save(sess, folder + "/fixed.ckpt", write_state=False)  # same path every time
            print(step, flush=True)
""")


def _restored(path):
    graph = gc.Graph()
    with graph.as_default():
        W = gc.Variable(np.full((300, 300), -1, np.float32), name="W")
        b = gc.Variable(np.full(300, -1, np.float32), name="b")
        saver = gc.train.Saver()
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            saver.restore(sess, path)
            return sess.run(W), sess.run(b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_during_saves_leaves_the_previous_checkpoint_loadable(tmp_path, seed):
    script = tmp_path / "loop.py"
    script.write_text(SAVING_LOOP)
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path)],
                               stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()  # one complete round is on disk
        assert first.strip() == "1", first
        time.sleep(random.Random(seed).uniform(0.0, 0.4))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    latest = gc.train.latest_checkpoint(str(tmp_path))
    assert latest is not None
    step = int(latest.rpartition("-")[2])
    W, b = _restored(latest)
    assert (W == step).all() and (b == step).all()  # one consistent save, not a mix
    W, b = _restored(str(tmp_path / "fixed.ckpt"))
    assert (W == W.flat[0]).all() and (b == W.flat[0]).all() and W.flat[0] >= 1
    state = gc.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths[-1] == latest


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickle_in_place_of_a_checkpoint_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.ckpt").write_bytes(pickle.dumps({"W": _Payload()}))
    with gc.Graph().as_default():
        W = gc.Variable(np.ones(2, np.float32), name="W")
        saver = gc.train.Saver()
        with gc.Session() as sess:
            sess.run(gc.global_variables_initializer())
            with pytest.raises(gc.errors.DataLossError, match="not a graphc file"):
                saver.restore(sess, str(tmp_path / "model.ckpt"))
            np.testing.assert_array_equal(sess.run(W), [1, 1])
        with pytest.raises(gc.errors.DataLossError):
            gc.train.NewCheckpointReader(str(tmp_path / "model.ckpt"))
    assert not (tmp_path / "PWNED").exists()
