"""The README example and the demo run as documented."""
import pathlib
import re

from graphc.tools import demo

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["p"].shape == (32, 10)
    assert set(namespace["d"]) == {"p", "l"}


def test_demo_runs(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "class probabilities" in out and "unchanged: True" in out
    losses = [float(line.split("loss ")[1].split(",")[0]) for line in out.splitlines()
              if "loss " in line and "accuracy" in line]
    assert losses[1] < losses[0] / 2  # training works
