"""TF1's SavedModel for graphc graphs: ``export_dir/saved_model.pb`` (a graphc container of
kind "saved_model" holding one meta graph per tag set, each with its signatures) and
``export_dir/variables/variables`` (the variables' checkpoint, written once by
``add_meta_graph_and_variables``). ``loader.load`` brings a tag set's graph into a session
and restores its variables; ``simple_save`` is the one-call form.

Example:
    >>> gc.saved_model.simple_save(sess, "export/1", inputs={"x": x}, outputs={"y": y})
    >>> with gc.Session(graph=gc.Graph()) as sess:
    ...     meta = gc.saved_model.loader.load(sess, ["serve"], "export/1")
    ...     name = meta.signature_def["serving_default"].outputs["y"].name
"""
from __future__ import annotations

import os

import numpy as np

from graphc import dtypes as gdt
from graphc.graph import Tensor, get_default_graph
from graphc.saving.meta_graph import MetaGraphDef, export_meta_graph, import_meta_graph
from graphc.saving.saver import Saver
from graphc.serialization import container
from graphc.shapes import TensorShape

__all__ = ["SavedModelBuilder", "SignatureDef", "TensorInfo", "build_tensor_info",
           "build_signature_def", "predict_signature_def", "simple_save", "load",
           "contains_saved_model", "SERVING", "TRAINING", "DEFAULT_SERVING_SIGNATURE_DEF_KEY",
           "PREDICT_METHOD_NAME"]

SERVING, TRAINING, GPU, TPU = "serve", "train", "gpu", "tpu"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
REGRESS_METHOD_NAME = "tensorflow/serving/regress"
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
VARIABLES_DIRECTORY, VARIABLES_FILENAME = "variables", "variables"
MAIN_OP_KEY, LEGACY_INIT_OP_KEY = "saved_model_main_op", "legacy_init_op"


class TensorInfo:
    """A signature's tensor: ``name`` ("x:0"), ``dtype`` and ``tensor_shape``."""

    def __init__(self, name: str, dtype, tensor_shape):
        self.name, self.dtype, self.tensor_shape = name, dtype, TensorShape(tensor_shape)

    def to_plain(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name,
                "shape": None if self.tensor_shape.dims is None else list(self.tensor_shape.dims)}

    @classmethod
    def from_plain(cls, record: dict):
        return cls(record["name"], gdt.as_dtype(record["dtype"]), record["shape"])

    def __repr__(self) -> str:
        return f"TensorInfo(name={self.name!r}, dtype={self.dtype.name}, shape={self.tensor_shape})"


class SignatureDef:
    """Named inputs and outputs (``TensorInfo``) of one way to call the graph, and its
    ``method_name`` (TF1's SignatureDef)."""

    def __init__(self, inputs=None, outputs=None, method_name=""):
        self.inputs, self.outputs = dict(inputs or {}), dict(outputs or {})
        self.method_name = method_name

    def to_plain(self) -> dict:
        return {"inputs": {k: v.to_plain() for k, v in self.inputs.items()},
                "outputs": {k: v.to_plain() for k, v in self.outputs.items()},
                "method_name": self.method_name}

    @classmethod
    def from_plain(cls, record: dict):
        return cls({k: TensorInfo.from_plain(v) for k, v in record["inputs"].items()},
                   {k: TensorInfo.from_plain(v) for k, v in record["outputs"].items()},
                   record.get("method_name", ""))


def build_tensor_info(tensor) -> TensorInfo:
    """The TensorInfo of ``tensor`` (TF1 ``tf.saved_model.utils.build_tensor_info``).

    Example:
        >>> info = gc.saved_model.utils.build_tensor_info(x)
    """
    if not isinstance(tensor, Tensor):
        tensor = getattr(tensor, "value", lambda: tensor)()
    if not isinstance(tensor, Tensor):
        raise TypeError(f"build_tensor_info: expected a Tensor, got {tensor!r}")
    return TensorInfo(tensor.name, tensor.dtype, tensor.shape)


