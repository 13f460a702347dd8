"""``tf.summary``'s graph-mode functions: summary ops, their tags, scopes and collections.

Each function opens a name scope named after the summary (``loss``, then ``loss_1`` ...; with
``family``, ``family/loss``), names its op after that scope and tags the value with it (with
``family``, the tag is ``family/family/loss``, as TF1 repeats the family so TensorBoard files
the summary under that tab). The op joins ``collections`` (default
``[GraphKeys.SUMMARIES]``), which ``merge_all`` merges.
"""
from __future__ import annotations

import re

from graphc import registry
from graphc.convert import convert_to_tensor, graph_of
from graphc.dtypes import float32, string
from graphc.graph import get_default_graph
from graphc.summary import ops as summary_ops
from graphc.summary.protos import protos
from graphc.tf_logging import info
from graphc.variables import GraphKeys

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge",
           "merge_all", "clean_tag"]

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w.]")
_NO_METADATA = {"plugin_name": "", "plugin_content": b"", "display_name": "",
                "summary_description": ""}  # tensor_summary's SummaryMetadata attributes


def clean_tag(name):
    """``name`` with characters TensorBoard's tags may not hold replaced by ``_`` and leading
    slashes dropped (TF1's ``clean_tag``, which logs the change).

    Example:
        >>> clean_tag("loss (train)")
        'loss__train_'
    """
    if name is None:
        return None
    cleaned = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    if cleaned != name:
        info("Summary name %s is illegal; using %s instead.", name, cleaned)
    return cleaned


def _summary(op_type, name, family, values, attrs, collections, check=None, dtypes=()):
    """Build one summary op in its own name scope and add it to its collections; ``dtypes``
    are the dtypes some of the values must have (None: any)."""
    protos()  # running the op needs the protobufs: say so where the summary is built
    name, family = clean_tag(name), clean_tag(family)
    graph = graph_of(*values)
    with graph.as_default(), graph.atomic():
        base = name if family is None else f"{family}/{name}"
        with graph.name_scope(base) as scope:
            tensors = [convert_to_tensor(value, dtype=dtype) for value, dtype in
                       zip(values, list(dtypes) + [None] * (len(values) - len(dtypes)))]
            if check is not None:
                check(*tensors)
            tag = scope.rstrip("/")
            tag = tag if family is None else f"{family}/{tag}"
            summary = graph.create_op(op_type, tensors, {"tag": tag, **attrs},
                                      name=scope).outputs[0]
    graph.add_to_collections([GraphKeys.SUMMARIES] if collections is None else collections,
                             summary)
    return summary


@registry.public(summary_ops.SCALAR)
def scalar(name, tensor, collections=None, family=None):
    """A summary op whose value holds the scalar ``tensor`` under the tag ``name``.

    Example:
        >>> gc.summary.scalar("loss", loss)          # op and tag "loss"
        >>> writer.add_summary(sess.run(gc.summary.merge_all()), step)
    """
    return _summary("scalar_summary", name, family, [tensor], {}, collections)


@registry.public(summary_ops.HISTOGRAM)
def histogram(name, values, collections=None, family=None):
    """A summary op with a histogram of ``values`` (any shape) in TF1's exponential buckets;
    a NaN or Inf among them fails the run (``Nan in summary histogram for: name``).

    Example:
        >>> gc.summary.histogram("weights", W)
    """
    return _summary("histogram_summary", name, family, [values], {}, collections)


@registry.public(summary_ops.IMAGE)
def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A summary op with the first ``max_outputs`` images of the batch ``tensor``, of shape
    ``[batch_size, height, width, channels]`` (1, 3 or 4 channels), as PNG: uint8 images as
    they are, float ones scaled per image to [0, 255]; tagged ``name/image`` (one image) or
    ``name/image/0``, ``name/image/1``...

    Example:
        >>> gc.summary.image("input", gc.reshape(x, [-1, 28, 28, 1]), max_outputs=4)
    """
    return _summary("image_summary", name, family, [tensor], {"max_outputs": max_outputs},
                    collections)


@registry.public(summary_ops.AUDIO)
def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None):
    """A summary op with the first ``max_outputs`` clips of ``tensor`` (float32, values in
    [-1, 1], shape ``[batch_size, frames]`` or ``[batch_size, frames, channels]``) as 16-bit
    WAV at ``sample_rate`` Hz; tagged ``name/audio`` or ``name/audio/0``...

    Example:
        >>> gc.summary.audio("tone", gc.sin(t * 2764.6)[None], sample_rate=8000)
    """
    return _summary("audio_summary", name, family, [tensor, sample_rate],
                    {"max_outputs": max_outputs}, collections, dtypes=(None, float32))


@registry.public(summary_ops.TENSOR)
def tensor_summary(name, tensor, summary_description=None, collections=None,
                   summary_metadata=None, family=None, display_name=None):
    """A summary op holding the whole ``tensor`` (any dtype and shape) with plugin metadata,
    as TF1's ``tensor_summary`` (``SummaryMetadata`` fields given one by one or as a proto).

    Example:
        >>> gc.summary.tensor_summary("confusion", confusion_matrix)
    """
    metadata = dict(_NO_METADATA)
    if summary_metadata is not None:
        metadata.update(plugin_name=summary_metadata.plugin_data.plugin_name,
                        plugin_content=summary_metadata.plugin_data.content,
                        display_name=summary_metadata.display_name,
                        summary_description=summary_metadata.summary_description)
    if summary_description is not None:
        metadata["summary_description"] = summary_description
    if display_name is not None:
        metadata["display_name"] = display_name
    return _summary("tensor_summary", name, family, [tensor], metadata, collections)


def _text_check(tensor):
    if tensor.dtype is not string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got "
                         f"{tensor.dtype.name} (tf.summary.text shows strings)")


def text(name, tensor, collections=None):
    """A summary op showing the string ``tensor`` (a scalar or an array of strings, which
    TensorBoard draws as a table) in TensorBoard's text tab, under the tag ``name``.

    Example:
        >>> notes = gc.placeholder(gc.string, [])
        >>> gc.summary.text("notes", notes)
    """
    metadata = {**_NO_METADATA, "plugin_name": "text"}
    return _summary("tensor_summary", name, None, [tensor], metadata, collections,
                    check=_text_check)


@registry.public(summary_ops.MERGE)
def merge(inputs, collections=None, name=None):
    """One summary op whose value holds the values of every summary in ``inputs`` (their
    tags must differ); named ``Merge/MergeSummary`` unless ``name`` is given.

    Example:
        >>> merged = gc.summary.merge([loss_summary, accuracy_summary])
    """
    protos()
    inputs = list(inputs)
    graph = graph_of(inputs)
    with graph.as_default(), graph.atomic():
        with graph.name_scope(name or "Merge"):
            tensors = [convert_to_tensor(value) for value in inputs]
            merged = graph.create_op("merge_summary", tensors,
                                     name=name or "MergeSummary").outputs[0]
    graph.add_to_collections(collections or [], merged)
    return merged


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """``merge`` of every summary in the collection ``key`` (with ``scope``, those whose
    names the regex matches at their start); None when there is none (TF1).

    Example:
        >>> merged = gc.summary.merge_all()
        >>> summary, _ = sess.run([merged, train_op], feed_dict)
    """
    found = get_default_graph().get_collection(key, scope=scope)
    return merge(found, name=name) if found else None
