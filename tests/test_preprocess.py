"""Users' pictures -> MNIST-style 28x28: each step, each way real scans and photos
differ from MNIST (on images made here: drawn shapes and real MNIST digits
re-rendered), every input format and failure."""

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from paddle_mnist import ink as ink_steps
from paddle_mnist import preprocess as pp
from paddle_mnist.errors import ImageError
from paddle_mnist.images import load_image, to_gray
from user_images import STYLES, blank_png, encode, mnist_test_digits


def ring(size=(300, 240), centre=(190, 100), radius=50, ink=20, paper=230, mode="L",
         width=None):
    """A '0' drawn off-centre: dark ink on light paper unless told otherwise."""
    image = Image.new("L", size, paper)
    x, y = centre
    ImageDraw.Draw(image).ellipse((x - radius * 0.7, y - radius, x + radius * 0.7, y + radius),
                                  outline=ink, width=width or round(radius * 0.24))
    return image.convert(mode)


def correlation(a, b):
    return np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]


def matches(digit, reference=None, threshold=0.9):
    """Correlates with the reference, allowing MNIST's own one-pixel centring jitter."""
    reference = REFERENCE if reference is None else reference
    return max(correlation(np.roll(digit, (dy, dx), axis=(0, 1)), reference)
               for dy in (-1, 0, 1) for dx in (-1, 0, 1)) > threshold


def on_paper(digit, scale, paper=255, ink=0, resample=Image.NEAREST):
    """An MNIST digit as dark ink on paper, enlarged `scale` times."""
    grey = paper + (ink - paper) * (digit.astype(np.float32) / 255)
    image = Image.fromarray(np.round(grey).astype(np.uint8))
    return image.resize((digit.shape[1] * scale, digit.shape[0] * scale), resample)


def tight(digit):
    return digit[np.ix_(digit.any(axis=1), digit.any(axis=0))]


REFERENCE = pp.to_mnist(ring())  # a clean PNG-like original to compare formats with


# --- the steps, one at a time -------------------------------------------------

def test_paper_polarity_even_for_a_tiny_digit_in_shade():
    dark_on_light = np.asarray(ring(), np.float32) / 255
    assert pp.find_paper(dark_on_light).light
    assert not pp.find_paper(1 - dark_on_light).light
    tiny = np.asarray(ring(size=(1000, 800), radius=15), np.float32) / 255
    tiny *= np.linspace(0.4, 1.0, 1000, dtype=np.float32)  # strong side light
    assert pp.find_paper(tiny).light and not pp.find_paper(1 - tiny).light


def test_paper_is_found_under_a_digit_that_covers_much_of_the_border():
    ys, xs = np.mgrid[0:64, 0:64] / 64
    paper = (0.8 + 0.1 * xs - 0.05 * ys).astype(np.float32)
    gray = paper.copy()
    gray[:, :6] = gray[:6, :40] = gray[30:34, 10:60] = 0.1  # ~40% of the border is ink
    found = pp.find_paper(gray)
    assert found.light and np.abs(found.surface(gray.shape) - paper).max() < 0.02


def test_ink_mask_keeps_size_zeroes_paper_and_evens_out_shade():
    paper = np.linspace(0.45, 1.0, 400, dtype=np.float32)[None, :].repeat(300, 0)
    gray = paper.copy()
    gray[100:200, 40:60] *= 0.15    # the same pen stroke in the shadow ...
    gray[100:200, 340:360] *= 0.15  # ... and in full light
    mask = pp.ink_mask(gray)
    assert mask.shape == gray.shape and mask.min() == 0 and mask.max() <= 1
    assert mask[:80].max() == 0 and mask[:, 100:300].max() == 0
    shadow, light = mask[120:180, 45:55].mean(), mask[120:180, 345:355].mean()
    assert shadow > 0.9 and abs(shadow - light) < 0.05


def test_ink_mask_of_a_window_uses_the_pictures_paper():
    gray = np.asarray(ring(), np.float32) / 255
    whole = pp.ink_mask(gray)
    window = gray[40:170, 140:250]
    part = pp.ink_mask(window, pp.find_paper(gray), (40, 140, 170, 250), gray.shape)
    assert np.abs(part - whole[40:170, 140:250]).max() < 0.05


def test_ink_mask_refuses_a_noisy_blank_page():
    rng = np.random.default_rng(2)
    blank = np.clip(0.8 + rng.normal(0, 0.03, (300, 300)), 0, 1).astype(np.float32)
    with pytest.raises(ImageError, match="no digit found"):
        pp.ink_mask(blank)


