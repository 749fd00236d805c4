"""Unusual but valid image files users send: each becomes the digit it shows.

A 16-bit PNG, a CMYK JPEG and an animated GIF must give the same 28x28 input
as an ordinary 8-bit picture of the same digit (the GIF: its first frame);
a 1x1 image holds no digit and says so in one line.
"""

import io

import numpy as np
import pytest
from PIL import Image

from paddle_mnist.errors import ImageError
from paddle_mnist.preprocess import prepare_file

from user_images import mnist_test_digits


@pytest.fixture(scope="module")
def pictures():
    """Two different real MNIST digits as 140x140 dark-ink-on-white pictures."""
    digits, labels = mnist_test_digits(20, seed=3)
    first = 0
    second = next(i for i in range(1, len(labels)) if labels[i] != labels[first])
    return [Image.fromarray(255 - digits[i]).resize((140, 140), Image.BICUBIC)
            for i in (first, second)]


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def correlation(a, b):
    return np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1]


def test_16_bit_png_gives_the_8_bit_result(pictures):
    picture = pictures[0]
    wide = Image.fromarray(np.asarray(picture).astype(np.uint16) * 257)
    assert wide.mode.startswith("I;16")
    got = prepare_file(encode(wide, "PNG"), name="scan16.png")
    expected = prepare_file(encode(picture, "PNG"), name="scan8.png")
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_cmyk_jpeg_gives_the_rgb_result(pictures):
    picture = pictures[0].convert("RGB")
    got = prepare_file(encode(picture.convert("CMYK"), "JPEG", quality=95), name="print.jpg")
    expected = prepare_file(encode(picture, "JPEG", quality=95), name="photo.jpg")
    assert correlation(got, expected) > 0.95


def test_animated_gif_uses_its_first_frame(pictures):
    first, second = (p.convert("P") for p in pictures)
    animated = encode(first, "GIF", save_all=True, append_images=[second], duration=100)
    assert Image.open(io.BytesIO(animated)).n_frames == 2
    got = prepare_file(animated, name="anim.gif")
    assert np.array_equal(got, prepare_file(encode(first, "GIF"), name="first.gif"))
    assert not np.array_equal(got, prepare_file(encode(second, "GIF"), name="second.gif"))


@pytest.mark.parametrize("mode, value", [("L", 0), ("L", 255), ("RGB", (20, 200, 20))])
def test_one_pixel_image_is_one_clear_error(mode, value):
    with pytest.raises(ImageError) as err:
        prepare_file(encode(Image.new(mode, (1, 1), value), "PNG"), name="dot.png")
    assert str(err.value).startswith("dot.png: no digit found in the image")
    assert "\n" not in str(err.value)
