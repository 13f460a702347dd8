"""``tf.train.Example`` and its kin: TF's ``feature.proto``/``example.proto`` messages
(``Example``, ``SequenceExample``, ``Features``, ``Feature``, ``BytesList``, ``FloatList``,
``Int64List``, ``FeatureList``, ``FeatureLists``) as protobuf classes with TF's wire format,
so that ``SerializeToString()`` gives TF's bytes and ``FromString`` parses TF's.

The classes are built at first use from a descriptor written here (no protoc step, no
TensorFlow), in a private descriptor pool, so they never clash with TensorFlow's or
TensorBoard's classes of the same names in the same process. They need the ``protobuf``
package (it comes with graphc's ``tensorboard`` extra); without it graphc imports and the
names raise an ImportError saying what to install.

Example:
    >>> example = gc.train.Example(features=gc.train.Features(feature={
    ...     "label": gc.train.Feature(int64_list=gc.train.Int64List(value=[7])),
    ...     "image": gc.train.Feature(bytes_list=gc.train.BytesList(value=[png_bytes]))}))
    >>> writer.write(example.SerializeToString())
"""
from __future__ import annotations

import functools

__all__ = ["NAMES", "message_class", "INSTALL_HINT"]

INSTALL_HINT = ("tf.train.Example and its kin need the 'protobuf' package: pip install "
                "'graphc[tensorboard]' (which brings it) or pip install protobuf")

# (message, [(field, number, label, type, message type or None)]) as TF's
# tensorflow/core/example/feature.proto and example.proto declare them (proto3: repeated
# numbers are packed, as TF writes them)
_REPEATED, _OPTIONAL = "repeated", "optional"
_MESSAGES = (
    ("BytesList", [("value", 1, _REPEATED, "bytes", None)]),
    ("FloatList", [("value", 1, _REPEATED, "float", None)]),
    ("Int64List", [("value", 1, _REPEATED, "int64", None)]),
    ("Feature", [("bytes_list", 1, _OPTIONAL, "message", "BytesList"),
                 ("float_list", 2, _OPTIONAL, "message", "FloatList"),
                 ("int64_list", 3, _OPTIONAL, "message", "Int64List")]),
    ("Features", [("feature", 1, _REPEATED, "map", "Feature")]),
    ("FeatureList", [("feature", 1, _REPEATED, "message", "Feature")]),
    ("FeatureLists", [("feature_list", 1, _REPEATED, "map", "FeatureList")]),
    ("Example", [("features", 1, _OPTIONAL, "message", "Features")]),
    ("SequenceExample", [("context", 1, _OPTIONAL, "message", "Features"),
                         ("feature_lists", 2, _OPTIONAL, "message", "FeatureLists")]),
)
NAMES = tuple(name for name, _ in _MESSAGES)
_PACKAGE = "tensorflow"
_ONEOF = {"Feature": "kind"}  # Feature holds one of its lists: TF's `oneof kind`


def _file_descriptor(descriptor_pb2):
    """The FileDescriptorProto of the messages above."""
    field_type = descriptor_pb2.FieldDescriptorProto
    types = {"bytes": field_type.TYPE_BYTES, "float": field_type.TYPE_FLOAT,
             "int64": field_type.TYPE_INT64, "message": field_type.TYPE_MESSAGE,
             "string": field_type.TYPE_STRING}
    labels = {_REPEATED: field_type.LABEL_REPEATED, _OPTIONAL: field_type.LABEL_OPTIONAL}
    proto = descriptor_pb2.FileDescriptorProto(name="graphc/example/example.proto",
                                               package=_PACKAGE, syntax="proto3")
    for name, fields in _MESSAGES:
        message = proto.message_type.add(name=name)
        if name in _ONEOF:
            message.oneof_decl.add(name=_ONEOF[name])
        for field_name, number, label, kind, type_name in fields:
            field = message.field.add(name=field_name, number=number, label=labels[label])
            if kind == "map":
                # a map<string, V> is a repeated nested `<Field>Entry {key = 1; value = 2}`
                entry = message.nested_type.add(name=_entry_name(field_name))
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, label=labels[_OPTIONAL],
                                type=types["string"])
                entry.field.add(name="value", number=2, label=labels[_OPTIONAL],
                                type=types["message"], type_name=f".{_PACKAGE}.{type_name}")
                field.type = types["message"]
                field.type_name = f".{_PACKAGE}.{name}.{_entry_name(field_name)}"
                continue
            field.type = types[kind]
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
            if name in _ONEOF:
                field.oneof_index = 0
    return proto


def _entry_name(field_name: str) -> str:
    return "".join(part.capitalize() for part in field_name.split("_")) + "Entry"


@functools.lru_cache(maxsize=None)
def _classes() -> dict:
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError as err:
        raise ImportError(f"{INSTALL_HINT} ({err})") from err
    pool = descriptor_pool.DescriptorPool()  # private: TF's own classes may be loaded too
    pool.Add(_file_descriptor(descriptor_pb2))
    found = {}
    for name in NAMES:
        descriptor = pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")
        if hasattr(message_factory, "GetMessageClass"):
            found[name] = message_factory.GetMessageClass(descriptor)
        else:  # protobuf < 4.21
            found[name] = message_factory.MessageFactory(pool).GetPrototype(descriptor)
    return found


def message_class(name: str):
    """The protobuf class ``name`` (one of NAMES), built on first use.

    Raises:
        ImportError: protobuf is not installed (the message says how to install it).

    Example:
        >>> Int64List = message_class("Int64List")
        >>> Int64List(value=[1, 2]).SerializeToString()
        b'\\n\\x02\\x01\\x02'
    """
    return _classes()[name]
