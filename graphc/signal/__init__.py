"""``gc.signal``: TF's ``tf.signal`` without the complex-valued part (graphc has no complex
dtypes, so ``fft*``, ``ifft*``, ``rfft*``, ``irfft*``, ``stft`` and ``inverse_stft`` are
missing): windows, framing and overlap-add, DCTs of types I-IV, the MDCT, mel filterbanks,
MFCCs and ``fftshift``.

The ops with kernels of their own are graphc/ops/signal_frames.py (``frame``,
``overlap_and_add``) and graphc/ops/signal_dct.py (``dct``); the rest is composed from them
as TF composes it (graphc/signal/windows.py, spectral.py).

Example:
    >>> frames = gc.signal.frame(audio, 400, 160, pad_end=True)      # [..., frames, 400]
    >>> windowed = frames * gc.signal.hann_window(400)
    >>> cepstra = gc.signal.dct(gc.log(windowed * windowed + 1e-6), norm="ortho")
"""
from graphc.ops.signal_dct import dct, idct
from graphc.ops.signal_frames import frame, overlap_and_add
from graphc.signal.spectral import (fftshift, ifftshift, inverse_mdct, inverse_stft_window_fn,
                                    linear_to_mel_weight_matrix, mdct,
                                    mfccs_from_log_mel_spectrograms)
from graphc.signal.windows import (hamming_window, hann_window, kaiser_bessel_derived_window,
                                   kaiser_window, vorbis_window)

__all__ = ["dct", "idct", "frame", "overlap_and_add", "mdct", "inverse_mdct",
           "linear_to_mel_weight_matrix", "mfccs_from_log_mel_spectrograms", "fftshift",
           "ifftshift", "inverse_stft_window_fn", "hann_window", "hamming_window",
           "kaiser_window", "kaiser_bessel_derived_window", "vorbis_window"]
