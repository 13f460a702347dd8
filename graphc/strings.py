"""``gc.strings``: TF1's ``tf.strings`` namespace (string ops on ``gc.string`` tensors).

Example:
    >>> gc.strings.regex_replace(gc.strings.lower(text), "[^a-z ]", "")
"""
from graphc.ops.strings import (as_string, join, length, lower, reduce_join,  # noqa: F401
                                regex_full_match, regex_replace, strip, substr, to_number,
                                upper)
from graphc.ops.fingerprint import to_hash_bucket_fast  # noqa: F401,E402
from graphc.strings_split import split, string_split  # noqa: F401,E402
