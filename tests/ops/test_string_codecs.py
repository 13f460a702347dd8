"""Base64 and decompression ops against TensorFlow 2.21's results for the same inputs."""
import gzip
import zlib

import pytest

import graphc as gc
from graphc.errors import InvalidArgumentError


def run(tensor):
    with gc.Session() as sess:
        return sess.run(tensor).tolist()


def test_encode_is_web_safe_and_unpadded_by_default():
    texts = [b"\xff\xfe binary?>", b"", b"a"]
    assert run(gc.io.encode_base64(texts)) == [b"__4gYmluYXJ5Pz4", b"", b"YQ"]
    assert run(gc.encode_base64(texts[::2], pad=True)) == [b"__4gYmluYXJ5Pz4=", b"YQ=="]


def test_decode_with_or_without_padding():
    assert run(gc.io.decode_base64([b"aGVsbG8", b"YQ==", b"YQ", b"_-4"])) == [
        b"hello", b"a", b"a", b"\xff\xee"]


@pytest.mark.parametrize("text", [b"a+b/", b"Y"])
def test_decode_refuses_what_tensorflow_refuses(text):
    with pytest.raises(InvalidArgumentError, match="DecodeBase64"):
        run(gc.io.decode_base64([text]))


def test_round_trip_keeps_shape():
    texts = gc.constant([[b"x", b"yz"], [b"", b"\x00\x01"]])
    decoded = gc.io.decode_base64(gc.io.encode_base64(texts))
    assert decoded.shape.as_list() == [2, 2]
    assert run(decoded) == [[b"x", b"yz"], [b"", b"\x00\x01"]]


def test_decode_compressed():
    assert run(gc.io.decode_compressed([zlib.compress(b"xyz")], compression_type="ZLIB")) == [
        b"xyz"]
    assert run(gc.decode_compressed([gzip.compress(b"g" * 1000)], "GZIP")) == [b"g" * 1000]
    assert run(gc.io.decode_compressed([b"raw"])) == [b"raw"]
    with pytest.raises(InvalidArgumentError, match="corrupt or truncated"):
        run(gc.io.decode_compressed([b"notzlib"], compression_type="ZLIB"))
    with pytest.raises(ValueError, match="compression_type must be"):
        gc.io.decode_compressed([b"x"], compression_type="BZIP2")
