"""Image file ops against TensorFlow 2.21: the files in tests/data/images were decoded by TF
(decode_jpeg with dct_method="INTEGER_ACCURATE") and each array's shape, dtype and a digest
of its bytes stored in tf_decoded.json; graphc's pixels must be the same bytes."""
import hashlib
import json
import pathlib

import numpy as np
import pytest

import graphc as gc
from graphc.errors import InvalidArgumentError

pytest.importorskip("PIL")
DATA = pathlib.Path(__file__).resolve().parent.parent / "data" / "images"
TF = json.loads((DATA / "tf_decoded.json").read_text())
PNGS = ["small_rgb.png", "small_rgba.png", "small_gray.png", "small_gray16.png", "small_pal.png"]


def contents(name):
    return (DATA / name).read_bytes()


def run(tensor):
    with gc.Session() as sess:
        return sess.run(tensor)


def assert_tf(array, key):
    shape, dtype, digest = TF[key]
    assert list(array.shape) == shape and array.dtype == np.dtype(dtype), key
    assert hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16] == digest, key


@pytest.mark.parametrize("name", PNGS)
@pytest.mark.parametrize("channels", [0, 1, 3, 4])
@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_png_as_tensorflow(name, channels, dtype):
    pixels = run(gc.io.decode_png(contents(name), channels=channels, dtype=getattr(gc, dtype)))
    if name == "small_pal.png" and channels == 4:
        # TF 2.21 writes alpha 15 (or 3855) for a palette PNG without transparency
        assert (pixels[..., 3] == np.iinfo(dtype).max).all()
        pixels = pixels.copy()
        pixels[..., 3] = 15 if dtype == "uint8" else 3855
    assert_tf(pixels, f"{name}_{channels}_{dtype}")


@pytest.mark.parametrize("channels", [0, 1, 3])
def test_jpeg_as_tensorflow(channels):
    assert_tf(run(gc.image.decode_jpeg(contents("small.jpg"), channels=channels)),
              f"jpg_{channels}")


def test_other_formats_as_tensorflow():
    assert_tf(run(gc.io.decode_gif(contents("small.gif"))), "gif")
    for channels in (0, 3, 4):
        assert_tf(run(gc.image.decode_bmp(contents("small.bmp"), channels=channels)),
                  f"bmp_{channels}")
    # TF's decode_and_crop decodes only the window, which changes its right and bottom
    # edge (no chroma context there); graphc's is TF's full decode, cropped
    cropped = run(gc.io.decode_and_crop_jpeg(contents("small.jpg"), [2, 3, 4, 5]))
    np.testing.assert_array_equal(cropped, run(gc.io.decode_jpeg(contents("small.jpg")))[2:6, 3:8])
    assert_tf(run(gc.image.decode_image(contents("small.gif"), expand_animations=False)),
              "img_gif_noexp")
    assert_tf(run(gc.image.decode_image(contents("small_rgb.png"), dtype=gc.float32)),
              "img_png_f")


def test_jpeg_shape_and_magic():
    jpeg = contents("small.jpg")
    assert run(gc.image.extract_jpeg_shape(jpeg)).tolist() == [9, 11, 3]
    assert run(gc.io.is_jpeg(jpeg)) and not run(gc.io.is_jpeg(contents("small_rgb.png")))


def test_static_shapes():
    file = gc.placeholder(gc.string, [])
    assert gc.image.decode_png(file, channels=3).shape.as_list() == [None, None, 3]
    assert gc.image.decode_jpeg(file).shape.as_list() == [None, None, None]
    assert gc.io.decode_gif(file).shape.rank == 4
    assert gc.image.decode_image(file).shape.rank is None
    with pytest.raises(ValueError, match="must be a scalar"):
        gc.image.decode_png(gc.placeholder(gc.string, [2]))


def test_png_round_trip_is_lossless():
    pixels = np.random.default_rng(3).integers(0, 256, (6, 7, 4), dtype=np.uint8)
    decoded = run(gc.image.decode_png(gc.image.encode_png(pixels)))
    np.testing.assert_array_equal(decoded, pixels)
    wide = np.random.default_rng(4).integers(0, 65536, (5, 3, 1), dtype=np.uint16)
    np.testing.assert_array_equal(
        run(gc.io.decode_png(gc.io.encode_png(wide, compression=9), dtype=gc.uint16)), wide)


def test_jpeg_round_trip_is_close_and_quality_matters():
    smooth = np.repeat(np.linspace(0, 255, 32)[None, :, None], 24, 0).repeat(3, 2)
    pixels = smooth.astype(np.uint8)
    good = run(gc.image.decode_jpeg(gc.image.encode_jpeg(pixels, quality=95)))
    poor = gc.image.encode_jpeg(pixels, quality=10)
    assert np.abs(good.astype(int) - pixels).max() <= 4
    assert len(run(poor)) < len(run(gc.image.encode_jpeg(pixels, quality=95)))


def test_bad_files_fail_the_run_naming_the_op():
    with pytest.raises(InvalidArgumentError, match="DecodeJpeg") as info:
        run(gc.image.decode_jpeg(contents("small_rgb.png")))
    assert "not a JPEG" in str(info.value)
    with pytest.raises(InvalidArgumentError, match="not a valid image"):
        run(gc.image.decode_png(b"\x89PNG\r\n\x1a\n garbage"))
    with pytest.raises(InvalidArgumentError, match="unknown image format"):
        run(gc.image.decode_image(b"plain text"))
    with pytest.raises(InvalidArgumentError, match="crop window"):
        run(gc.image.decode_and_crop_jpeg(contents("small.jpg"), [5, 5, 10, 10]))


def test_bad_arguments_are_refused_when_built():
    with pytest.raises(ValueError, match="channels must be one of"):
        gc.image.decode_png(b"x", channels=2)
    with pytest.raises(ValueError, match="ratio must be"):
        gc.image.decode_jpeg(b"x", ratio=3)
    with pytest.raises(ValueError, match="encode_jpeg: image must be"):
        gc.image.encode_jpeg(np.zeros((2, 2, 4), np.uint8))
    with pytest.raises(TypeError, match="encode_png: image must be uint8 or uint16"):
        gc.image.encode_png(np.zeros((2, 2, 3), np.float32))


def test_without_pillow_the_error_names_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    with pytest.raises(InvalidArgumentError, match=r"graphc\[image\]"):
        run(gc.image.decode_png(contents("small_rgb.png")))


def test_jpeg_quality_adjustment_keeps_dtype_and_degrades_with_quality():
    rng = np.random.default_rng(5)
    image = gc.constant(rng.random((16, 16, 3)).astype(np.float32))
    fine, coarse = gc.image.adjust_jpeg_quality(image, 95), gc.image.adjust_jpeg_quality(image, 5)
    assert fine.dtype == gc.float32 and fine.shape.as_list() == [16, 16, 3]
    with gc.Session() as sess:
        original, good, bad = sess.run([image, fine, coarse])
        random = sess.run(gc.image.random_jpeg_quality(image, 40, 60, seed=1))
    assert np.abs(good - original).mean() < np.abs(bad - original).mean()
    assert random.shape == (16, 16, 3) and random.dtype == np.float32
    with pytest.raises(ValueError, match="min_jpeg_quality"):
        gc.image.random_jpeg_quality(image, 60, 40)
