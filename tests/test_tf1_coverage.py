"""TF1 API coverage (tools/tf1_coverage.py over docs/tf1_api_names.json, TensorFlow 2.21's
tf.compat.v1 names): a floor, so that no name graphc has goes missing unnoticed."""
import json

from graphc.tools import tf1_coverage


def test_coverage_does_not_drop():
    with open(tf1_coverage.NAMES_FILE) as handle:
        rows = tf1_coverage.coverage(json.load(handle))
    present = sum(row[1] for row in rows)
    assert present >= 1327, f"{present} of TF1's names exist (measured 1,327 on 2026-12-02)"
    by_module = {row[0]: row for row in rows}
    assert by_module["losses"][1] == by_module["losses"][2]  # all of tf.losses
    assert by_module["gfile"][1] == by_module["gfile"][2]


def test_the_tool_lists_what_a_module_lacks(capsys):
    tf1_coverage.main(["--missing", "sparse"])
    missing = capsys.readouterr().out.split()
    assert "cross_hashed" in missing and "SparseTensor" not in missing


def test_a_name_whose_optional_extra_is_missing_still_counts():
    """graphc's summary protos import tensorboard on first use: without it the lookup raises
    ImportError, and the name is graphc's all the same (the count must not depend on the
    extras installed)."""
    class Namespace:
        present = 1

        def __getattr__(self, name):
            if name == "needs_an_extra":
                raise ImportError("tensorboard is not installed")
            raise AttributeError(name)
    assert tf1_coverage._has(Namespace(), "needs_an_extra")
    assert tf1_coverage._has(Namespace(), "present")
    assert not tf1_coverage._has(Namespace(), "absent")