def test_specks_are_dropped_and_digit_pieces_kept():
    ink = np.zeros((400, 400), np.float32)
    ink[100:300, 150:170] = 1   # stem
    ink[100:120, 190:260] = 1   # a detached bar, as in a broken '5'
    ink[305:311, 150:156] = 1   # the pen's last touch, just below the stem
    ink[200:202, 230:232] = 1   # dust on the digit, too small to be a piece
    ink[20:24, 20:24] = 1       # dust far away
    kept = ink_steps.keep_digit(ink)
    assert kept[20:24, 20:24].max() == 0 and kept[200:202, 230:232].max() == 0
    assert np.array_equal(kept[100:320, 140:190], ink[100:320, 140:190])
    assert np.array_equal(kept[100:120, 190:260], ink[100:120, 190:260])


def test_pixel_upscaling_is_undone_exactly():
    small = np.random.default_rng(4).random((16, 12)).astype(np.float32)
    assert np.array_equal(pp.undo_pixel_upscaling(np.kron(small, np.ones((8, 8)))), small)
    photo = np.asarray(ring(), np.float32) / 255
    assert pp.undo_pixel_upscaling(photo) is photo
    blank_margins = np.zeros((64, 64), np.float32)
    blank_margins[10:50, 20:23] = 1  # rows equal in pairs by chance, not a 2x enlargement
    assert pp.undo_pixel_upscaling(blank_margins) is blank_margins


def test_crop_to_ink_is_the_tight_box():
    ink = np.zeros((50, 60))
    ink[10:30, 5:12], ink[25, 40] = 0.5, 1
    assert pp.crop_to_ink(ink).shape == (20, 36)


def test_stroke_width_is_brought_into_mnists_range():
    ys, xs = np.mgrid[-60:61, -60:61]
    radius = np.hypot(ys, xs)
    assert pp.stroke_width((radius <= 50) & (radius > 42)) == pytest.approx(8, rel=0.1)
    for inner in (48.5, 25):   # a hairline and a marker much bolder than MNIST's pens
        patch = pp.crop_to_ink(((radius <= 50) & (radius > inner)).astype(np.float32))
        width = pp.stroke_width(pp.normalise_stroke(patch)) / pp.OVERSAMPLE
        assert width == pytest.approx(pp.STROKE_WIDTH, rel=0.25)
    usual = pp.crop_to_ink(((radius <= 50) & (radius > 37.5)).astype(np.float32))
    assert np.array_equal(pp.normalise_stroke(usual), pp.at_stroke_scale(usual))


def test_stroke_constants_are_mnists(mnist_root):
    from paddle_mnist.data.idx import read_split

    images = read_split(mnist_root, "train")[0]
    picked = np.random.default_rng(0).choice(len(images), 2000, replace=False)
    widths = [pp.stroke_width(pp.at_stroke_scale(tight(images[i] / 255))) / pp.OVERSAMPLE
              for i in picked]
    assert np.percentile(widths, [5, 50, 95]) == pytest.approx(
        [pp.THIN_STROKE, pp.STROKE_WIDTH, pp.THICK_STROKE], abs=0.1)


@pytest.mark.parametrize("shape, fitted", [((100, 50), (20, 10)), ((30, 90), (7, 20)),
                                           ((5, 5), (20, 20))])
def test_fit_box_keeps_aspect_ratio(shape, fitted):
    out = pp.fit_box(np.ones(shape, np.float32), pp.BOX)
    assert out.shape == fitted and out.max() == pytest.approx(1)


def test_centre_of_mass_lands_at_the_centre():
    patch = np.zeros((20, 12), np.float32)
    patch[:5], patch[5:, 5:8] = 1, 1  # top-heavy, like a '7'
    out = pp.centre_by_mass(patch, pp.FIELD)
    ys, xs = np.mgrid[0:28, 0:28]
    centre = (ys * out).sum() / out.sum(), (xs * out).sum() / out.sum()
    assert out.shape == (28, 28) and np.allclose(centre, (14, 14), atol=0.5)
    patch[5:] = 0   # so top-heavy that centring would push it out: it stays whole
    assert pp.centre_by_mass(patch, pp.FIELD).sum() == patch.sum()


# --- how real scans differ from MNIST, each on made images --------------------

