"""Fuzzing what users type and upload: config overrides and files, and image bytes.

Whatever comes in, the answer is a result or a `UserError` (which the tools
print as one line); any other exception would reach the user as a traceback.
"""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from paddle_mnist.config import Config, from_dict
from paddle_mnist.configfiles import parse_override
from paddle_mnist.errors import ConfigError, ImageError
from paddle_mnist.preprocess import prepare_file, to_mnist

FUZZ = settings(max_examples=200, deadline=None, database=None,  # no .hypothesis/ in the repo
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SECTIONS = Config().to_dict()
KEYS = sorted({f"{section}.{key}" for section, fields in SECTIONS.items() for key in fields}
              | {"data.augment.degrees", "optimizer.lr_schedule.name"})
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
# mostly real keys, so the checks behind the key lookup get exercised too
keys = st.sampled_from(KEYS) | st.text(max_size=20)
yaml_values = (st.sampled_from(["1", "-1", "0", "1e-3", "1e400", ".inf", ".nan", "[1, 2]",
                                "{a: 1}", "true", "null", "~", "'x'", "[", "{", ": :", "!!str 3",
                                "!!python/object:os.system", "&a [*a]", "*b", "0x10", "1_000"])
               | st.text(max_size=20))


def config_or_user_error(build):
    try:
        config = build()
    except ConfigError as err:
        assert str(err)
        return None
    assert isinstance(config, Config)
    return config


@FUZZ
@given(st.text(max_size=60))
def test_any_override_text_parses_or_is_a_config_error(text):
    try:
        path, _ = parse_override(text)
    except ConfigError as err:
        assert str(err)
        return
    assert path and all(isinstance(part, str) for part in path)


@FUZZ
@given(st.lists(st.builds("{}={}".format, keys, yaml_values), max_size=4))
def test_any_overrides_give_a_valid_config_or_a_config_error(overrides):
    config = config_or_user_error(lambda: from_dict({}, overrides))
    if config is not None:
        assert config.train.epochs >= 1 and config.train.batch_size >= 1


def _section(fields):
    real = {key: values for key in fields}
    return st.fixed_dictionaries({}, optional=real) | st.dictionaries(
        st.sampled_from(sorted(fields)) | st.text(max_size=8), values, max_size=3)


config_files = (st.fixed_dictionaries({}, optional={name: _section(fields) | values
                                                    for name, fields in SECTIONS.items()})
                | st.dictionaries(st.text(max_size=8) | st.sampled_from(sorted(SECTIONS)),
                                  values, max_size=3))


@FUZZ
@given(config_files)
def test_any_config_file_content_gives_a_config_or_a_config_error(data):
    config_or_user_error(lambda: from_dict(data))


def prepared_or_image_error(source):
    try:
        digit = prepare_file(source, name="upload.png")
    except ImageError as err:
        assert "upload.png" in str(err)
        return None
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    return digit


HEADERS = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00",
           b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"P5\n", b"%!PS-Adobe"]


@FUZZ
@given(st.sampled_from(HEADERS), st.binary(max_size=512))
def test_random_bytes_are_prepared_or_refused(header, body):
    prepared_or_image_error(header + body)


FORMATS = {"PNG": ("L", "RGB", "RGBA", "LA", "P", "1", "I;16"), "JPEG": ("L", "RGB", "CMYK"),
           "GIF": ("L", "P", "1"), "BMP": ("L", "RGB", "P", "1"),
           "TIFF": ("L", "RGB", "RGBA", "CMYK", "1", "I;16"), "WEBP": ("RGB", "RGBA")}


@st.composite
def encoded_images(draw):
    """A random picture saved in a real format, possibly cut short."""
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(FORMATS[fmt]))
    width, height = draw(st.integers(1, 48)), draw(st.integers(1, 48))
    seed = draw(st.integers(0, 2**32 - 1))
    pixels = np.random.RandomState(seed).randint(0, 256, (height, width, 4), dtype=np.uint8)
    if draw(st.booleans()):  # a digit-like bright bar on a dark field instead of noise
        pixels[:] = 0
        pixels[height // 4: 3 * height // 4 + 1, width // 3: 2 * width // 3 + 1] = 255
    image = Image.fromarray(pixels, "RGBA").convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 257)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    data = buffer.getvalue()
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


@FUZZ
@given(encoded_images())
def test_real_and_cut_image_files_are_prepared_or_refused(data):
    prepared_or_image_error(data)


arrays = st.one_of(
    st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([(), (3,), (4,)]),
              st.integers(0, 2**32 - 1), st.sampled_from(["noise", "bar", "flat"]), st.just("u8")),
    st.tuples(st.integers(1, 40), st.integers(1, 40), st.just(()),
              st.integers(0, 2**32 - 1), st.sampled_from(["noise", "bar", "flat"]), st.just("f")))


@FUZZ
@given(arrays)
def test_random_arrays_become_a_digit_or_an_image_error(spec):
    height, width, channels, seed, kind, dtype = spec
    rng = np.random.RandomState(seed)
    shape = (height, width, *channels)
    array = {"noise": rng.rand(*shape), "flat": np.full(shape, rng.rand()),
             "bar": np.zeros(shape)}[kind]
    if kind == "bar":
        array[height // 4: 3 * height // 4 + 1, width // 3: 2 * width // 3 + 1] = 1.0
    array = array.astype(np.float32) if dtype == "f" else np.round(array * 255).astype(np.uint8)
    try:
        digit = to_mnist(array)
    except ImageError as err:
        assert "no digit found" in str(err)
        return
    assert digit.shape == (28, 28) and digit.dtype == np.uint8


@pytest.mark.parametrize("text", ["train.epochs=1", "a.b=[1, {c: 2}]", "x=", " y = 3 "])
def test_well_formed_overrides_still_parse(text):
    path, _ = parse_override(text)  # the fuzz above must not be passing by rejecting everything
    assert path == text.split("=")[0].strip().split(".")
