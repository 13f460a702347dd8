"""``tf.saved_model.signature_def_utils``: building SignatureDefs."""
from .builder import build_signature_def, predict_signature_def  # noqa: F401
