"""``gc.keras``: the parts of ``tf.keras`` that TF1 graph code uses with ``get_variable``:
``keras.initializers`` and ``keras.regularizers``."""
from graphc.keras import initializers, regularizers  # noqa: F401
