"""The recognition service's records API against a real server, model and database.

tools/serve.py runs in its own process (as in test_serve_api) with records in
a real SQLite file or in a fresh database on the real PostgreSQL server
(tests/pg.py); requests are real HTTP.
"""

import base64
import hashlib
import json
import sqlite3

import pytest
import requests

from conftest import run_tool
from paddle_mnist.exported import ExportSpec
from pg import fresh_database
from service_helpers import canvas_drawings, json_error, label, predict
from test_serve_api import exported_model, running_server

TOKEN = "a-long-enough-test-token"


@pytest.fixture(scope="module")
def model_prefix(tmp_path_factory, mnist_root):
    return exported_model(tmp_path_factory, mnist_root)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, model_prefix, tmp_path_factory):
    """(base URL, --db value) of a running server with an empty database."""
    folder = tmp_path_factory.mktemp(f"service_{request.param}")
    if request.param == "sqlite":
        db = str(folder / "records.db")
        with running_server(model_prefix, folder, "--db", db) as url:
            yield url, db
    else:
        with fresh_database() as db, running_server(model_prefix, folder, "--db", db) as url:
            yield url, db


@pytest.fixture(scope="module")
def drawings(mnist_root):
    return canvas_drawings(6, seed=21)


def expected_version(prefix):
    files = json.loads((prefix.parent / (prefix.name + ".preprocess.json")).read_text())["files"]
    listing = "".join(f"{suffix} {files[suffix]}\n" for suffix in sorted(files))
    return hashlib.sha256(listing.encode()).hexdigest()


def test_each_answer_is_a_record_of_what_the_model_saw(service, drawings, model_prefix):
    url, _ = service
    answer = predict(url, drawings[0][0]).json()
    record = requests.get(f"{url}api/records/{answer['id']}", timeout=30).json()
    assert record["kind"] == "digit" and record["result"] == answer["label"]
    assert record["probabilities"] == pytest.approx(answer["probabilities"])
    assert record["images"] == [{"png": answer["image"], "box": None}]
    assert record["model"] == {"name": "lenet", "version": expected_version(model_prefix)}
    assert record["label"] is None and record["has_original"] is False
    assert record["created_at"].endswith("Z") and record["latency_ms"] > 0
    assert requests.get(url + "api/health", timeout=30).json()["version"] == \
        expected_version(model_prefix)


def test_live_previews_keep_no_record(service, drawings):
    url, _ = service
    before = requests.get(url + "api/stats", timeout=30).json()["records"]
    answer = predict(url, drawings[0][0], preview=1).json()
    assert "id" not in answer and answer["digit"] in range(10)
    assert requests.get(url + "api/stats", timeout=30).json()["records"] == before


def test_labels_are_kept_replaced_and_counted(service, drawings):
    url, _ = service
    files, truths = drawings
    ids = [predict(url, data).json()["id"] for data in files]
    first = label(url, ids[0], "4" if truths[0] != "4" else "5")
    assert first.status_code == 200 and first.json()["wrong"] is not None
    again = label(url, ids[0], truths[0]).json()
    assert again["id"] == ids[0] and again["label"] == truths[0]
    assert again["labelled_at"] >= first.json()["labelled_at"]
    for record_id, truth in zip(ids[1:], truths[1:]):
        assert label(url, record_id, truth).status_code == 200
    records = {r["id"]: r for r in requests.get(url + "api/records", params={
        "labelled": "true", "limit": 100}, timeout=30).json()["records"]}
    assert set(ids) <= set(records) and len(records) == len(set(records))
    assert all(records[i]["label"] == t for i, t in zip(ids, truths))
    wrong = requests.get(url + "api/records", params={"wrong": "true"}, timeout=30).json()
    assert all(r["label"] != r["result"] for r in wrong["records"])
    stats = requests.get(url + "api/stats", timeout=30).json()
    live = stats["live_model"]
    assert live["labelled"] >= len(ids) and 0 <= live["accuracy"] <= 1
    assert sum(c["labelled"] for c in live["per_class"].values()) == live["labelled"]


def test_listing_is_paged_and_capped(service, drawings):
    url, _ = service
    for data in drawings[0][:3]:
        predict(url, data)
    page = requests.get(url + "api/records", params={"limit": 2}, timeout=30).json()
    assert len(page["records"]) == 2 and page["next"]
    older = requests.get(url + page["next"].lstrip("/"), timeout=30).json()
    assert older["records"][0]["id"] < page["records"][-1]["id"]
    assert requests.get(url + "api/records", params={"limit": 10**5},
                        timeout=30).json()["limit"] == 100