def build_signature_def(inputs=None, outputs=None, method_name=None) -> SignatureDef:
    """A SignatureDef of TensorInfo maps (TF1
    ``tf.saved_model.signature_def_utils.build_signature_def``)."""
    return SignatureDef(inputs, outputs, method_name or "")


def predict_signature_def(inputs: dict, outputs: dict) -> SignatureDef:
    """The predict signature of tensors ``inputs`` and ``outputs`` (name -> Tensor) (TF1
    ``tf.saved_model.signature_def_utils.predict_signature_def``)."""
    if not inputs or not outputs:
        raise ValueError("predict_signature_def: inputs and outputs must be non-empty dicts")
    return SignatureDef({k: build_tensor_info(t) for k, t in inputs.items()},
                        {k: build_tensor_info(t) for k, t in outputs.items()},
                        PREDICT_METHOD_NAME)


class SavedModelBuilder:
    """Builds a SavedModel in ``export_dir``, which must not exist yet (TF1
    ``tf.saved_model.builder.SavedModelBuilder``).

    Example:
        >>> builder = gc.saved_model.builder.SavedModelBuilder("export/2")
        >>> builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={
        ...     "serving_default": gc.saved_model.predict_signature_def({"x": x}, {"y": y})})
        >>> builder.save()
    """

    def __init__(self, export_dir: str):
        if os.path.exists(export_dir):
            raise AssertionError(f"Export directory already exists, and isn't empty. Please "
                                 f"choose a different export directory, or delete all the "
                                 f"contents of the specified directory: {export_dir}")
        self._export_dir = export_dir
        self._meta_graphs: list = []
        self._has_variables = False

    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None,
                                     assets_collection=None, legacy_init_op=None,
                                     clear_devices=False, main_op=None,
                                     strip_default_attrs=False, saver=None):
        """Record the session's graph under ``tags`` and write its variables (once)."""
        if self._has_variables:
            raise AssertionError("Graph state including variables and assets has already "
                                 "been saved. Please invoke `add_meta_graph()` instead.")
        folder = os.path.join(self._export_dir, VARIABLES_DIRECTORY)
        os.makedirs(folder, exist_ok=True)
        with sess.graph.as_default():
            saver = saver or Saver(sharded=False, allow_empty=True)
            saver.save(sess, os.path.join(folder, VARIABLES_FILENAME), write_meta_graph=False,
                       write_state=False)
        self._has_variables = True
        self._add(sess.graph, tags, signature_def_map, main_op or legacy_init_op,
                  clear_devices, saver)

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None,
                       legacy_init_op=None, clear_devices=False, main_op=None,
                       strip_default_attrs=False, saver=None):
        """Record the default graph under another tag set (variables already saved)."""
        if not self._has_variables:
            raise AssertionError("Graph state including variables and assets has not been "
                                 "saved yet. Please invoke `add_meta_graph_and_variables()` "
                                 "first.")
        graph = get_default_graph()
        with graph.as_default():
            saver = saver or Saver(sharded=False, allow_empty=True)
        self._add(graph, tags, signature_def_map, main_op or legacy_init_op, clear_devices,
                  saver)

    def _add(self, graph, tags, signature_def_map, init_op, clear_devices, saver):
        tags = sorted(set([tags] if isinstance(tags, str) else tags))
        if any(set(tags) == set(entry[0]) for entry in self._meta_graphs):
            raise ValueError(f"SavedModel: a meta graph with tags {tags} was already added")
        signatures = {key: sig.to_plain() for key, sig in (signature_def_map or {}).items()}
        for key, record in signatures.items():
            for part in ("inputs", "outputs"):
                for info in record[part].values():
                    graph.get_tensor_by_name(info["name"])  # KeyError for a stranger
        info = {"tags": tags, "signature_def": signatures,
                "init_op": None if init_op is None else getattr(init_op, "name", init_op)}
        meta = export_meta_graph(graph=graph, saver_def=saver.as_saver_def(),
                                 clear_devices=clear_devices, meta_info_def=info)
        self._meta_graphs.append((tags, meta.SerializeToString()))

    def save(self, as_text: bool = False) -> str:
        """Write ``saved_model.pb``; returns its path."""
        os.makedirs(self._export_dir, exist_ok=True)
        fields = {"meta_graphs": [{"tags": tags, "array": f"meta_graph_{i}"}
                                  for i, (tags, _) in enumerate(self._meta_graphs)]}
        arrays = {f"meta_graph_{i}": np.frombuffer(data, np.uint8)
                  for i, (_, data) in enumerate(self._meta_graphs)}
        path = os.path.join(self._export_dir, SAVED_MODEL_FILENAME_PB)
        container.write_atomic(path, container.encode("saved_model", fields, arrays, as_text))
        return path


