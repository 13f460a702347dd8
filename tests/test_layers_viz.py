"""Pictures of layer models: clusters labelled with the layers, leaf layers as boxes,
identical blocks folded once, the layer-tree picture and ``graphc render --layers``."""
import re
import subprocess
import sys

import pytest

import graphc as gc
from graphc.viz.layer_tree import layer_tree_digraph

L = gc.layers


def _two_block_model(same=True):
    g = gc.Graph()
    with g.as_default():
        x = gc.placeholder(gc.float32, [None, 8, 8, 8], name="x")  # blocks keep 8 channels
        second = (2, (2, 2), (1, 2), 2) if same else (2, (2, 4), (1, 2), 2)
        model = L.Sequential([L.InceptionBlock(2, (2, 2), (1, 2), 2), L.InceptionBlock(*second),
                              L.GlobalAveragePooling2D(), L.Dense(3)], name="net")
        y = model(x)
    return g, y


def _dot(target, tmp_path, **options):
    return gc.render(target, tmp_path / "g.dot", **options).read_text()


def test_layer_scopes_are_labelled_clusters_and_leaf_layers_can_be_boxes(tmp_path):
    g, y = _two_block_model(same=False)
    text = _dot(y, tmp_path, hide_constants=True)
    assert 'subgraph "cluster_net/inception_block/branch_3x3"' in text
    assert "InceptionBlock · (None, 8, 8, 8) · " in text
    assert "Dense · (None, 3) · 33 params" in text
    boxed = _dot(y, tmp_path, hide_constants=True, layer_boxes=True)
    assert '"cluster_net/inception_block/branch_3x3/conv2d_1"' not in boxed
    assert '"cluster_net/inception_block/branch_3x3"' in boxed  # containers stay clusters
    box = re.search(r'label="conv2d_1\\n7 ops\\nConv2D\\n\(None, 8, 8, 2\)\\n(\d+) params"',
                    boxed)
    assert box and "shape=folder" in boxed
    assert '"cluster_net/inception_block_1"' in boxed  # different widths: not folded
    shallow = _dot(y, tmp_path, hide_constants=True, layer_boxes=True, collapse_depth=1)
    assert '"cluster_net/inception_block"' not in shallow  # the depth cut wins
    assert re.search(r'label="inception_block\\n\d+ ops\\nInceptionBlock', shallow)


def test_identical_blocks_are_folded_with_a_count(tmp_path):
    g, y = _two_block_model(same=True)
    text = _dot(y, tmp_path, hide_constants=True, layer_boxes=True)
    assert "×2: inception_block … inception_block_1" in text
    assert '"cluster_net/inception_block_1"' not in text
    assert '"cluster_net/inception_block_1"' in _dot(y, tmp_path, fold_repeats=False)


def test_the_layer_tree_picture_has_a_box_per_layer_and_folds_repeats():
    g, _ = _two_block_model(same=True)
    folded = layer_tree_digraph(g).source
    assert 'label="net\\nSequential\\n(None, 3)\\n' in folded
    assert "inception_block … inception_block_1  ×2" in folded
    assert folded.count("label=\"branch_3x3") == 1
    whole = layer_tree_digraph(g, fold_repeats=False).source
    assert whole.count("label=\"branch_3x3") == 2 and whole.count(" -> ") == \
        len(g.get_collection(L.LAYER_TREE)) - 1
    assert layer_tree_digraph(g, max_depth=1).source.count("label=") == 1 + 3
    assert layer_tree_digraph(g, False, max_depth=1).source.count("label=") == 1 + 4
    with pytest.raises(ValueError, match="the graph has no layer tree"):
        layer_tree_digraph(gc.Graph())


def test_cli_renders_the_layer_tree(tmp_path):
    model = tmp_path / "model.py"
    model.write_text("import graphc as gc\n"
                     "x = gc.placeholder(gc.float32, [None, 8, 8, 3], name='x')\n"
                     "y = gc.layers.Sequential([gc.layers.Conv2D(4, 3), gc.layers.Flatten(),\n"
                     "                          gc.layers.Dense(2)])(x)\n"
                     "fetches = [y]\n")
    out = tmp_path / "tree.dot"
    result = subprocess.run([sys.executable, "-m", "graphc.tools.cli", "render", str(model),
                             "--layers", "-o", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'label="conv2d\\nConv2D\\n(None, 6, 6, 4)\\n112 params"' in out.read_text()
    plain = tmp_path / "plain.py"
    plain.write_text("import graphc as gc\nfetches = [gc.constant(1.0) + 2.0]\n")
    failed = subprocess.run([sys.executable, "-m", "graphc.tools.cli", "render", str(plain),
                             "--layers", "-o", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 2 and "has no layer tree" in failed.stderr
