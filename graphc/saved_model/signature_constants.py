"""``tf.saved_model.signature_constants``: the standard signature keys and method names."""
from .builder import (CLASSIFY_METHOD_NAME, DEFAULT_SERVING_SIGNATURE_DEF_KEY,  # noqa: F401
                      PREDICT_METHOD_NAME, REGRESS_METHOD_NAME)

PREDICT_INPUTS, PREDICT_OUTPUTS = "inputs", "outputs"
CLASSIFY_INPUTS, REGRESS_INPUTS, REGRESS_OUTPUTS = "inputs", "inputs", "outputs"
CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES = "classes", "scores"