def contains_saved_model(export_dir: str) -> bool:
    """Whether ``export_dir`` holds a SavedModel (TF1 ``tf.saved_model.contains_saved_model``)."""
    return os.path.isfile(os.path.join(export_dir, SAVED_MODEL_FILENAME_PB))


def load(sess, tags, export_dir: str, import_scope=None, **saver_kwargs) -> MetaGraphDef:
    """Load the meta graph of ``tags`` from ``export_dir`` into ``sess.graph``, restore its
    variables and run its init op; returns the MetaGraphDef, with ``signature_def`` (TF1
    ``tf.saved_model.loader.load``).

    Example:
        >>> meta = gc.saved_model.loader.load(sess, [gc.saved_model.tag_constants.SERVING], d)
    """
    path = os.path.join(export_dir, SAVED_MODEL_FILENAME_PB)
    header, arrays = container.decode(container.read_bytes(path, "SavedModel"), "saved_model",
                                      path)
    wanted = set([tags] if isinstance(tags, str) else tags)
    entries = header.get("meta_graphs")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: not a SavedModel index (no meta_graphs list)")
    available = [entry.get("tags") for entry in entries]
    for entry in entries:
        if set(entry.get("tags", ())) == wanted:
            meta = MetaGraphDef.FromString(arrays[entry["array"]].tobytes(), path)
            break
    else:
        raise RuntimeError(f"MetaGraphDef associated with tags {sorted(wanted)} could not be "
                           f"found in SavedModel {export_dir}; available tag sets: "
                           f"{available}")
    with sess.graph.as_default():
        saver = import_meta_graph(meta, import_scope=import_scope, **saver_kwargs)
        if saver is not None:
            saver.restore(sess, os.path.join(export_dir, VARIABLES_DIRECTORY,
                                             VARIABLES_FILENAME))
        init_op = meta.meta_info_def.get("init_op")
        if init_op:
            prefix = f"{import_scope}/" if import_scope else ""
            sess.run(sess.graph.get_operation_by_name(prefix + init_op))
    meta.signature_def = {key: SignatureDef.from_plain(record) for key, record in
                          meta.meta_info_def.get("signature_def", {}).items()}
    return meta


def simple_save(session, export_dir: str, inputs: dict, outputs: dict, legacy_init_op=None):
    """Save ``session``'s graph and variables as a SavedModel tagged "serve" with one
    predict signature, "serving_default" (TF1 ``tf.saved_model.simple_save``).

    Example:
        >>> gc.saved_model.simple_save(sess, "export/1", {"x": x}, {"probs": probs})
    """
    builder = SavedModelBuilder(export_dir)
    builder.add_meta_graph_and_variables(
        session, [SERVING], signature_def_map={
            DEFAULT_SERVING_SIGNATURE_DEF_KEY: predict_signature_def(inputs, outputs)},
        legacy_init_op=legacy_init_op)
    builder.save()
