"""``gc.random``: TF1's ``tf.random`` namespace."""
from graphc.ops.random import random_normal as normal  # noqa: F401
from graphc.ops.random import random_uniform as uniform  # noqa: F401
from graphc.ops.random import set_random_seed, truncated_normal  # noqa: F401
from graphc.ops.sampling import (categorical, fixed_unigram_candidate_sampler,  # noqa: F401
                                 log_uniform_candidate_sampler, multinomial,
                                 uniform_candidate_sampler)
from graphc.ops.random_more import gamma, poisson, shuffle  # noqa: F401,E402
from graphc.ops.random import get_seed  # noqa: F401,E402
from graphc.ops.stateless_sampling import (fold_in, split, stateless_categorical,  # noqa: F401,E402
                                          stateless_multinomial, stateless_normal,
                                          stateless_truncated_normal, stateless_uniform)
