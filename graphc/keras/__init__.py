"""``gc.keras``: the parts of ``tf.keras`` that TF1 graph code uses: ``keras.initializers``,
``keras.regularizers`` and ``keras.layers`` (the classes of ``gc.layers``)."""
from graphc.keras import initializers, layers, regularizers  # noqa: F401
from graphc.layers import Sequential  # noqa: F401,E402 - keras.Sequential([...])
