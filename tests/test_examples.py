"""The README example and the demo run as documented."""
import pathlib
import re

import numpy as np

import graphc as gc
from graphc.tools import demo

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["p"].shape == (32, 10)
    assert set(namespace["d"]) == {"p", "l"}


def test_demo_expression_gives_the_classic_values():
    """y = x0*θ0 + x1*θ1 at x = [0.1, 0.2], θ = [0.1, -0.1]: ŷ = -0.01, ∂ŷ/∂θ = x (the
    demo's training run itself is tests/test_cli.py's reduced-mode test)."""
    graph, fetches, feed, init = demo.expression_with_gradients()
    with gc.Session(graph=graph) as sess:
        sess.run(init)
        y, d0, d1 = sess.run(fetches, feed)
    np.testing.assert_allclose([y, d0, d1], [-0.01, 0.1, 0.2], rtol=1e-6)
    assert any(op.name.startswith("gradients/") for op in graph.get_operations())


def test_demo_model_is_a_tree_of_layers_with_two_identical_inception_blocks():
    net = demo.build_digits_model(gc.Graph())
    paths = [path for path, _ in net["model"].named_layers()]
    assert paths[:4] == ["digits_cnn", "digits_cnn/conv2d", "digits_cnn/batch_normalization",
                         "digits_cnn/inception_block"]
    blocks = [layer for _, layer in net["model"].named_layers()
              if isinstance(layer, gc.layers.InceptionBlock)]
    assert len(blocks) == 2 and blocks[0].count_params() == blocks[1].count_params() == 1588
    assert net["logits"].shape.as_list() == [None, 10]
