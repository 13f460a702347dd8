"""The summary ops: each one's value is a serialized ``Summary`` protocol buffer (TF1).

``scalar_summary``, ``histogram_summary``, ``image_summary``, ``audio_summary`` and
``tensor_summary`` (the text plugin's form) turn one tensor into a ``Summary`` holding one
value per tag; ``merge_summary`` concatenates serialized summaries. Their outputs are scalar
``string`` tensors whose run value is ``bytes``, which ``FileWriter.add_summary`` takes.

The ops are pure functions of their inputs: not stateful, so a plan drops them when no fetch
needs them and CSE may merge identical ones; not foldable (their value is a protobuf, which
has no business in a constant); not differentiable. Tags are attributes, fixed when the op is
built, as ``tf.summary.*`` fixes them. The protobufs come from the ``tensorboard`` package
(``graphc.summary.protos``); the public functions (``graphc.summary.api``) check it is there
before they build an op.
"""
from __future__ import annotations

import numpy as np

from graphc import dtypes as gdt
from graphc import registry
from graphc.registry import OpDef
from graphc.shapes import TensorShape
from graphc.summary.histogram import histogram_fields
from graphc.summary.media import encode_png, encode_wav, to_uint8_image
from graphc.summary.protos import protos

__all__ = ["SCALAR", "HISTOGRAM", "IMAGE", "AUDIO", "TENSOR", "MERGE"]

TESTS = "tests/test_summary_ops.py (values read back as protobufs)"
IMAGE_DTYPES = (gdt.uint8, gdt.float16, gdt.float32, gdt.float64)
SCALAR_SHAPE = TensorShape([])


def _register(name, kernel, doc, dtypes, shapes=lambda inputs, attrs: [SCALAR_SHAPE],
              attrs=(("tag", ""),)) -> OpDef:
    """Register a summary op with the flags they share: pure, never folded, no gradient,
    any input rank (their output is a scalar whatever the input); all but merge_summary
    have a ``tag``."""
    return registry.register(OpDef(
        name=name, dtypes=dtypes, shapes=shapes, kernel=kernel,
        grad=registry.NOT_DIFFERENTIABLE, attrs=dict(attrs), foldable=False,
        unknown_rank_ok=True, tested_elsewhere=TESTS, doc=doc))


def _serialized(*values) -> bytes:
    pb = protos()
    return pb.Summary(value=list(values)).SerializeToString()


def _real_numbers(name: str):
    """A dtype rule: one real number input (TF1's ``realnumbertypes``), a string out."""
    def rule(in_dtypes, attrs):
        dtype = in_dtypes[0]
        if not dtype.is_numeric:
            raise TypeError(f"{name} needs a real number tensor, got {dtype.name}")
        return [gdt.string]
    return rule


def _check_max_outputs(name: str, attrs) -> None:
    value = attrs["max_outputs"]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: max_outputs must be an int >= 1, got {value!r}")


# -- scalar ---------------------------------------------------------------------------------
def _scalar_shapes(inputs, attrs):
    rank = inputs[0].shape.rank
    if rank not in (None, 0):
        raise ValueError(f"scalar_summary {attrs['tag']!r} needs a scalar, got shape "
                         f"{inputs[0].shape} (reduce it, e.g. with reduce_mean)")
    return [SCALAR_SHAPE]


def _scalar_kernel(value, *, tag):
    array = np.asarray(value)
    if array.ndim != 0:
        raise ValueError(f"tags and values are not the same shape: [] != {list(array.shape)} "
                         f"(tag {tag!r}: scalar_summary needs a scalar)")
    pb = protos()
    return _serialized(pb.Summary.Value(tag=tag, simple_value=float(array)))


SCALAR = _register("scalar_summary", _scalar_kernel, dtypes=_real_numbers("scalar_summary"),
                   shapes=_scalar_shapes,
                   doc="A Summary with the scalar as a simple_value (TF1 ScalarSummary).")


# -- histogram ------------------------------------------------------------------------------
def _histogram_kernel(values, *, tag):
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Nan in summary histogram for: {tag} (a NaN or Inf among its "
                         f"{array.size} values)")
    pb = protos()
    return _serialized(pb.Summary.Value(tag=tag, histo=pb.HistogramProto(
        **histogram_fields(array))))


HISTOGRAM = _register(
    "histogram_summary", _histogram_kernel, dtypes=_real_numbers("histogram_summary"),
    doc="A Summary with a histogram of the values in TF1's buckets (HistogramSummary).")


# -- image ----------------------------------------------------------------------------------
def _image_dtypes(in_dtypes, attrs):
    if in_dtypes[0] not in IMAGE_DTYPES:
        raise TypeError(f"image_summary needs uint8, float16, float32 or float64 images, got "
                        f"{in_dtypes[0].name}")
    return [gdt.string]


def _image_shapes(inputs, attrs):
    _check_max_outputs("image_summary", attrs)
    shape = inputs[0].shape
    if shape.rank is not None and (shape.rank != 4 or shape[3] not in (None, 1, 3, 4)):
        raise ValueError(f"image_summary {attrs['tag']!r} needs images of shape [batch_size, "
                         f"height, width, channels] with 1, 3 or 4 channels, got {shape}")
    return [SCALAR_SHAPE]


