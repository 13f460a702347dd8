"""Running a cell over sequences: ``static_rnn`` (unrolled in the graph), ``dynamic_rnn``
(one ``while_loop`` over time, TensorArrays for inputs and outputs) and the bidirectional
forms, with TF1's signatures, variable scopes (``rnn/``, ``bidirectional_rnn/fw|bw/``) and
``sequence_length`` semantics: past a sequence's length its outputs are zeros and its state
is carried through unchanged, so the final state is the state at its last valid step.
"""
from __future__ import annotations

from graphc.control_flow import TensorArray, while_loop
from graphc.control_flow.nest import flatten, pack_as
from graphc.convert import convert_to_tensor
from graphc import dtypes as gdt
from graphc.ops.array import concat, stack, unstack
from graphc.ops.creation import range as gc_range
from graphc.ops.creation import zeros_like
from graphc.ops.indexing import gather
from graphc.ops.select import cast, where
from graphc.ops.shape_ops import expand_dims, reshape, shape, transpose
from graphc.variable_scope import variable_scope

__all__ = ["static_rnn", "dynamic_rnn", "bidirectional_dynamic_rnn",
           "static_bidirectional_rnn"]


def _initial_state(cell, initial_state, batch_size, dtype, name):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError(f"{name}: if there is no initial_state, you must give a dtype")
    return cell.zero_state(batch_size, dtype)


