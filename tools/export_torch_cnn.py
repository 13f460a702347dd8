"""Export a small PyTorch CNN to ONNX: the fixture ``tests/test_onnx_torch.py`` imports.

PyTorch is a benchmark peer, never a graphc dependency, so CI cannot run the exporter; this
tool writes what it needs (run it where torch and onnx are installed, e.g. the peer venv):

    python -m graphc.tools.export_torch_cnn tests/data/torch_onnx

It writes, for both of PyTorch's exporters (``torch.onnx.export(..., dynamo=False)``, the
TorchScript tracer, and ``dynamo=True``, torch.export + onnxscript): ``<exporter>.onnx``, the
model with a dynamic batch dimension, and ``<exporter>.npz``, seeded inputs of two batch sizes
with PyTorch's outputs in eval mode, labels, and the gradient of the mean NLL loss of those
labels with respect to the input (torch autograd). The network has what real PyTorch CNNs export: Conv2d with
bias and padding, BatchNorm2d (eval), ReLU, a residual add, a stride-2 MaxPool2d, a grouped
conv, channel concatenation, AdaptiveAvgPool2d(1), flatten and Linear, then log_softmax.
"""
from __future__ import annotations

import argparse
import os

import numpy as np


def build_network():
    import torch
    from torch import nn

    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16),
                                      nn.ReLU())
            self.block = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False),
                                       nn.BatchNorm2d(16), nn.ReLU(),
                                       nn.Conv2d(16, 16, 3, padding=1))
            self.pool = nn.MaxPool2d(2)
            self.grouped = nn.Conv2d(16, 24, 3, padding=1, groups=4)
            self.pointwise = nn.Conv2d(16, 8, 1)
            self.head = nn.Linear(32, 10)

        def forward(self, x):
            x = self.stem(x)
            x = torch.relu(x + self.block(x))
            x = self.pool(x)
            x = torch.cat([torch.relu(self.grouped(x)), self.pointwise(x)], dim=1)
            x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
            return torch.log_softmax(self.head(x), dim=1)

    torch.manual_seed(0)
    network = SmallCNN()
    with torch.no_grad():  # running statistics that are not the identity, as after training
        for module in network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return network.eval()


def export(folder: str) -> None:
    import torch

    os.makedirs(folder, exist_ok=True)
    network = build_network()
    rng = np.random.default_rng(0)
    inputs = {f"x{batch}": rng.standard_normal((batch, 3, 16, 16)).astype(np.float32)
              for batch in (2, 5)}
    outputs = {}
    for name, x in list(inputs.items()):
        batch = name[1:]
        labels = rng.integers(0, 10, len(x))
        image = torch.from_numpy(x).requires_grad_(True)
        log_probs = network(image)
        torch.nn.functional.nll_loss(log_probs, torch.from_numpy(labels)).backward()
        outputs[f"y{batch}"] = log_probs.detach().numpy()
        inputs[f"labels{batch}"] = labels.astype(np.int32)
        outputs[f"grad_x{batch}"] = image.grad.numpy()  # of the mean NLL loss
    for exporter, dynamo in (("torchscript", False), ("dynamo", True)):
        path = os.path.join(folder, f"{exporter}.onnx")
        example = (torch.from_numpy(inputs["x2"]),)
        if dynamo:
            batch = torch.export.Dim("batch", min=1)
            torch.onnx.export(network, example, path, dynamo=True, input_names=["image"],
                              output_names=["log_probs"], dynamic_shapes=({0: batch},),
                              external_data=False)
        else:
            torch.onnx.export(network, example, path, dynamo=False, input_names=["image"],
                              output_names=["log_probs"], opset_version=17,
                              dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}})
        np.savez(os.path.join(folder, f"{exporter}.npz"), torch_version=torch.__version__,
                 **inputs, **outputs)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    export(parser.parse_args(argv).folder)


if __name__ == "__main__":
    main()
