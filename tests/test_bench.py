"""The benchmark suite runs end to end (tiny sizes) and writes its JSON and markdown.

Timings are not asserted here: speed belongs in the suite's own output, as ratios.
"""
import json

from graphc.tools import bench


def test_quick_suite_checks_results_and_writes_tables(tmp_path):
    assert bench.main(["--quick", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    workloads = {row["workload"] for row in data["rows"]}
    assert workloads == set(bench.WORKLOADS)  # every workload ran and wrote rows
    assert {row["malloc"] for row in data["rows"] if row["workload"] == "W1"} == {"default",
                                                                                  "tuned"}
    table = (tmp_path / "results.md").read_text()
    assert "| W3 | graphc | us/run |" in table and data["machine"] in table
