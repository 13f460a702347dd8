"""TF1's histogram of a tensor's values (``tensorflow/core/lib/histogram/histogram.cc``).

The default bucket limits grow by 10% from 1e-12 to 1e20, mirrored for negative values, with
0 between them and +-DBL_MAX at the ends (1551 limits in all). A value goes into the first
bucket whose limit exceeds it (``std::upper_bound``). The encoded form, as TF1's
``EncodeToProto(preserve_zero_buckets=false)``, folds every run of empty buckets into its
last one, so a histogram of a few values holds a few buckets, not 1549.
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["DEFAULT_BUCKET_LIMITS", "histogram_fields"]

DBL_MAX = sys.float_info.max


def _default_bucket_limits() -> np.ndarray:
    positive = []
    value = 1.0e-12
    while value < 1.0e20:  # the same double arithmetic as TF's C++ loop, so the same limits
        positive.append(value)
        value *= 1.1
    positive.append(DBL_MAX)
    return np.array([-v for v in reversed(positive)] + [0.0] + positive)


DEFAULT_BUCKET_LIMITS = _default_bucket_limits()


def histogram_fields(values) -> dict:
    """The fields of the ``HistogramProto`` of ``values`` (any shape, finite, real).

    Example:
        >>> fields = histogram_fields(np.array([0.5, 0.5, -2.0]))
        >>> fields["num"], fields["bucket"]
        (3.0, [0.0, 1.0, 0.0, 2.0, 0.0])
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    limits = DEFAULT_BUCKET_LIMITS
    # Bucket i holds limits[i-1] <= v < limits[i] (upper_bound). Counting the values below
    # each limit in the sorted values is 10x faster than looking up each value's bucket.
    below = np.searchsorted(np.sort(flat), limits, side="left")
    counts = np.diff(below, prepend=0).astype(np.float64)
    counts[-1] += flat.size - below[-1]  # a value of exactly DBL_MAX: the last bucket
    bucket_limit, bucket = [], []
    start = 0
    for end in np.flatnonzero(counts):
        if end > start:  # the empty buckets before a full one fold into their last
            bucket_limit.append(float(limits[end - 1]))
            bucket.append(0.0)
        bucket_limit.append(float(limits[end]))
        bucket.append(float(counts[end]))
        start = end + 1
    if start < len(limits):
        bucket_limit.append(float(limits[-1]))
        bucket.append(0.0)
    return {"min": float(flat.min()) if flat.size else DBL_MAX,
            "max": float(flat.max()) if flat.size else -DBL_MAX,
            "num": float(flat.size), "sum": float(flat.sum()),
            "sum_squares": float(np.sum(np.square(flat))),
            "bucket_limit": bucket_limit, "bucket": bucket}
