"""TF1 API coverage (tools/tf1_coverage.py over docs/tf1_api_names.json, TensorFlow 2.21's
tf.compat.v1 names): a floor, so that no name graphc has goes missing unnoticed."""
import json

from graphc.tools import tf1_coverage


def test_coverage_does_not_drop():
    with open(tf1_coverage.NAMES_FILE) as handle:
        rows = tf1_coverage.coverage(json.load(handle))
    present = sum(row[1] for row in rows)
    assert present >= 1292, f"{present} of TF1's names exist (measured 1,292 on 2026-12-01)"
    by_module = {row[0]: row for row in rows}
    assert by_module["losses"][1] == by_module["losses"][2]  # all of tf.losses
    assert by_module["gfile"][1] == by_module["gfile"][2]


def test_the_tool_lists_what_a_module_lacks(capsys):
    tf1_coverage.main(["--missing", "sparse"])
    missing = capsys.readouterr().out.split()
    assert "cross_hashed" in missing and "SparseTensor" not in missing
