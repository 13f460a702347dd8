"""``tf.saved_model.loader``: load a SavedModel's meta graph and variables into a session."""
from .builder import contains_saved_model as maybe_saved_model_directory  # noqa: F401
from .builder import load  # noqa: F401
