"""Op families. Importing this package registers every op type in ``graphc.registry``."""
from graphc.ops import (array, control, conv, creation, elementwise, linalg, nn, random,  # noqa
                        reduce, select, shape_ops, state)