@pytest.mark.parametrize("value", ["x", "12", "", " 7", "٧", 7, None, ["7"],
                                   "7' OR '1'='1", "7; DROP TABLE records"])
def test_labels_that_are_not_digits_get_400(service, drawings, value):
    url, _ = service
    record_id = predict(url, drawings[0][1]).json()["id"]
    json_error(label(url, record_id, value), 400, "bad_label")
    assert requests.get(f"{url}api/records/{record_id}", timeout=30).json()["label"] is None


def test_bodies_that_are_not_a_label_get_400(service, drawings):
    url, _ = service
    record_id = predict(url, drawings[0][1]).json()["id"]
    for body, kind in ((b"7", "text/plain"), (b"{not json", "application/json"),
                       (b'["7"]', "application/json"), (b'{"lab": "7"}', "application/json")):
        response = requests.post(f"{url}api/records/{record_id}/label", data=body,
                                 headers={"Content-Type": kind}, timeout=30)
        json_error(response, 400, "bad_label")


@pytest.mark.parametrize("path", ["api/records/999999999", f"api/records/{2**70}",
                                  "api/records/999999999/label", "api/records/abc",
                                  "api/records/-1/label"])
def test_records_that_do_not_exist_get_404(service, path):
    url, _ = service
    call = requests.post if path.endswith("label") else requests.get
    json_error(call(url + path, json={"label": "7"}, timeout=30), 404)


@pytest.mark.parametrize("query", [{"labelled": "maybe"}, {"wrong": "1; DROP TABLE records"},
                                   {"limit": "-1"}, {"limit": "0"}, {"limit": "ten"},
                                   {"before": "abc"}, {"before": "1 OR 1=1"},
                                   {"before": str(2**70)}])
def test_bad_listing_parameters_get_400(service, query):
    url, _ = service
    json_error(requests.get(url + "api/records", params=query, timeout=30), 400)
    assert requests.get(url + "api/stats", timeout=30).status_code == 200  # tables intact


def test_records_from_two_servers_on_one_postgresql_database(model_prefix, drawings, tmp_path):
    """The README's two-instance set-up: both start on one empty database at
    once (the migration runs once), and each sees the other's records."""
    with fresh_database() as db, \
            running_server(model_prefix, tmp_path / "a", "--db", db) as first, \
            running_server(model_prefix, tmp_path / "b", "--db", db) as second:
        one = predict(first, drawings[0][2]).json()["id"]
        two = predict(second, drawings[0][3]).json()["id"]
        assert label(second, one, "3").status_code == 200
        assert requests.get(f"{first}api/records/{one}", timeout=30).json()["label"] == "3"
        assert requests.get(f"{first}api/records/{two}", timeout=30).status_code == 200
        assert requests.get(first + "api/stats", timeout=30).json()["records"] == 2


@pytest.fixture(scope="module")
def guarded(model_prefix, tmp_path_factory):
    """A server on all addresses, so it needs its token; it also keeps originals."""
    folder = tmp_path_factory.mktemp("guarded")
    db = folder / "records.db"
    with running_server(model_prefix, folder, "--host", "0.0.0.0", "--token", TOKEN,
                        "--db", str(db), "--keep-originals") as url:
        yield url.replace("0.0.0.0", "127.0.0.1"), db


PROTECTED = [("get", "api/records"), ("get", "api/records/1"), ("post", "api/records/1/label"),
             ("get", "api/stats")]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_protected_endpoints_need_the_token(guarded, method, path):
    url, _ = guarded
    call = getattr(requests, method)
    json_error(call(url + path, json={"label": "7"}, timeout=30), 401, "unauthorized")
    json_error(call(url + path, json={"label": "7"}, timeout=30,
                    headers={"Authorization": "Bearer wrong-token-of-some-length"}), 401)
    history = requests.get(url + "history", timeout=30)
    assert history.status_code == 401 and 'id="signin"' in history.text


