"""Saving and loading (TF1's API): graphs into graphs (``import_graph_def``), meta graphs
(``export_meta_graph``/``import_meta_graph``), checkpoints (``Saver``) and the checkpoint
state file. The file formats are specified in docs/formats.md; the GraphDef and the file
container itself are core (``graphc.serialization``).
"""
from graphc.saving.checkpoint_state import (CheckpointState, checkpoint_exists,  # noqa: F401
                                            get_checkpoint_state, latest_checkpoint,
                                            remove_checkpoint, update_checkpoint_state)
from graphc.saving.graph_import import import_graph_def  # noqa: F401
from graphc.saving.meta_graph import (MetaGraphDef, export_meta_graph,  # noqa: F401
                                      import_meta_graph, read_meta_graph)
from graphc.saving.reader import (CheckpointReader, NewCheckpointReader,  # noqa: F401
                                  list_variables, load_variable, write_graph)
from graphc.saving.saver import Saver  # noqa: F401