@pytest.mark.parametrize("box", [(40, 0, 300, 240), (136, 45, 226, 155), (150, 45, 226, 155),
                                 (136, 60, 226, 140)],
                         ids=["one-border", "tight-crop", "cut-left", "cut-top-bottom"])
def test_digit_touching_borders_is_read_not_refused(box):
    digit = pp.to_mnist(ring().crop(box))
    assert digit.max() == 255
    if box[0] <= 136 and box[1] <= 45:  # the whole ring is in the crop
        assert matches(digit)


def test_digit_filling_the_whole_frame():
    """A bold 0 whose strokes touch all four borders: no margin anywhere."""
    frame = Image.new("L", (77, 110), 235)
    ImageDraw.Draw(frame).ellipse((0, 0, 76, 109), outline=15, width=24)
    with_margin = Image.new("L", (200, 200), 235)
    ImageDraw.Draw(with_margin).ellipse((60, 45, 136, 154), outline=15, width=24)
    pixels = np.asarray(frame)
    assert all((side < 128).any() for side in (pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]))
    assert matches(pp.to_mnist(frame), pp.to_mnist(with_margin))


def test_mnist_digits_cropped_with_no_margin(mnist_root):
    digits, _ = mnist_test_digits(40, seed=6)
    scores = [correlation(pp.to_mnist(on_paper(tight(d), 6)), pp.to_mnist(d)) for d in digits]
    assert np.mean(scores) > 0.9 and min(scores) > 0.6


def test_mnist_digits_in_thick_and_thin_pens(mnist_root):
    from scipy import ndimage

    digits, _ = mnist_test_digits(40, seed=7)
    for change in (lambda a: ndimage.grey_dilation(a, size=(9, 9)),      # marker
                   lambda a: ndimage.grey_erosion(a, size=(5, 5))):      # hairline
        scores, widths = [], []
        for digit in digits:
            large = np.asarray(on_paper(digit, 8, resample=Image.BILINEAR), np.float32) / 255
            seen = pp.to_mnist(1 - change(1 - large))
            scores.append(correlation(seen, pp.to_mnist(digit)))
            widths.append(pp.stroke_width(pp.at_stroke_scale(tight(seen / 255))) / 4)
        assert np.mean(scores) > 0.8
        assert pp.THIN_STROKE - 0.3 < np.median(widths) < pp.THICK_STROKE


def test_binary_black_and_white_scans(mnist_root):
    digits, _ = mnist_test_digits(40, seed=8)
    scores = []
    for digit in digits:
        scan = on_paper(digit, 5, resample=Image.BILINEAR).point(lambda v: 255 * (v > 128))
        scores.append(correlation(pp.prepare_file(encode(scan.convert("1"), "PNG")),
                                  pp.to_mnist(digit)))
    assert np.mean(scores) > 0.9


@pytest.mark.parametrize("side, scale", [(16, 8), (28, 8), (28, 4)])
def test_low_resolution_shown_with_hard_pixel_edges(mnist_root, side, scale):
    """USPS-like 16x16 digits filling their frame, and 28x28 crops, enlarged with
    nearest neighbour: read at their own resolution."""
    digits, _ = mnist_test_digits(40, seed=9)
    scores = []
    for digit in digits:
        small = np.asarray(Image.fromarray(tight(digit) if side == 16 else digit)
                           .resize((side, side), Image.BILINEAR))
        scores.append(correlation(pp.prepare_file(encode(on_paper(small, scale), "PNG")),
                                  pp.to_mnist(digit)))
    assert np.mean(scores) > (0.75 if side == 16 else 0.97)


@pytest.mark.parametrize("paper, ink", [((246, 246, 246), (40, 40, 40)),
                                        ((235, 222, 170), (30, 40, 120)),
                                        ((120, 130, 125), (20, 20, 30))],
                         ids=["scanner-grey", "yellow-pad-blue-pen", "dim-grey"])
def test_grey_and_tinted_paper(mnist_root, paper, ink):
    digits, _ = mnist_test_digits(20, seed=10)
    for digit in digits:
        coverage = np.asarray(on_paper(digit, 6, 0, 255, Image.BILINEAR), np.float32)[..., None]
        rgb = np.array(paper) + (np.array(ink) - np.array(paper)) * coverage / 255
        assert matches(pp.prepare_file(encode(rgb.round().astype(np.uint8), "PNG")),
                       pp.to_mnist(digit), 0.9)