def test_predictions_stay_open_and_the_token_unlocks_the_rest(guarded, drawings):
    url, db = guarded
    answer = predict(url, drawings[0][4])
    assert answer.status_code == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    record_id = answer.json()["id"]
    assert label(url, record_id, "2", headers=bearer).json()["label"] == "2"
    record = requests.get(f"{url}api/records/{record_id}", headers=bearer, timeout=30).json()
    assert record["has_original"] is True  # --keep-originals
    with sqlite3.connect(db) as connection:
        kept, = connection.execute("SELECT original FROM records WHERE id = ?",
                                   (record_id,)).fetchone()
    assert kept == drawings[0][4]
    # the pages' way in: the token once, then an HttpOnly cookie
    session = requests.Session()
    json_error(session.post(url + "api/session", json={"token": "nope"}, timeout=30), 401)
    signed_in = session.post(url + "api/session", json={"token": TOKEN}, timeout=30)
    assert signed_in.status_code == 204 and "HttpOnly" in signed_in.headers["Set-Cookie"]
    assert "SameSite=Strict" in signed_in.headers["Set-Cookie"]
    assert session.get(url + "history", timeout=30).status_code == 200
    assert session.get(url + "api/stats", timeout=30).json()["labelled"] == 1


def test_other_addresses_without_a_token_are_refused(model_prefix, tmp_path, monkeypatch):
    monkeypatch.delenv("PADDLE_MNIST_TOKEN", raising=False)
    proc = run_tool("serve.py", "--model", model_prefix, "--host", "0.0.0.0", "--port", "0",
                    cwd=tmp_path, check=False, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: --host 0.0.0.0 lets other machines read and label")
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "service").exists()


def test_the_page_follows_the_browser_language(service):
    url, _ = service
    chinese = requests.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"},
                           timeout=30)
    assert '<html lang="zh-CN">' in chinese.text and "手写数字识别" in chinese.text
    english = requests.get(url, params={"lang": "en"}, timeout=30,
                           headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english.text and "Handwritten digit recognition" in english.text
    chosen = requests.get(url, cookies={"lang": "zh-CN"}, timeout=30,
                          headers={"Accept-Language": "en-GB"})
    assert '<html lang="zh-CN">' in chosen.text


def test_error_answers_carry_a_stable_code(service):
    url, _ = service
    assert json_error(predict(url, b"not a picture"), 400)["code"] == "not_an_image"
    blank = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAWk1v8QAAAABJRU5ErkJggg==")
    assert json_error(predict(url, blank), 400)["code"] == "no_digit"
    assert json_error(requests.get(url + "api/nothing", timeout=30), 404)["code"] == "not_found"


def test_unreachable_or_unusable_databases_stop_the_start_in_one_line(model_prefix, tmp_path):
    for db, reason in (("postgresql://nobody@127.0.0.1:1/none",
                        "error: cannot upgrade the schema of the record database"),
                       (str(tmp_path), "error: cannot upgrade the schema of the record database"),
                       ("mysql://root@localhost/x", "is not a database the service keeps")):
        proc = run_tool("serve.py", "--model", model_prefix, "--db", db, "--port", "0",
                        cwd=tmp_path, check=False, timeout=120)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert reason in proc.stderr and "Traceback" not in proc.stderr


class SpecOnly:
    """Labels need only the model's classes: a predictor that is never asked."""

    spec = ExportSpec(model="lenet", input_size=28, mean=127.5, std=127.5,
                      class_names=[str(d) for d in range(10)])


def test_a_number_record_takes_a_string_of_digits(tmp_path):
    from paddle_mnist.server import create_app
    from paddle_mnist.service.models import FixedModel
    from paddle_mnist.store import DigitImage, Recognition, open_store

    store = open_store(tmp_path / "records.db")
    record_id = store.add(Recognition("number", "lenet", "v1", "4071", [[0.1] * 10] * 4, 9.0,
                                      [DigitImage(b"png", (i, 0, i + 9, 20)) for i in range(4)]))
    client = create_app(FixedModel(SpecOnly(), "v1"), store).test_client()

    def send(value):
        return client.post(f"/api/records/{record_id}/label", json={"label": value})

    for bad in ("40a1", "", "7" * 65, "４０７１", "-4071", 4071):
        response = send(bad)
        assert response.status_code == 400 and response.json["code"] == "bad_label", bad
    answer = send("4077").json
    assert answer["label"] == "4077" and answer["wrong"] is True
    assert [image["box"] for image in answer["images"]][1] == [1, 0, 10, 20]
    assert client.get("/api/stats").json["live_model"]["per_class"] == {}  # digits only
