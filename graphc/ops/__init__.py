"""Op families. Importing this package registers every op type in ``graphc.registry``."""
from graphc.ops import (array, control, conv, creation, elementwise, indexing, linalg,  # noqa
                        nn, padding, random, reduce, select, shape_ops, state)
from graphc.ops import conv_grads, fused  # noqa: F401,E402 - build on the others
from graphc.ops import epilogue  # noqa: F401,E402 - on fused: conv epilogues
from graphc.ops import relu_bias_grad  # noqa: F401,E402 - ReLU and bias gradients in one pass
from graphc.ops import activations, conv_variants, depthwise, normalization  # noqa - tf.nn
from graphc.ops import sampling  # noqa: F401,E402 - seeded draws on graphc.ops.random
from graphc.ops import check_ops, debug, py_func  # noqa: F401,E402 - run-time checks, user code
from graphc.ops import data  # noqa: F401,E402 - tf.data iterators
# TF1's remaining math and array ops, built on the families above
from graphc.ops import cumulative, masking, scatter, segment, sorting  # noqa: F401,E402
from graphc.ops import linalg_extra, math_extra, matrix_diag  # noqa: F401,E402
from graphc.ops import counting, partition, safe_math, shape_checks, special_math  # noqa
from graphc.ops import batch_gather, linalg_decomp, random_more, search_repeat  # noqa
from graphc.ops import linalg_lu, linalg_sqrtm  # noqa: F401,E402 - tf.linalg.lu, sqrtm
from graphc.ops import bitwise, decode_raw, state_scatter, strings  # noqa: F401,E402
from graphc.ops import scaled_update  # noqa: F401,E402 - an SGD step in one op (a pass makes it)
from graphc.ops import image_resize  # noqa: F401,E402 - tf.image resizes (NHWC)
from graphc.ops import space_batch, space_depth  # noqa: F401,E402 - tf.space_to_depth & co
from graphc.ops import patches  # noqa: F401,E402 - tf.extract_image_patches
from graphc.ops import pool_argmax  # noqa: F401,E402 - tf.nn.max_pool_with_argmax
from graphc.ops import pool_taps  # noqa: F401,E402 - pools recording their taps (a pass makes them)
from graphc.ops import conv3d, pool3d  # noqa: F401,E402 - tf.nn.conv3d, max/avg_pool3d
from graphc.ops import nms  # noqa: F401,E402 - tf.image.non_max_suppression
from graphc.ops import distorted_box  # noqa: F401,E402 - tf.image.sample_distorted_bounding_box
from graphc.ops import dynamic_slice  # noqa: F401,E402 - tf.slice with run-time begin/size
from graphc.ops import lookup_ops  # noqa: F401,E402 - tf.lookup tables
from graphc.ops import stateless_random, stateless_sampling  # noqa: F401,E402 - TF's Philox values
from graphc.ops import decode_csv as _decode_csv  # noqa: F401,E402 - tf.io.decode_csv
from graphc.ops import string_codecs  # noqa: F401,E402 - base64, decode_compressed
from graphc.ops import bitcast as _bitcast  # noqa: F401,E402 - tf.bitcast
from graphc.ops import image_codec_ops  # noqa: F401,E402 - PNG/JPEG/GIF/BMP files (Pillow)
from graphc.ops import count_up_to, queue, queue_state, reader  # noqa: F401,E402 - TF1 queues
from graphc.ops import sets as _sets  # noqa: F401,E402 - tf.sets (with sparse_ops)
from graphc.ops import fingerprint  # noqa: F401,E402 - TF's Fingerprint64 hash buckets
from graphc.ops import string_split as _string_split  # noqa: F401,E402 - tf.string_split
from graphc.ops import draw_boxes  # noqa: F401,E402 - tf.image.draw_bounding_boxes
from graphc.ops import signal_dct, signal_frames  # noqa: F401,E402 - tf.signal (real part)
