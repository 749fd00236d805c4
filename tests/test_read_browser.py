"""Number mode in a real browser (headless Chromium): a three-digit number is
written with mouse events on the wide pad, read by the real server, shown with
a box over each digit and each digit's probabilities on hover, and corrected.
The screenshot goes to docs/web_number.png only with UPDATE_SCREENSHOT=1."""

import math

import pytest

from test_service_browser import TIMEOUT_MS, screenshot, server, tab  # noqa: F401
from test_serve_browser import CHROMIUM, browser  # noqa: F401

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="no chromium binary: apt-get install chromium, or set "
                         "PADDLE_MNIST_CHROMIUM to a Chrome/Chromium executable")

# Each digit as pen strokes in its own cell, in fractions of the cell (x right, y down).
ONE = [[(0.55, 0.1), (0.5, 0.9)]]
SEVEN = [[(0.15, 0.12), (0.85, 0.12), (0.4, 0.9)]]
ZERO = [[(0.5 + 0.35 * math.sin(a / 16 * 2 * math.pi),
          0.5 - 0.4 * math.cos(a / 16 * 2 * math.pi)) for a in range(17)]]


def write(page, digits):
    """Draw `digits` (stroke lists) side by side on the number pad with the mouse."""
    box = page.locator("#number-pad").bounding_box()
    for index, strokes in enumerate(digits):
        left = box["x"] + (0.22 + 0.2 * index) * box["width"]
        top, width, height = box["y"] + 0.15 * box["height"], 0.13 * box["width"], \
            0.7 * box["height"]
        for stroke in strokes:
            points = [(left + fx * width, top + fy * height) for fx, fy in stroke]
            page.mouse.move(*points[0])
            page.mouse.down()
            for point in points[1:]:
                page.mouse.move(*point, steps=8)
            page.mouse.up()


def test_a_written_number_is_read_and_corrected(tab, server, tmp_path):
    tab.goto(server + "#number")
    tab.wait_for_selector("#number-mode:not([hidden])")
    assert tab.locator("#digit-mode").is_hidden()
    write(tab, [ONE, SEVEN, ZERO])
    tab.wait_for_selector("#number-feedback:not([hidden])", timeout=TIMEOUT_MS)
    assert tab.locator("#number").text_content() == "170"
    boxes = tab.locator("#boxes .box")
    assert boxes.count() == 3
    assert [boxes.nth(i).text_content() for i in range(3)] == ["1", "7", "0"]
    lefts = [boxes.nth(i).bounding_box()["x"] for i in range(3)]
    assert lefts == sorted(lefts)
    boxes.nth(1).hover()
    assert tab.locator("#number-detail").text_content().startswith("Digit 2: 7 at ")
    assert tab.locator("#number-bars .bar.best .label").text_content() == "7"
    assert tab.locator("#number-seen").evaluate("img => img.complete && img.naturalWidth") == 28
    screenshot(tab, "web_number.png", tmp_path)
    tab.fill("#number-label", "171")
    tab.click("#number-save")
    tab.wait_for_selector("#number-saved:has-text('171')", timeout=TIMEOUT_MS)
    tab.click("#mode-digit")
    assert tab.locator("#pad").is_visible() and tab.locator("#number-mode").is_hidden()
    assert tab.problems == []
