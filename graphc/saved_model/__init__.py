"""``gc.saved_model``: TF1's SavedModel export and loading for graphc graphs (the files are
graphc's own format, not TensorFlow's protobufs): ``simple_save``, ``builder``,
``loader.load``, signatures and the tag/signature constants.

Example:
    >>> gc.saved_model.simple_save(sess, "export/1", {"x": x}, {"y": y})
    >>> meta = gc.saved_model.loader.load(new_sess, ["serve"], "export/1")
"""
from . import (builder, loader, signature_constants, signature_def_utils,  # noqa: F401
               tag_constants, utils)
from .builder import (DEFAULT_SERVING_SIGNATURE_DEF_KEY, PREDICT_METHOD_NAME,  # noqa: F401
                      SERVING, TRAINING, SavedModelBuilder, SignatureDef, TensorInfo,
                      build_signature_def, build_tensor_info, contains_saved_model, load,
                      predict_signature_def, simple_save)

Builder = SavedModelBuilder
