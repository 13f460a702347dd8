"""``tf.saved_model.tag_constants``: the standard meta graph tags."""
from .builder import GPU, SERVING, TPU, TRAINING  # noqa: F401
