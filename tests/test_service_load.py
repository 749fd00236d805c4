"""The service under load, and while its database fails: real server, real databases.

Load: 8 concurrent clients x 200 requests, three predictions to one label,
against a SQLite file and against PostgreSQL: every request is answered,
nothing is a 5xx, the records are exactly the answered predictions, and every
label is stored. Faults: in the middle of a run the SQLite file becomes
read-only, or the PostgreSQL server stops; meanwhile the API answers 503 JSON
(never a 200 whose record was not kept, never a crash), and when the database
is back the same server process answers and records correctly again.
"""

import contextlib
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

from pg import fresh_database, private_cluster
from service_helpers import canvas_drawings, json_error, label, predict
from test_serve_api import exported_model, running_server

CLIENTS, REQUESTS = 8, 200


@pytest.fixture(scope="module")
def model_prefix(tmp_path_factory, mnist_root):
    return exported_model(tmp_path_factory, mnist_root)


@pytest.fixture(scope="module")
def drawings(mnist_root):
    return canvas_drawings(16, seed=33)


def client_run(url, drawings, client, count, stop=None):
    """`count` requests (three predictions, then a label of the last answer);
    returns [(kind, status, body, seconds, record id, label sent)]."""
    files, truths = drawings
    done, last = [], None
    session = requests.Session()
    for step in range(count):
        if stop is not None and stop.is_set():
            break
        started = time.perf_counter()
        if step % 4 == 3 and last is not None:
            record_id, truth = last
            response = label(session_url(session, url), record_id, truth)
            kind, sent = "label", (record_id, truth)
        else:
            which = (client * 7 + step) % len(files)
            response = session.post(url + "api/predict", data=files[which], timeout=60,
                                    headers={"Content-Type": "image/png"})
            kind, sent = "predict", None
            if response.status_code == 200:
                last = (response.json()["id"], truths[which])
        body = response.json()
        done.append((kind, response.status_code, body, time.perf_counter() - started,
                     body.get("id"), sent))
    return done


def session_url(session, url):
    return url  # labels go through service_helpers.label (own connection each)


def run_clients(url, drawings, count=REQUESTS, stop=None):
    with ThreadPoolExecutor(CLIENTS) as pool:
        runs = pool.map(lambda c: client_run(url, drawings, c, count, stop), range(CLIENTS))
        return [result for run in runs for result in run]


def all_records(url):
    records, page = {}, "api/records?limit=100"
    while page:
        answer = requests.get(url + page.lstrip("/"), timeout=60).json()
        records.update((r["id"], r) for r in answer["records"])
        page = answer["next"]
    return records


def report_latency(name, results):
    seconds = np.array([r[3] for r in results]) * 1000
    print(f"{name}: {len(results)} requests, p50 {np.percentile(seconds, 50):.1f} ms, "
          f"p99 {np.percentile(seconds, 99):.1f} ms")


def check_nothing_lost(url, results):
    """Each 200 prediction's record holds its answer; each 200 label is stored."""
    records = all_records(url)
    answered = [r for r in results if r[0] == "predict" and r[1] == 200]
    for _, _, body, _, record_id, _ in answered:
        assert records[record_id]["result"] == body["label"]
        assert records[record_id]["images"][0]["png"] == body["image"]
    labelled = {}
    for kind, status, _, _, _, sent in results:
        if kind == "label" and status == 200:
            labelled[sent[0]] = sent[1]
    assert all(records[i]["label"] == truth for i, truth in labelled.items())
    return records, answered


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_clients_mixing_predictions_and_labels(backend, model_prefix, drawings,
                                                     tmp_path):
    with contextlib.ExitStack() as stack:
        db = str(tmp_path / "records.db") if backend == "sqlite" else \
            stack.enter_context(fresh_database())
        url = stack.enter_context(running_server(model_prefix, tmp_path, "--db", db))
        results = run_clients(url, drawings)
        report_latency(f"load on {backend}", results)
        assert len(results) == CLIENTS * REQUESTS
        assert [r for r in results if r[1] != 200] == []
        records, answered = check_nothing_lost(url, results)
        assert len(records) == len(answered) == CLIENTS * REQUESTS * 3 // 4
        stats = requests.get(url + "api/stats", timeout=60).json()
        assert stats["records"] == len(answered)
        assert stats["labelled"] == CLIENTS * REQUESTS // 4


def run_through_outage(url, drawings, break_database, repair_database):
    """Clients run while the database is broken for ~2 s, then repaired."""
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        load = pool.submit(run_clients, url, drawings, 10**6, stop)
        time.sleep(2)
        break_database()
        time.sleep(2)
        repair_database()
        time.sleep(3)
        stop.set()
        results = load.result()
    statuses = {r[1] for r in results}
    assert statuses <= {200, 503}, statuses
    failed = [r for r in results if r[1] == 503]
    assert failed, "the outage produced no 503: the database was never unreachable"
    for _, _, body, _, _, _ in failed:
        assert body["code"] == "database_unavailable" and body["status"] == 503
    assert results[-1][1] == 200 or any(r[1] == 200 for r in results[-CLIENTS * 4:])
    return results, failed


def chattr(flag, paths):
    return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, text=True)


def test_sqlite_file_made_read_only_mid_run(model_prefix, drawings, tmp_path):
    """The database file (and its WAL) made read-only under the running server.

    chmod binds neither root nor a file already open for writing, so the test
    sets the immutable attribute (chattr +i), which makes every write to the
    files fail at once, even through open descriptors and for root.
    """
    if shutil.which("chattr") is None:
        pytest.skip("chattr (e2fsprogs) is needed to make the database read-only under root")
    db = tmp_path / "records.db"
    with running_server(model_prefix, tmp_path, "--db", str(db)) as url:
        assert predict(url, drawings[0][0]).status_code == 200
        files = [db, Path(f"{db}-wal")]
        probe = chattr("+i", files)
        if probe.returncode != 0:
            pytest.skip(f"this file system does not take chattr +i: {probe.stderr.strip()}")
        chattr("-i", files)
        try:
            results, failed = run_through_outage(url, drawings, lambda: chattr("+i", files),
                                                 lambda: chattr("-i", files))
        finally:
            chattr("-i", files)
        report_latency("read-only run", results)
        records, answered = check_nothing_lost(url, results)
        # every stored record was answered 200: a failed write left nothing behind
        assert len(records) == len(answered) + 1
        after = predict(url, drawings[0][1])
        assert after.status_code == 200
        assert requests.get(f"{url}api/records/{after.json()['id']}", timeout=30).ok


def test_postgresql_stopped_mid_run(model_prefix, drawings, tmp_path):
    """The PostgreSQL server stopped and started again under the running service.

    Other people use the machine's shared server on 5432, so this test starts
    a private throw-away server (initdb + pg_ctl, see tests/pg.py) and stops
    that one; the service talks to it exactly as to any other.
    """
    with private_cluster() as cluster, \
            running_server(model_prefix, tmp_path, "--db", cluster.url) as url:
        assert predict(url, drawings[0][0]).status_code == 200
        results, failed = run_through_outage(url, drawings, cluster.stop, cluster.start)
        report_latency("postgresql stopped", results)
        records, answered = check_nothing_lost(url, results)
        # a commit PostgreSQL made just as it went down can reach the database
        # but not its answer (a 503); never the other way round
        assert len(answered) + 1 <= len(records) <= len(answered) + 1 + len(failed)
        assert json_error(requests.get(url + "api/nothing", timeout=30), 404)
