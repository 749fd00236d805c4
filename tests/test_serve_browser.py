"""The demo page in a real browser: headless Chromium driven by Playwright.

Draws a digit with mouse events on the canvas and uploads a photo, as a
person would, against the real server and model of test_serve_api. Also
checks the page loads nothing from elsewhere and logs no errors.

The screenshot goes to docs/web_demo.png only with UPDATE_SCREENSHOT=1
(otherwise to a temporary folder), so test runs leave the repository alone.
Needs Debian's `chromium` (or PADDLE_MNIST_CHROMIUM=/path/to/chrome) and the
`playwright` Python package; Playwright's own browser download is not used.
"""

import os
import shutil

import pytest
import requests

from conftest import REPO
from test_serve_api import exported_model, running_server
from user_images import mnist_test_digits, paper_photo

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)")

CHROMIUM = os.environ.get("PADDLE_MNIST_CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ANSWER_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="no chromium binary: apt-get install chromium, or set "
                         "PADDLE_MNIST_CHROMIUM to a Chrome/Chromium executable")

# A '7' as a pen draws it: the top bar left to right, then the slanted stem,
# in fractions of the canvas side.
SEVEN = [(0.28, 0.22), (0.72, 0.22), (0.42, 0.85)]


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_root):
    prefix = exported_model(tmp_path_factory, mnist_root)
    with running_server(prefix, tmp_path_factory.mktemp("serve_browser")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def problems():
    """What went wrong in the page: script errors, console errors, outside requests."""
    return []


@pytest.fixture
def page(browser, server, problems):
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    tab = context.new_page()

    def on_console(message):
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def on_request(request):
        if not request.url.startswith(("data:", "blob:", server)):
            problems.append(f"request outside the server: {request.url}")

    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", on_console)
    tab.on("request", on_request)
    tab.goto(server)
    tab.wait_for_selector("#model:has-text('Model: lenet')")
    yield tab
    context.close()


def draw(page, path):
    box = page.locator("#pad").bounding_box()
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in path]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=15)
    page.mouse.up()


def shown_answer(page):
    """The digit on the page once every request has been answered."""
    page.wait_for_selector("#result[data-state=idle] #digit[data-digit]",
                           timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#digit").get_attribute("data-digit")


def test_drawn_seven_is_recognised(page, problems, tmp_path):
    draw(page, SEVEN)
    assert shown_answer(page) == "7"
    assert page.locator("#bars .bar").count() == 10
    assert page.locator("#bars .bar.best .label").text_content() == "7"
    assert page.locator("#seen").get_attribute("src").startswith("data:image/png;base64,")
    # the 28x28 view is decoded and shown, not a broken image
    assert page.locator("#seen").evaluate("img => img.complete && img.naturalWidth") == 28
    target = REPO / "docs" if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / "web_demo.png"))
    assert problems == []


def test_a_finger_can_draw(browser, server):
    """Touch input (a phone): pointer events draw, the page does not scroll instead."""
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  has_touch=True, is_mobile=True)
    tab = context.new_page()
    tab.goto(server)
    box = tab.locator("#pad").bounding_box()
    x = box["x"] + box["width"] / 2
    ys = [box["y"] + box["height"] * (0.85 - 0.035 * step) for step in range(21)]  # upwards
    touch = context.new_cdp_session(tab)  # Playwright's touchscreen only taps
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                            "touchPoints": [{"x": x, "y": ys[0]}]})
    for y in ys[1:]:
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                                "touchPoints": [{"x": x, "y": y}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert shown_answer(tab) == "1"
    assert tab.evaluate("window.scrollY") == 0
    context.close()


def test_clear_resets_the_prediction(page, problems):
    draw(page, SEVEN)
    shown_answer(page)
    page.click("#clear")
    assert page.locator("#digit").text_content() == "?"
    assert page.locator("#seen").get_attribute("src") is None
    blank = page.locator("#pad").evaluate(
        "pad => pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data"
        ".every(value => value === 255)")
    assert blank
    assert problems == []


def test_uploaded_photo_gets_the_api_answer(page, problems, server):
    digits, _ = mnist_test_digits(1, seed=3)
    photo = paper_photo(digits[0], seed=3)
    expected = requests.post(server + "api/predict", data=photo, timeout=60).json()
    page.set_input_files("#file", files=[{"name": "photo.jpg", "mimeType": "image/jpeg",
                                          "buffer": photo}])
    assert shown_answer(page) == str(expected["digit"])
    assert page.locator("#status").text_content() == "Uploaded photo.jpg."
    assert page.locator("#seen").get_attribute("src").endswith(expected["image"])
    assert problems == []


def test_an_upload_that_is_not_a_digit_shows_the_server_error(page):
    page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "image/png",
                                          "buffer": b"not a picture"}])
    page.wait_for_selector("#status.error", timeout=ANSWER_TIMEOUT_MS)
    assert "not an image" in page.locator("#status").text_content()
    assert page.locator("#digit").text_content() == "?"