@pytest.mark.parametrize("stretch", [(3.0, 1.0), (1.0, 2.0), (1.6, 1.0)],
                         ids=["wide", "tall", "squat"])
def test_proportions_are_kept_into_the_box(stretch):
    image = ring(size=(400, 400), centre=(200, 200), radius=60)
    size = (round(400 * stretch[0]), round(400 * stretch[1]))
    digit = pp.to_mnist(image.resize(size, Image.BILINEAR))
    rows, cols = np.nonzero(digit.any(axis=1))[0], np.nonzero(digit.any(axis=0))[0]
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    expected = 0.7 * stretch[0] / stretch[1]  # the ring is 0.7 as wide as tall
    assert max(height, width) in (pp.BOX, pp.BOX + 1, pp.BOX + 2)
    assert width / height == pytest.approx(expected, rel=0.2)


# --- photos, input formats ----------------------------------------------------

def test_small_digit_in_a_large_shaded_photo():
    rng = np.random.default_rng(3)
    paper = np.asarray(ring(size=(3000, 2000), centre=(2300, 600), radius=80), np.float32)
    shade = np.linspace(0.5, 1.0, 3000, dtype=np.float32)[None, :, None]
    photo = paper[..., None] * shade * [1.0, 0.95, 0.85] + rng.normal(0, 5, (2000, 3000, 1))
    data = encode(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)), "JPEG")
    assert load_image(data, gray_side=pp.DECODE_SIDE).size == (1500, 1000)  # decoded at 1/2
    assert matches(pp.prepare_file(data))


def test_output_is_mnist_shaped_and_polarity_free():
    assert REFERENCE.shape == (28, 28) and REFERENCE.dtype == np.uint8
    assert REFERENCE.max() == 255 and REFERENCE[0].max() == 0
    inverted = pp.to_mnist(ring(ink=235, paper=15))
    assert matches(inverted, threshold=0.95)


@pytest.mark.parametrize("make", [
    lambda: encode(ring(mode="RGB"), "JPEG", quality=70),
    lambda: encode(ring(mode="CMYK"), "JPEG"),
    lambda: encode(ring(mode="P"), "PNG"),
    lambda: encode(ring(mode="P"), "GIF"),
    lambda: encode(ring().convert("1", dither=Image.Dither.NONE), "BMP"),
    lambda: encode(Image.fromarray((np.asarray(ring(), np.uint16) * 257)), "PNG"),
    lambda: encode(Image.merge("LA", [ring(), Image.new("L", (300, 240), 255)]), "PNG"),
], ids=["jpeg", "cmyk-jpeg", "palette-png", "gif", "1-bit-bmp", "16-bit-png", "opaque-la"])
def test_file_formats_give_the_same_digit(make):
    assert matches(pp.prepare_file(make()))


@pytest.mark.parametrize("stroke", [(0, 0, 0), (255, 255, 255), (200, 30, 30)])
def test_strokes_on_a_transparent_canvas_survive(stroke):
    alpha = Image.eval(ring(), lambda v: 255 - v)  # opaque only where the ink is
    canvas = Image.new("RGBA", alpha.size, (0, 0, 0, 0))
    canvas.paste(Image.new("RGBA", alpha.size, stroke + (255,)), mask=alpha)
    assert matches(pp.prepare_file(encode(canvas, "PNG")))


def test_transparent_margins_around_a_photo_blend_into_the_paper():
    photo = ring().convert("RGBA")
    photo.putalpha(Image.new("L", photo.size, 255))
    ImageDraw.Draw(photo).rectangle((0, 0, 299, 20), fill=(0, 0, 0, 0))
    assert matches(pp.prepare_file(encode(photo, "PNG")))


def test_animated_gif_uses_the_first_frame():
    bar = Image.new("L", (300, 240), 230)
    ImageDraw.Draw(bar).rectangle((40, 100, 260, 130), fill=20)
    data = encode(ring(), "GIF", save_all=True, append_images=[bar], duration=100)
    assert matches(pp.prepare_file(data))


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # camera held sideways: rotate 90 degrees clockwise to view
    data = encode(ring(mode="RGB"), "JPEG", exif=exif)
    assert load_image(data).size == (240, 300)
    assert load_image(data, gray_side=100).size == (120, 150)  # decoded at 1/2, still upright