def _masked_step(cell, x, state, time, lengths):
    """One step; past a sequence's length, zeros out and the old state kept (TF1)."""
    output, new_state = cell(x, state)
    if lengths is None:
        return output, new_state
    alive = time < lengths  # [batch]
    output = where(alive, output, zeros_like(output))
    merged = [where(alive, new, old) for new, old in zip(flatten(new_state), flatten(state))]
    return output, pack_as(new_state, merged)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
    """The cell applied to a Python list of ``[batch, depth]`` inputs, unrolled.

    Returns:
        ``(outputs, state)``: a list of outputs, one per input, and the final state.

    Example:
        >>> outputs, state = gc.nn.static_rnn(cell, gc.unstack(x, axis=1), dtype=gc.float32)
    """
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError("static_rnn: inputs must be a non-empty list of tensors")
    with variable_scope(scope or "rnn"):
        first = convert_to_tensor(inputs[0])
        batch = first.shape[0] if first.shape[0] is not None else shape(first)[0]
        state = _initial_state(cell, initial_state, batch, dtype, "static_rnn")
        lengths = None if sequence_length is None else cast(sequence_length, gdt.int32)
        outputs = []
        for time, x in enumerate(inputs):
            output, state = _masked_step(cell, convert_to_tensor(x), state, time, lengths)
            outputs.append(output)
        return outputs, state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """The cell run over a ``[batch, time, depth]`` tensor (``[time, batch, depth]`` when
    ``time_major``) by one ``while_loop``: the body is one cell step, compiled once.

    Returns:
        ``(outputs, state)``: outputs shaped like the inputs with the cell's output depth,
        and the final state (at each sequence's last valid step).

    Example:
        >>> cell = gc.nn.rnn_cell.BasicLSTMCell(128)
        >>> outputs, state = gc.nn.dynamic_rnn(cell, x, sequence_length=lengths,
        ...                                    dtype=gc.float32)
    """
    with variable_scope(scope or "rnn"):
        x = convert_to_tensor(inputs)
        if x.shape.rank is not None and x.shape.rank < 3:
            raise ValueError(f"dynamic_rnn: inputs must be [batch, time, depth] (or time-major), "
                             f"got shape {x.shape}")
        if not time_major:
            x = transpose(x, [1, 0] + list(range(2, x.shape.rank)))
        steps = x.shape[0] if x.shape[0] is not None else shape(x)[0]
        batch = x.shape[1] if x.shape[1] is not None else shape(x)[1]
        state = _initial_state(cell, initial_state, batch, dtype, "dynamic_rnn")
        lengths = None if sequence_length is None else cast(sequence_length, gdt.int32)
        input_ta = TensorArray(x.dtype, size=steps, element_shape=x.shape[1:]).unstack(x)
        # the outputs' element shape where it is static: the loop variable then has a known
        # shape, and so has its gradient's in the backward loop (whose shape reads fold)
        output_ta = TensorArray(x.dtype, size=steps, element_shape=x.shape[1:2].concatenate(
            [_depth(cell.output_size)]))

        def body(time, state, output_ta):
            output, new_state = _masked_step(cell, input_ta.read(time), state, time, lengths)
            return time + 1, new_state, output_ta.write(time, output)

        _, state, output_ta = while_loop(lambda time, *_: time < steps, body,
                                         [0, state, output_ta],
                                         parallel_iterations=parallel_iterations or 32,
                                         maximum_iterations=steps, name="while")
        outputs = output_ta.stack()
        outputs.set_shape(x.shape[:2].concatenate([_depth(cell.output_size)]))
        if not time_major:
            outputs = transpose(outputs, [1, 0] + list(range(2, outputs.shape.rank)))
        return outputs, state


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """A forward and a backward ``dynamic_rnn`` (the backward one on each sequence reversed
    within its length, its outputs reversed back).

    Returns:
        ``((output_fw, output_bw), (state_fw, state_bw))``.
    """
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length,
                                              initial_state_fw, dtype, parallel_iterations,
                                              swap_memory, time_major, scope=fw_scope)
        time_axis, batch_axis = (0, 1) if time_major else (1, 0)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = reverse_sequence_or_time(convert_to_tensor(inputs),
                                                       sequence_length, time_axis, batch_axis)
            output_bw, state_bw = dynamic_rnn(cell_bw, reversed_inputs, sequence_length,
                                              initial_state_bw, dtype, parallel_iterations,
                                              swap_memory, time_major, scope=bw_scope)
        output_bw = reverse_sequence_or_time(output_bw, sequence_length, time_axis,
                                             batch_axis)
        return (output_fw, output_bw), (state_fw, state_bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """``static_rnn`` both ways; outputs are the forward and backward outputs concatenated
    on depth, per step. Returns ``(outputs, state_fw, state_bw)``."""
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                          sequence_length, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            stacked = stack([convert_to_tensor(x) for x in inputs])  # [time, batch, depth]
            flipped = unstack(reverse_sequence_or_time(stacked, sequence_length, 0, 1))
            out_bw, state_bw = static_rnn(cell_bw, flipped, initial_state_bw, dtype,
                                          sequence_length, scope=bw_scope)
            out_bw = unstack(reverse_sequence_or_time(stack(out_bw), sequence_length, 0, 1))
        return [concat([f, b], 1) for f, b in zip(out_fw, out_bw)], state_fw, state_bw


def _depth(size):
    return size if isinstance(size, int) else None


def reverse_sequence_or_time(x, lengths, time_axis: int, batch_axis: int):
    """Each sequence of ``x`` reversed along ``time_axis`` within its length (entries past
    the length stay where they are), or the whole time axis when ``lengths`` is None."""
    x = convert_to_tensor(x)
    steps = x.shape[time_axis] if x.shape[time_axis] is not None else shape(x)[time_axis]
    if lengths is None:
        return gather(x, gc_range(steps - 1, -1, -1), axis=time_axis)
    if (time_axis, batch_axis) == (1, 0):
        order = [1, 0] + list(range(2, x.shape.rank))
        return transpose(reverse_sequence_or_time(transpose(x, order), lengths, 0, 1), order)
    lengths = cast(lengths, gdt.int32)
    batch = x.shape[1] if x.shape[1] is not None else shape(x)[1]
    times = expand_dims(gc_range(steps), 1)  # [time, 1]
    source = where(times < lengths, lengths - 1 - times, times)  # [time, batch]
    flat_index = reshape(source * batch + expand_dims(gc_range(batch), 0), [-1])
    rows = reshape(x, concat([[-1], shape(x)[2:]], 0))  # [time * batch, ...]
    return reshape(gather(rows, flat_index), shape(x))