def _per_item(batch, tag: str, kind: str, max_outputs: int, encode) -> bytes:
    """A Summary with one value per item of the batch, at most ``max_outputs``, the field
    ``kind`` made by ``encode(item)``; tagged as TF1 does: ``tag/image`` when only one may
    be written, else ``tag/image/0``, ``tag/image/1``..."""
    pb = protos()
    return _serialized(*[pb.Summary.Value(
        tag=f"{tag}/{kind}" if max_outputs == 1 else f"{tag}/{kind}/{index}",
        **{kind: encode(batch[index])}) for index in range(min(len(batch), max_outputs))])


def _image_kernel(images, *, tag, max_outputs):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[3] not in (1, 3, 4) or 0 in images.shape[1:3]:
        raise ValueError(f"image_summary {tag!r}: images must be [batch_size, height, width, "
                         f"channels] with height, width > 0 and 1, 3 or 4 channels, got shape "
                         f"{list(images.shape)}")

    def encode(image):
        pixels = to_uint8_image(image)
        height, width, channels = pixels.shape
        return protos().Summary.Image(height=height, width=width, colorspace=channels,
                                      encoded_image_string=encode_png(pixels))
    return _per_item(images, tag, "image", max_outputs, encode)


IMAGE = _register(
    "image_summary", _image_kernel, dtypes=_image_dtypes, shapes=_image_shapes,
    attrs={"tag": "", "max_outputs": 3},
    doc="A Summary with up to max_outputs images of the batch as PNG (TF1 ImageSummary).")


# -- audio ----------------------------------------------------------------------------------
def _audio_dtypes(in_dtypes, attrs):
    if in_dtypes[0] is not gdt.float32 or in_dtypes[1] is not gdt.float32:
        raise TypeError(f"audio_summary needs float32 audio and a float32 sample_rate, got "
                        f"{in_dtypes[0].name} and {in_dtypes[1].name}")
    return [gdt.string]


def _audio_shapes(inputs, attrs):
    _check_max_outputs("audio_summary", attrs)
    audio, rate = inputs[0].shape, inputs[1].shape
    if audio.rank not in (None, 2, 3):
        raise ValueError(f"audio_summary {attrs['tag']!r} needs audio of shape [batch_size, "
                         f"frames] or [batch_size, frames, channels], got {audio}")
    if rate.rank not in (None, 0):
        raise ValueError(f"audio_summary {attrs['tag']!r}: sample_rate must be a scalar, got "
                         f"shape {rate}")
    return [SCALAR_SHAPE]


def _audio_kernel(audio, sample_rate, *, tag, max_outputs):
    audio = np.asarray(audio)
    rate = float(sample_rate)
    if not rate > 0:
        raise ValueError(f"audio_summary {tag!r}: sample_rate must be > 0, got {rate}")
    if audio.ndim == 2:
        audio = audio[:, :, None]
    def encode(clip):
        frames, channels = clip.shape
        return protos().Summary.Audio(sample_rate=rate, num_channels=channels,
                                      length_frames=frames, content_type="audio/wav",
                                      encoded_audio_string=encode_wav(clip, rate))
    return _per_item(audio, tag, "audio", max_outputs, encode)


AUDIO = _register(
    "audio_summary", _audio_kernel, dtypes=_audio_dtypes, shapes=_audio_shapes,
    attrs={"tag": "", "max_outputs": 3},
    doc="A Summary with up to max_outputs clips of the batch as WAV (TF1 AudioSummaryV2).")


# -- tensor (the text plugin's summaries) --------------------------------------------------------
def _tensor_kernel(tensor, *, tag, plugin_name, plugin_content, display_name,
                   summary_description):
    pb = protos()
    metadata = pb.SummaryMetadata(display_name=display_name,
                                  summary_description=summary_description)
    if plugin_name:
        metadata.plugin_data.plugin_name = plugin_name
        metadata.plugin_data.content = plugin_content
    return _serialized(pb.Summary.Value(tag=tag, metadata=metadata,
                                        tensor=pb.make_tensor_proto(np.asarray(tensor))))


TENSOR = _register(
    "tensor_summary", _tensor_kernel, dtypes=lambda in_dtypes, attrs: [gdt.string],
    attrs={"tag": "", "plugin_name": "", "plugin_content": b"", "display_name": "",
           "summary_description": ""},
    doc="A Summary holding the whole tensor and its plugin metadata (TF1 TensorSummaryV2).")


# -- merge ----------------------------------------------------------------------------------
def _merge_dtypes(in_dtypes, attrs):
    if not in_dtypes:
        raise TypeError("merge_summary needs at least one summary to merge")
    wrong = [d.name for d in in_dtypes if d is not gdt.string]
    if wrong:
        raise TypeError(f"merge_summary merges string tensors (serialized Summary "
                        f"protobufs), got {', '.join(wrong)}")
    return [gdt.string]


def _merge_kernel(*summaries):
    pb = protos()
    merged = pb.Summary()
    tags: set = set()
    for index, value in enumerate(summaries):
        for item in np.asarray(value, dtype=object).ravel():
            try:
                part = pb.Summary.FromString(bytes(item))
            except Exception as err:  # noqa: BLE001 - protobuf's DecodeError and TypeErrors
                raise ValueError(f"Could not parse summary input {index} as a Summary "
                                 f"protobuf: {err}") from None
            for entry in part.value:
                if entry.tag and entry.tag in tags:
                    raise ValueError(f"Duplicate tag {entry.tag} found in summary inputs")
                tags.add(entry.tag)
                merged.value.add().CopyFrom(entry)
    return merged.SerializeToString()


MERGE = _register(
    "merge_summary", _merge_kernel, dtypes=_merge_dtypes, attrs={},
    doc="The values of every input Summary in one Summary; tags must differ (MergeSummary).")
