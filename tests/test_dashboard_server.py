"""The real `visualdl` server and its own front end, on a short run and a small sweep.

The server's HTTP API lists every part the dashboard logged; then headless
Chromium opens VisualDL's front end (it ships in the pip package) and takes
a screenshot of each tab. The screenshots go to docs/visualdl_*.png only with
UPDATE_SCREENSHOT=1 (otherwise to a temporary folder). VisualDL's page asks
hm.baidu.com for an analytics script: every request that is not to the local
server is blocked, and the page must work without them.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from conftest import REPO, run_tool
from test_training import _free_port

CHROMIUM = os.environ.get("PADDLE_MNIST_CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
RATES = (0.001, 0.003)


@pytest.fixture(scope="module")
def logs(tmp_path_factory, mnist_root):
    """logs/: 2 epochs of 100 steps; sweep/logs/: 2 points of 60 steps."""
    folder = tmp_path_factory.mktemp("visualdl_server")
    run_tool("train.py", "-c", "lenet", "-o", "train.epochs=2",
             "-o", "train.max_steps_per_epoch=100", cwd=folder, data_root=mnist_root)
    run_tool("sweep.py", "-c", "lenet", "--grid",
             f"optimizer.learning_rate={','.join(map(str, RATES))}", "-o", "train.epochs=1",
             "-o", "train.max_steps_per_epoch=60", "--out", "sweep", cwd=folder,
             data_root=mnist_root)
    meta = json.loads((folder / "output" / "mnist.meta.json").read_text())
    return folder, f"logs/{meta['state']['run_name']}", meta


def get(base, path, **query):
    url = f"{base}/app/api/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    if response.headers.get_content_type() != "application/json":
        return body
    answer = json.loads(body)
    assert answer["status"] == 0, answer
    return answer["data"]


@pytest.fixture(scope="module")
def server(logs):
    folder = logs[0]
    port = _free_port()
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "visualdl"), "--logdir", "logs",
         "sweep/logs", "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if len(get(base, "runs")) == 3:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "visualdl server did not list 3 runs within 60 s"
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def tags_of(base, kind, run):
    data = get(base, f"{kind}/tags")
    return set(data["tags"][data["runs"].index(run)])


def test_the_api_lists_every_part_of_the_run(server, logs):
    _, run, meta = logs
    assert {"train/loss", "train/acc", "train/lr", "eval/acc", "eval/loss",
            "epoch/train_seconds", "epoch/images_per_second", "test/acc", "test/loss",
            "best/eval_acc"} == tags_of(server, "scalar", run)
    served = [value for _, _, value in get(server, "scalar/list", run=run, tag="eval/acc")]
    assert served == pytest.approx([r["eval_acc"] for r in meta["state"]["history"]], abs=1e-6)
    assert tags_of(server, "image", run) == {"train/samples", "eval/mistakes",
                                             "eval/confusion_matrix"}
    digits = {f"digit_{d}" for d in range(10)}
    assert tags_of(server, "pr-curve", run) == {f"pr/{d}" for d in digits}
    assert tags_of(server, "roc-curve", run) == {f"roc/{d}" for d in digits}
    assert len(get(server, "pr-curve/list", run=run, tag="pr/digit_7")) == 2  # 2 evaluations
    assert "weights/fc.2.weight" in tags_of(server, "histogram", run)
    embedded = {e["name"]: e["shape"] for e in get(server, "embedding/list")}
    assert embedded[f"{run}/test/penultimate"] == [2000, 84]
    metadata = get(server, "embedding/metadata", name=f"{run}/test/penultimate").decode()
    assert metadata.splitlines()[0] == "label\tpredicted" and len(metadata.splitlines()) == 2001
    [graph_run] = [r for r in get(server, "graph_runs") if r.endswith(run)]
    graph = get(server, "graph/graph", run=graph_run, expand_all="true", refresh="true")
    assert any(node["type"] == "conv2d" for node in graph["nodes"])


def test_the_api_has_one_hyper_parameter_row_per_run_and_sweep_point(server, logs):
    _, run, meta = logs
    rows = {row["name"]: row for row in get(server, "hparams/list")}
    assert len(rows) == 3 and run in rows
    points = [row for name, row in rows.items() if name.startswith("sweep/logs/")]
    assert sorted(row["hparams"]["learning_rate"] for row in points) == list(RATES)
    for row in rows.values():
        assert row["hparams"]["model"] == "lenet"
        assert set(row["metrics"]) == {"test/acc", "test/loss", "best/eval_acc",
                                       "epoch/train_seconds"}
        assert 0.5 < row["metrics"]["test/acc"] <= 1
    assert rows[run]["metrics"]["test/acc"] == pytest.approx(meta["test"]["acc"], abs=1e-6)


# --- VisualDL's front end in headless Chromium --------------------------------

@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM:
        pytest.skip("no chromium binary: apt-get install chromium, or set "
                    "PADDLE_MNIST_CHROMIUM to a Chrome/Chromium executable")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser, server):
    """A page of VisualDL's front end; `tab.blocked` lists the outside URLs it asked for."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.blocked, page.errors = [], []
    page.on("pageerror", lambda error: page.errors.append(str(error)))

    def local_only(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.open = lambda path: page.goto(f"{server}/app/{path}")
    yield page
    assert page.errors == []
    assert {urllib.parse.urlparse(url).hostname for url in page.blocked} <= {"hm.baidu.com"}
    context.close()


def screenshot(page, name, tmp_path):
    target = REPO / "docs" if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path
    page.wait_for_timeout(2500)  # the charts animate in
    path = target / f"visualdl_{name}.png"
    page.screenshot(path=str(path))
    return path


def only_the_run(page):
    """Untick the sweep's runs in the run list, so a tab shows the one run's cards."""
    for box in page.locator("aside label .run-item", has_text="sweep/logs/").all():
        box.click()
        page.wait_for_timeout(300)


def open_groups(page, *names):
    """Click the headers of these tag groups (VisualDL opens only the first one)."""
    for name in names:
        page.locator("h3", has_text=name).first.click()
        page.wait_for_timeout(300)


def charts(page, count):
    """Wait until `count` charts are drawn (their titles are drawn in the canvas too)."""
    page.wait_for_function(f"document.querySelectorAll('canvas').length >= {count}")


def test_scalars_tab(tab, tmp_path):
    tab.set_viewport_size({"width": 1400, "height": 1500})
    tab.open("scalar")
    tab.wait_for_selector("h3:has-text('train')")
    groups = tab.locator("h3").all_inner_texts()
    assert groups == ["best", "epoch", "eval", "test", "train"]
    open_groups(tab, "best", "train", "eval")  # best starts open: close it
    charts(tab, 5)  # train/loss, acc, lr; eval/acc, loss
    screenshot(tab, "scalars", tmp_path)


def test_images_tab(tab, tmp_path):
    tab.set_viewport_size({"width": 1400, "height": 1150})
    tab.open("sample/image")
    tab.wait_for_selector("text=eval/confusion_matrix")
    only_the_run(tab)
    open_groups(tab, "train")
    tab.wait_for_selector("text=train/samples")
    tab.wait_for_function("[...document.images].filter(i => i.complete && i.naturalWidth > 300)"
                          ".length == 3")  # samples, mistakes, confusion matrix
    screenshot(tab, "images", tmp_path)


def test_pr_curve_tab(tab, tmp_path):
    tab.open("pr-curve")
    tab.wait_for_selector("h3:has-text('pr')")
    charts(tab, 4)  # the first rows of the 10 digits (the rest load when scrolled to)
    screenshot(tab, "pr_curves", tmp_path)


def test_high_dimensional_tab(tab, tmp_path):
    tab.open("high-dimensional")
    tab.wait_for_selector("text=Points: 2000")
    tab.get_by_text("UMAP", exact=True).click()
    tab.get_by_text("2D", exact=True).click()
    tab.wait_for_timeout(15000)  # UMAP runs in the page, with no sign of being done
    tab.get_by_text("No color map", exact=True).first.click()
    tab.locator("[title=label]:visible").last.click()  # a colour for each true digit
    screenshot(tab, "high_dimensional", tmp_path)


def test_hyper_parameters_tab(tab, tmp_path):
    tab.set_viewport_size({"width": 2300, "height": 560})
    tab.open("hyper-parameter")
    tab.wait_for_selector("text=Trial ID")
    for rate in RATES:
        tab.wait_for_selector(f"text={rate}")
    assert tab.get_by_text("sweep/logs/learning_rate=", exact=False).count() == 2
    screenshot(tab, "hyper_parameters", tmp_path)


def test_histogram_and_graph_tabs(tab, tmp_path):
    tab.open("histogram")
    tab.wait_for_selector("h3:has-text('weights')")
    charts(tab, 4)
    screenshot(tab, "histograms", tmp_path)
    tab.open("graph/dynamic_graph")
    tab.wait_for_selector("iframe")
    [netron] = [frame for frame in tab.frames if "netron" in frame.url]  # VisualDL embeds it
    netron.wait_for_selector("g.node >> text=FastLeNet")
    netron.get_by_text("+", exact=True).first.click()  # open the network's layer
    netron.wait_for_selector("g.node >> text=conv2d")
    screenshot(tab, "graph", tmp_path)
