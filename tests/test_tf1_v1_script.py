"""A TF2-era tf.compat.v1 script (tests/scripts/v1_linear_regression.py) runs unchanged with
``import graphc as tf``: v2 switches, flags through tf.app.run, tf.logging, a "float"
placeholder, a device scope, tf.Print, assertions and a session config."""
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parent / "scripts" / "v1_linear_regression.py"


def test_the_v1_script_trains_logs_prints_and_rejects_bad_inputs():
    done = subprocess.run([sys.executable, str(SCRIPT), "--steps=300", "--learning_rate=0.5",
                           "extra"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "W=3.00 b=2.00 device=/device:CPU:0",
        "rejected: assertion failed: [inputs must be >= 0] [Condition x >= 0 did not hold "
        "element-wise:] [x (x:0) = ] [[-0.548813522][-0.715189338][-0.602763355]...]",
        "W unchanged: True"]
    err = done.stderr.splitlines()
    assert "INFO:graphc:arguments: ['extra']" in err  # app.run passed the rest to main
    assert [line for line in err if line.startswith("first cost: [")] == [err[1]]  # first_n=1
    steps = [line.split(": cost=") for line in err if "step" in line]
    assert [s for s, _ in steps] == [f"INFO:graphc:step {n}" for n in (0, 100, 200)]
    assert float(steps[0][1]) > 1 and float(steps[-1][1]) < 1e-3


def test_a_bad_flag_value_stops_the_script_with_tf1s_message():
    done = subprocess.run([sys.executable, str(SCRIPT), "--steps=many"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "FATAL Flags parsing error" in done.stderr and "--steps" in done.stderr
