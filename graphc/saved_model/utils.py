"""``tf.saved_model.utils``: TensorInfo of a tensor."""
from .builder import build_tensor_info  # noqa: F401
