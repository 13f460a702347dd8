"""The benchmark suite runs end to end (tiny sizes) and writes its JSON and markdown.

Timings are not asserted here: speed belongs in the suite's own output, as ratios.
"""
import json

from graphc.tools import bench


def test_quick_suite_checks_results_and_writes_tables(tmp_path):
    # never the rerun without OPENBLAS_CORETYPE in tests (a benchmark-only comparison), and
    # the loaded measurements once, below
    assert bench.main(["--quick", "--out", str(tmp_path), "--no-blas-unset",
                       "--no-loaded"]) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    workloads = {row["workload"] for row in data["rows"]}
    assert workloads == set(bench.WORKLOADS) | {"W7 micro"}  # every workload wrote rows
    assert {row["malloc"] for row in data["rows"] if row["workload"] == "W1"} == {"default",
                                                                                  "tuned"}
    table = (tmp_path / "results.md").read_text()
    assert "| W3 | graphc | us/run |" in table and data["machine"] in table


def test_w7_alone_has_both_sizes_a_loaded_column_and_the_micro_suite(tmp_path):
    assert bench.main(["--quick", "--only", "W7", "--out", str(tmp_path),
                       "--no-blas-unset", "--no-peers"]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    steps = [r for r in rows if r["workload"] == "W7"]
    assert {(r["impl"], r["size"]) for r in steps} == {("graphc", "a"), ("graphc", "b")}
    assert all(r["loaded_ms"] > 0 and r["loaded_x"] > 0 for r in steps)
    micro = {r["impl"] for r in rows if r["workload"] == "W7 micro"}
    assert "max_pool_grad 3x3 s1 SAME (now)" in micro
    assert "conv2d_backprop_filter b2b 3x3 16->24 (before)" in micro
