"""The tf.signal cases graphc is compared with TensorFlow on (tests/test_signal_tf.py, and
tests/data/make_tf_signal.py, which records TF 2.21's values): NumPy only, so both sides
import it.

Each case is ``(key, function, input or None, kwargs)``: ``function`` is the name of a
``tf.signal`` function, called as ``function(input, **kwargs)`` (or ``function(**kwargs)``
without an input); a ``window_fn`` kwarg names a ``tf.signal`` window (``"none"`` for None).
Cases with an input record the gradient of ``sum(output * cotangent(output shape))`` too.
"""
import numpy as np

DTYPES = ("float32", "float64")


def _rand(seed, *shape):
    return np.random.default_rng(seed).normal(size=shape)


def cotangent(shape) -> np.ndarray:
    """The fixed weights the recorded gradients are taken against."""
    return np.random.default_rng(99).normal(size=shape)


def _window_cases():
    cases = []
    for length in (1, 4, 5, 8):
        for periodic in (True, False):
            cases.append((f"hann_{length}_{periodic}", "hann_window", None,
                          {"window_length": length, "periodic": periodic}))
            cases.append((f"hamming_{length}_{periodic}", "hamming_window", None,
                          {"window_length": length, "periodic": periodic}))
    for length, beta in ((1, 12.0), (8, 12.0), (9, 5.0), (16, 0.5)):
        cases.append((f"kaiser_{length}_{beta}", "kaiser_window", None,
                      {"window_length": length, "beta": beta}))
    for length, beta in ((8, 12.0), (9, 12.0), (16, 5.0), (2, 3.0)):
        cases.append((f"kbd_{length}_{beta}", "kaiser_bessel_derived_window", None,
                      {"window_length": length, "beta": beta}))
    for length in (1, 7, 8, 16):
        cases.append((f"vorbis_{length}", "vorbis_window", None, {"window_length": length}))
    return cases


def _frame_cases():
    return [
        ("frame_basic", "frame", _rand(1, 2, 11), {"frame_length": 4, "frame_step": 3}),
        ("frame_pad_end", "frame", _rand(2, 2, 11),
         {"frame_length": 4, "frame_step": 3, "pad_end": True}),
        ("frame_axis0_pad_value", "frame", _rand(3, 5, 3),
         {"frame_length": 2, "frame_step": 1, "pad_end": True, "pad_value": 2.5, "axis": 0}),
        ("frame_middle_axis", "frame", _rand(4, 2, 9, 3),
         {"frame_length": 3, "frame_step": 2, "axis": 1}),
        ("frame_longer_than_signal", "frame", _rand(5, 3, 10),
         {"frame_length": 12, "frame_step": 2}),
        ("frame_longer_than_signal_padded", "frame", _rand(5, 3, 10),
         {"frame_length": 12, "frame_step": 4, "pad_end": True}),
        ("frame_step_past_length", "frame", _rand(6, 3, 11), {"frame_length": 2, "frame_step": 3}),
        ("frame_empty_signal", "frame", _rand(7, 2, 0),
         {"frame_length": 3, "frame_step": 1, "pad_end": True}),
        ("ola_overlap", "overlap_and_add", _rand(8, 2, 4, 5), {"frame_step": 2}),
        ("ola_no_overlap", "overlap_and_add", _rand(9, 3, 4), {"frame_step": 4}),
        ("ola_gaps", "overlap_and_add", _rand(10, 2, 3, 3), {"frame_step": 5}),
        ("ola_step_one", "overlap_and_add", _rand(11, 2, 5, 4), {"frame_step": 1}),
        ("ola_one_frame", "overlap_and_add", _rand(12, 1, 6), {"frame_step": 4}),
    ]


def _dct_cases():
    cases = []
    for fn in ("dct", "idct"):
        for dct_type in (1, 2, 3, 4):
            for norm in ((None,) if dct_type == 1 else (None, "ortho")):
                cases.append((f"{fn}{dct_type}_{norm}", fn, _rand(20 + dct_type, 3, 8),
                              {"type": dct_type, "norm": norm}))
    cases += [("dct2_cut", "dct", _rand(30, 2, 8), {"type": 2, "n": 5}),
              ("dct3_padded", "dct", _rand(31, 2, 5), {"type": 3, "n": 9, "norm": "ortho"}),
              ("dct4_padded", "dct", _rand(32, 2, 5), {"type": 4, "n": 8}),
              ("dct2_single", "dct", _rand(33, 2, 1), {"type": 2}),
              ("dct2_rank1", "dct", _rand(34, 6), {"type": 2})]
    return cases


def _spectral_cases():
    audio = _rand(40, 2, 64)
    return [
        ("mdct_vorbis", "mdct", audio, {"frame_length": 16}),
        ("mdct_ortho_pad", "mdct", _rand(41, 2, 70),
         {"frame_length": 16, "norm": "ortho", "pad_end": True}),
        ("mdct_kbd", "mdct", audio,
         {"frame_length": 8, "window_fn": "kaiser_bessel_derived_window"}),
        ("mdct_no_window", "mdct", audio, {"frame_length": 16, "window_fn": "none"}),
        ("imdct_vorbis", "inverse_mdct", _rand(42, 2, 5, 8), {}),
        ("imdct_ortho_none", "inverse_mdct", _rand(43, 3, 4), {"norm": "ortho",
                                                               "window_fn": "none"}),
        ("mel_default", "linear_to_mel_weight_matrix", None, {}),
        ("mel_16k", "linear_to_mel_weight_matrix", None,
         {"num_mel_bins": 40, "num_spectrogram_bins": 257, "sample_rate": 16000,
          "lower_edge_hertz": 20.0, "upper_edge_hertz": 8000.0}),
        ("mfcc", "mfccs_from_log_mel_spectrograms", _rand(44, 2, 3, 20), {}),
        ("fftshift_all", "fftshift", _rand(45, 3, 5), {}),
        ("fftshift_axis", "fftshift", _rand(46, 3, 5), {"axes": 1}),
        ("ifftshift_all", "ifftshift", _rand(47, 4, 5), {}),
        ("ifftshift_axes", "ifftshift", _rand(48, 3, 4, 5), {"axes": (0, 2)}),
        ("istft_window", "inverse_stft_window_fn", None, {"frame_step": 4, "frame_length": 16}),
        ("istft_window_odd", "inverse_stft_window_fn", None,
         {"frame_step": 3, "frame_length": 10, "window_fn": "vorbis_window"}),
    ]


def cases():
    return _window_cases() + _frame_cases() + _dct_cases() + _spectral_cases()


def call(signal_module, function, value, kwargs, dtype):
    """Run one case with ``signal_module`` (tf.signal or gc.signal) on ``value`` (already a
    tensor of ``dtype``, or None)."""
    kwargs = dict(kwargs)
    if "window_fn" in kwargs:
        name = kwargs.pop("window_fn")
        kwargs["window_fn"] = None if name == "none" else getattr(signal_module, name)
    if function == "inverse_stft_window_fn":
        forward = {"forward_window_fn": kwargs["window_fn"]} if "window_fn" in kwargs else {}
        window_fn = signal_module.inverse_stft_window_fn(kwargs["frame_step"], **forward)
        return window_fn(kwargs["frame_length"], dtype=dtype)
    if value is None:
        return getattr(signal_module, function)(dtype=dtype, **kwargs)
    return getattr(signal_module, function)(value, **kwargs)
