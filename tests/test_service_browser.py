"""The correction flow and the Chinese page in a real browser (headless Chromium).

Draws a 7, presses "Wrong: it is 4", opens the history page and finds the
record with its correction; switches the page to 简体中文 and reads the
translated text, on the drawing page and on the history page. Screenshots go
to docs/ only with UPDATE_SCREENSHOT=1 (else to a temporary folder). Needs
what tests/test_serve_browser.py needs: Debian's chromium and playwright.
"""

import os

import pytest

from conftest import REPO
from test_serve_api import exported_model, running_server
from test_serve_browser import CHROMIUM, SEVEN, browser, draw, shown_answer  # noqa: F401

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="no chromium binary: apt-get install chromium, or set "
                         "PADDLE_MNIST_CHROMIUM to a Chrome/Chromium executable")
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_root):
    prefix = exported_model(tmp_path_factory, mnist_root)
    folder = tmp_path_factory.mktemp("service_browser")
    with running_server(prefix, folder, "--db", str(folder / "records.db")) as url:
        yield url


@pytest.fixture
def tab(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 860}, locale="en-US")
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error"
            and page.problems.append(f"console: {message.text}"))
    page.on("request", lambda request: request.url.startswith(("data:", "blob:", server))
            or page.problems.append(f"outside request: {request.url}"))
    yield page
    context.close()


def screenshot(page, name, tmp_path):
    target = REPO / "docs" if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path
    page.screenshot(path=str(target / name))


def test_a_correction_shows_in_the_history(tab, server, tmp_path):
    tab.goto(server)
    tab.wait_for_selector("#model:has-text('Model: lenet')")
    draw(tab, SEVEN)
    assert shown_answer(tab) == "7"
    tab.wait_for_selector("#feedback:not([hidden])", timeout=TIMEOUT_MS)
    record_id = tab.locator("#feedback").get_attribute("data-record")
    assert tab.locator("#right").text_content() == "Right"
    assert tab.locator(".wrong-label").text_content() == "Wrong: it is"
    tab.click(".digit-choice[data-label='4']")
    tab.wait_for_selector("#saved[data-label='4']", timeout=TIMEOUT_MS)
    assert tab.locator("#saved").text_content() == f"Thank you: record {record_id} is kept as 4."
    screenshot(tab, "service_correction.png", tmp_path)

    tab.click("nav a[href='/history']")
    row = tab.locator(f"#records tr[data-record='{record_id}']")
    row.wait_for(timeout=TIMEOUT_MS)
    assert row.locator("td.answer").text_content() == "7"
    assert row.locator(".label").text_content() == "4 (corrected)"
    assert row.locator("img.seen-small").evaluate("img => img.complete && img.naturalWidth") == 28
    tab.check("#wrong")
    tab.wait_for_function(f"""() => [...document.querySelectorAll('#records tr[data-record]')]
        .map(r => r.dataset.record).join() === '{record_id}'""", timeout=TIMEOUT_MS)
    assert "1 records, 1 labelled" in tab.locator("#stats").text_content()
    screenshot(tab, "service_history.png", tmp_path)
    assert tab.problems == []


def test_the_page_switches_to_chinese(tab, server, tmp_path):
    tab.goto(server)
    tab.wait_for_selector("#model:has-text('Model: lenet')")
    tab.select_option("#lang", "zh-CN")
    tab.wait_for_selector("html[lang='zh-CN']", timeout=TIMEOUT_MS)
    assert tab.locator("h1").text_content() == "手写数字识别"
    assert tab.locator("#model").text_content().startswith("模型：lenet")
    draw(tab, SEVEN)
    shown_answer(tab)
    tab.wait_for_selector("#feedback:not([hidden])", timeout=TIMEOUT_MS)
    assert tab.locator("#right").text_content() == "对"
    assert tab.locator("#status").text_content() == "可以继续书写，或清除后再写一个数字。"
    assert tab.locator("#latency").text_content().startswith("用时 ")
    screenshot(tab, "service_zh.png", tmp_path)
    tab.click("nav a[href='/history']")  # the choice follows to the next page (cookie)
    tab.wait_for_selector("#records tbody tr", timeout=TIMEOUT_MS)
    assert tab.locator("html").get_attribute("lang") == "zh-CN"
    assert tab.locator("h1").text_content() == "服务识别过的内容"
    assert tab.locator("label:has(#wrong)").text_content().strip() == "只看识别错误"
    tab.select_option("#lang", "en")
    tab.wait_for_selector("html[lang='en']", timeout=TIMEOUT_MS)
    assert tab.locator("h1").text_content() == "What the service read"
    assert tab.problems == []


def test_an_error_is_shown_in_the_page_language(tab, server):
    tab.goto(server + "?lang=zh-CN")
    tab.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "image/png",
                                         "buffer": b"not a picture"}])
    tab.wait_for_selector("#status.error", timeout=TIMEOUT_MS)
    assert tab.locator("#status").text_content().startswith("该文件不是图像")
    assert "not an image" in tab.locator("#status").get_attribute("title")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, mnist_root):
    prefix = exported_model(tmp_path_factory, mnist_root)
    folder = tmp_path_factory.mktemp("service_browser_token")
    with running_server(prefix, folder, "--db", str(folder / "records.db"), "--host",
                        "0.0.0.0", "--token", "browser-test-token-0123") as url:
        yield url.replace("0.0.0.0", "127.0.0.1")


def test_a_server_with_a_token_asks_for_it_once(browser, guarded):
    context = browser.new_context(viewport={"width": 1100, "height": 860}, locale="en-US")
    page = context.new_page()
    page.goto(guarded + "history")
    assert page.locator("#signin").is_visible()  # the history needs the token
    page.goto(guarded)
    page.wait_for_selector("#model:has-text('Model: lenet')")
    draw(page, SEVEN)
    shown_answer(page)
    page.wait_for_selector("#feedback:not([hidden])", timeout=TIMEOUT_MS)
    page.click(".digit-choice[data-label='3']")
    page.wait_for_selector("#signin:not([hidden])", timeout=TIMEOUT_MS)
    page.fill("#token", "not-the-token-at-all")
    page.click("#signin button")
    page.wait_for_selector("#signin-error:has-text('not the server')", timeout=TIMEOUT_MS)
    page.fill("#token", "browser-test-token-0123")
    page.click("#signin button")
    page.wait_for_selector("#saved[data-label='3']", timeout=TIMEOUT_MS)
    assert page.locator("#signin").is_hidden()
    page.click("nav a[href='/history']")  # the cookie now opens the history
    page.wait_for_selector("#records tbody tr .label[data-label='3']", timeout=TIMEOUT_MS)
    context.close()
