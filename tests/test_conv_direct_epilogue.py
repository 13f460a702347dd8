"""An epilogue program inlined into the direct forward convolution's output rows
(graphc.ops.conv_direct_epilogue): bitwise the block epilogue (the registry kernels in
order) on NaN, +-Inf, +-0.0, denormals and huge values, multiplies kept apart from the adds
that follow them (the convolution's own loops contract into FMAs), and left to the block
epilogue where a program or its inputs do not qualify."""
from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc.ops import conv_direct
from graphc.ops.conv_direct_epilogue import inline_epilogue, takes_inline
from graphc.ops.epilogue import run_in_place
from tests.test_conv_epilogue import _assert_bitwise
from tests.test_conv_epilogue import _special_values as _specials

pytest.importorskip("numba")

BIAS_RELU = (("bias_add", (("in", 0), ("in", 1)), ()), ("relu", (("step", 0),), ()))
# x * s + b: an FMA would round once where NumPy rounds twice
SCALE_SHIFT = (("multiply", (("in", 0), ("in", 1)), ()), ("add", (("step", 0), ("in", 2)), ()))
PROGRAMS = {
    "bias_relu": (BIAS_RELU, 0, lambda c: [_specials((c,), 2)]),
    "relu": ((("relu", (("in", 0),), ()),), 0, lambda c: []),
    "shift_relu_scale": ((("add", (("in", 0), ("in", 2)), ()), ("relu", (("step", 0),), ()),
                          ("multiply", (("step", 1), ("in", 1)), ())), 0,
                         lambda c: [np.array([1.37], np.float32), _specials((1, 1, 1, c), 5)]),
    # the accumulator as the second input: bias - v, then the larger of it and a scalar
    "bias_minus_then_max": ((("subtract", (("in", 0), ("in", 1)), ()),
                             ("maximum", (("step", 0), ("in", 2)), ())), 1,
                            lambda c: [_specials((c,), 6), np.array(-0.5, np.float32)]),
}


def _block_finish(program, position, extras):
    def finish(block):
        inputs = list(extras)
        inputs.insert(position, block)
        run_in_place(program, inputs, position)
    return finish


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # Inf - Inf on purpose
@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("k,c_in,c_out,width", [(1, 32, 16, 12), (3, 3, 32, 9), (5, 8, 8, 7),
                                                (3, 16, 24, 5)])
def test_the_inlined_program_is_bitwise_the_block_epilogue(name, k, c_in, c_out, width):
    program, position, make_extras = PROGRAMS[name]
    extras = make_extras(c_out)
    x = _specials((3, 6, width, c_in), 0)
    w = _specials((k, k, c_in, c_out), 1) * np.float32(0.5)
    pads = (k // 2,) * 4
    want = np.empty((3, 6, width, c_out), np.float32)
    conv_direct.direct_forward(x, w, 1, pads, want, _block_finish(program, position, extras))
    finish = _block_finish(program, position, extras)
    calls = []

    def recorded(block):
        calls.append(block.shape)
        finish(block)
    recorded.inline = (program, position, extras)
    got = np.full_like(want, 7.0)
    conv_direct.direct_forward(x, w, 1, pads, got, recorded)
    assert calls == []  # the program ran in the loop, not on the blocks
    _assert_bitwise([got], [want])


def test_a_product_read_by_a_later_step_stays_on_the_blocks():
    """x * s + b through an FMA (what LLVM made of it inlined) differs from NumPy's two
    roundings in many elements: such a program runs on the blocks, bitwise."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 8, 8, 16)).astype(np.float32)
    w = rng.standard_normal((1, 1, 16, 16)).astype(np.float32)
    scale, shift = np.array([1.37], np.float32), rng.standard_normal(16).astype(np.float32)
    finish = _block_finish(SCALE_SHIFT, 0, [scale, shift])
    want = np.empty((4, 8, 8, 16), np.float32)
    conv_direct.direct_forward(x, w, 1, (0, 0, 0, 0), want, finish)
    fused = np.empty_like(want)
    conv_direct.direct_forward(x, w, 1, (0, 0, 0, 0), fused, lambda block: None)
    fma = (fused.astype(np.float64) * scale[0] + shift).astype(np.float32)
    assert (fma != want).any()  # the test can tell the two apart
    assert inline_epilogue(SCALE_SHIFT, 0, [scale, shift], want.dtype, 16, 8) is None
    finish.inline = (SCALE_SHIFT, 0, [scale, shift])
    got = np.empty_like(want)
    conv_direct.direct_forward(x, w, 1, (0, 0, 0, 0), got, finish)
    _assert_bitwise([got], [want])


def test_programs_and_inputs_that_do_not_qualify_stay_on_the_blocks():
    f32, bias = np.dtype(np.float32), np.ones(16, np.float32)
    assert takes_inline(BIAS_RELU)
    assert not takes_inline((("tanh", (("in", 0),), ()),))  # not exact in the loops
    assert not takes_inline(())
    assert inline_epilogue(BIAS_RELU, 0, [bias], f32, 16, 4) is not None
    assert inline_epilogue(BIAS_RELU, 0, [bias.astype(np.float64)], f32, 16, 4) is None
    assert inline_epilogue(BIAS_RELU, 0, [np.ones(17, np.float32)], f32, 16, 4) is None
    assert inline_epilogue(BIAS_RELU, 0, [np.ones((2, 16), np.float32)], f32, 16, 4) is None
    assert inline_epilogue(BIAS_RELU, 0, [bias], np.dtype(np.float16), 16, 4) is None
    compare = (("greater", (("in", 0), ("in", 1)), ()),)  # a bool step: not the result's dtype
    assert inline_epilogue(compare, 0, [bias], f32, 16, 4) is None


def test_a_session_runs_conv_bias_relu_inlined_bitwise_the_unfused_graph():
    graph = gc.Graph()
    with graph.as_default():
        x = gc.placeholder(gc.float32, (None, 10, 10, 8))
        w = gc.constant(_specials((3, 3, 8, 16), 1) * np.float32(0.5))
        bias = _specials((16,), 2)
        y = gc.nn.relu(gc.nn.bias_add(gc.nn.conv2d(x, w, strides=1, padding="SAME"),
                                      gc.constant(bias)))
    value = _specials((4, 10, 10, 8), 0)
    with np.errstate(all="ignore"):
        with gc.Session(graph=graph, optimize=False) as sess:
            want = sess.run(y, {x: value})
        with gc.Session(graph=graph) as sess:
            for _ in range(20):  # past the fused engines' hot thresholds
                _assert_bitwise([sess.run(y, {x: value})], [want])
    inlined = [key for key in conv_direct._COMPILED if key[0] == "forward" and key[1] == 16
               and key[4] is not None and key[4][0] == BIAS_RELU]
    from graphc.ops.kernel_choice import choices
    direct = any(key[0] == "conv2d" and key[2] == (3, 3, 8, 16) and chosen
                 for key, chosen in choices().items())
    assert inlined or not direct  # where the direct loop won, it ran the program inlined