def test_arrays_are_accepted_and_bad_float_ranges_refused():
    as_array = pp.to_mnist(np.asarray(ring()))
    assert np.array_equal(as_array, REFERENCE)
    assert np.array_equal(pp.to_mnist(np.asarray(ring(), np.float32) / 255), REFERENCE)
    assert to_gray(np.zeros((4, 4, 3), np.uint8)).shape == (4, 4)
    with pytest.raises(ValueError, match="0, 1"):
        pp.to_mnist(np.asarray(ring(), np.float32))


# --- refusals -----------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"these are not the pixels you are looking for", "not an image"),
    (encode(ring(), "PNG")[:400], "truncated or corrupt"),
    (encode(ring(mode="RGB"), "JPEG")[:600], "truncated or corrupt"),
    (encode(Image.new("L", (1, 1), 255), "PNG"), "no digit found"),
    (encode(Image.new("RGB", (640, 480), (240, 235, 220)), "JPEG"), "no digit found"),
    (encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "PNG"), "no digit found"),
    (encode(Image.effect_noise((320, 240), 8).point(lambda v: 128 + v // 16), "PNG"),
     "no digit found"),
], ids=["empty", "text", "truncated-png", "truncated-jpeg", "1x1", "blank-page", "transparent",
        "grain-only"])
def test_bad_images_raise_image_error_naming_the_file(tmp_path, data, message):
    path = tmp_path / "upload.img"
    path.write_bytes(data)
    for source, name in ((str(path), str(path)), (data, "my-digit.png")):
        with pytest.raises(ImageError, match=message) as caught:
            pp.prepare_file(source, name=None if source == str(path) else name)
        assert name in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ImageError, match="cannot read image .*nothing.png"):
        load_image(tmp_path / "nothing.png")


@pytest.mark.parametrize("side, message", [(20000, "decompression bomb"),
                                           (10000, "decompression bomb"),
                                           (7000, "more than the 40,000,000 allowed")])
def test_huge_images_are_refused_from_the_header(monkeypatch, side, message):
    data = blank_png(side, side)

    def decode(self):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    start = time.perf_counter()
    with pytest.raises(ImageError, match=message) as caught:
        load_image(data, name="bomb.png")
    assert "bomb.png" in str(caught.value) and time.perf_counter() - start < 1


def test_pixel_and_file_size_limits_are_configurable(tmp_path):
    with pytest.raises(ImageError, match="300x240"):
        load_image(encode(ring(), "PNG"), max_pixels=10_000)
    video = tmp_path / "clip.png"
    video.write_bytes(encode(ring(), "PNG") + bytes(2_000_000))
    with pytest.raises(ImageError, match="clip.png is over 1 MiB"):
        load_image(video, max_pixels=200_000)


# --- real MNIST digits, rendered as users' pictures ---------------------------

def test_mnist_digits_pass_through_almost_unchanged(mnist_root):
    digits, _ = mnist_test_digits(50, seed=4)
    usual, reshaped = [], []
    for digit in digits:
        width = pp.stroke_width(pp.at_stroke_scale(tight(digit / 255))) / pp.OVERSAMPLE
        kept = pp.THIN_STROKE <= width <= pp.THICK_STROKE
        (usual if kept else reshaped).append(correlation(pp.to_mnist(digit), digit))
    assert np.mean(usual) > 0.97 and len(usual) > 0.8 * len(digits)
    assert min(reshaped, default=1) > 0.8  # MNIST's own thinnest and boldest 5% each


def test_renderer_makes_large_deterministic_pictures(mnist_root):
    digit = mnist_test_digits(1, seed=5)[0][0]
    photo = Image.open(io.BytesIO(STYLES["photo"](digit, 3)))
    assert photo.format == "JPEG" and photo.mode == "RGB" and min(photo.size) >= 400
    assert Image.open(io.BytesIO(STYLES["transparent"](digit, 3))).mode == "RGBA"
    for render in STYLES.values():
        assert render(digit, 3) == render(digit, 3) != render(digit, 4)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_rendered_digits_come_back_like_the_original(mnist_root, style):
    # Centring the box instead of the mass, stretching to 20x20, or skipping
    # inversion, flattening or speck removal each bring the mean r below 0.6.
    digits, _ = mnist_test_digits(30, seed=3)
    scores = [correlation(pp.prepare_file(STYLES[style](d, i)), d)
              for i, d in enumerate(digits)]
    assert np.mean(scores) > 0.8 and min(scores) > 0.5
