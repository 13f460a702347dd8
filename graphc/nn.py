"""``gc.nn``: the neural-network namespace of TF1's ``tf.nn``."""
from graphc.ops.conv import avg_pool, conv2d, max_pool  # noqa: F401
from graphc.ops.conv_grads import conv2d_backprop_filter, conv2d_backprop_input  # noqa: F401
from graphc.ops.elementwise import elu, relu, relu6, sigmoid, softplus, tanh  # noqa: F401
from graphc.ops.nn import (bias_add, l2_loss, log_softmax, sigmoid_cross_entropy_with_logits,  # noqa
                           softmax, softmax_cross_entropy_with_logits,
                           softmax_cross_entropy_with_logits_v2)
from graphc.ops.sparse_xent import (sparse_softmax_cross_entropy_backprop,  # noqa: F401
                                    sparse_softmax_cross_entropy_with_logits)
from graphc.ops.random import dropout  # noqa: F401
from graphc.nn_losses import log_poisson_loss, weighted_cross_entropy_with_logits  # noqa: F401
from graphc.ops.activations import (gelu, leaky_relu, selu, silu, softsign,  # noqa: F401
                                    swish)
from graphc.nn_norm import (batch_normalization, fused_batch_norm, l2_normalize,  # noqa: F401
                            local_response_normalization, lrn, moments, weighted_moments)
from graphc.ops.conv_variants import (atrous_conv2d, avg_pool1d, conv1d,  # noqa: F401
                                      conv2d_transpose, depthwise_conv2d, max_pool1d, pool,
                                      separable_conv2d)
from graphc.nn_sampled import embedding_lookup, nce_loss, sampled_softmax_loss  # noqa: F401
from graphc.ops.sampling import (fixed_unigram_candidate_sampler,  # noqa: F401
                                 log_uniform_candidate_sampler, uniform_candidate_sampler)
from graphc.ops.depthwise import (depthwise_conv2d_native,  # noqa: F401
                                  depthwise_conv2d_native_backprop_filter,
                                  depthwise_conv2d_native_backprop_input)
from graphc.rnn import (bidirectional_dynamic_rnn, dynamic_rnn, rnn_cell,  # noqa: F401
                        static_bidirectional_rnn, static_rnn)
from graphc.ops.sorting import in_top_k, top_k  # noqa: F401,E402
from graphc.tf1_compositions import (avg_pool2d, avg_pool_v2, convolution,  # noqa: F401,E402
                                     max_pool2d, max_pool_v2, normalize_moments, relu_layer,
                                     sufficient_statistics, xw_plus_b, zero_fraction)
from graphc.ops.special_math import log_sigmoid  # noqa: F401,E402
from graphc.ops.pool_argmax import max_pool_with_argmax  # noqa: F401,E402
from graphc.ops.nn_extra import crelu  # noqa: F401,E402
from graphc.ops.space_batch import space_to_batch  # noqa: F401,E402
from graphc.ops.space_depth import depth_to_space, space_to_depth  # noqa: F401,E402
from graphc.ops.conv3d import (conv3d, conv3d_backprop_filter, conv3d_backprop_input,  # noqa
                               conv3d_transpose)
from graphc.ops.pool3d import avg_pool3d, max_pool3d  # noqa: F401,E402
conv3d_backprop_filter_v2, conv3d_backprop_input_v2 = conv3d_backprop_filter, conv3d_backprop_input
from graphc.sparse.embedding import (embedding_lookup_sparse,  # noqa: F401,E402
                                     safe_embedding_lookup_sparse)
from graphc.nn_more import (approx_max_k, approx_min_k, compute_average_loss,  # noqa: F401,E402
                            conv1d_transpose, conv_transpose, scale_regularization_loss)
# TF1's other names of the depthwise gradients (the same signature)
depthwise_conv2d_backprop_filter = depthwise_conv2d_native_backprop_filter
depthwise_conv2d_backprop_input = depthwise_conv2d_native_backprop_input
