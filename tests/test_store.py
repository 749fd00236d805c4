"""The record database on its own: migrations, records, labels, listings, statistics.

Runs against a real SQLite file and a real PostgreSQL server (a fresh database
per test, see tests/pg.py); no model and no paddle are needed.
"""

import threading
from datetime import timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from paddle_mnist.errors import StoreError
from paddle_mnist.store import DigitImage, Recognition, migrate, open_store
from paddle_mnist.store.schema import Base
from pg import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "records" / "records.db")
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture
def store(db_url):
    store = open_store(db_url)
    yield store
    store.close()


def digit(result="7", version="v1", png=b"\x89PNG fake"):
    return Recognition(kind="digit", model_name="lenet", model_version=version, result=result,
                       probabilities=[0.1] * 10, latency_ms=3.5, images=[DigitImage(png)])


def number(result="4071"):
    return Recognition(kind="number", model_name="lenet", model_version="v1", result=result,
                       probabilities=[[0.1] * 10 for _ in result], latency_ms=9.0,
                       images=[DigitImage(bytes([i]), (10 * i, 0, 10 * i + 9, 20))
                               for i in range(len(result))])


def test_migrations_build_exactly_the_declared_schema(store):
    """From an empty database, Alembic's tables equal schema.py's (no drift either way)."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == migrate.head_revision()
    assert {"records", "record_images", "alembic_version"} <= set(inspect(store.engine)
                                                                     .get_table_names())


def test_reopening_a_current_database_changes_nothing(db_url):
    first = open_store(db_url)
    record_id = first.add(digit())
    first.close()
    before, after = migrate.upgrade(open_store(db_url).engine)
    assert before == after == migrate.head_revision()
    assert open_store(db_url).get(record_id)["result"] == "7"


def test_a_record_keeps_what_the_model_saw(store):
    record_id = store.add(digit(png=b"\x89PNG seen"))
    record = store.get(record_id)
    assert record["kind"] == "digit" and record["result"] == "7"
    assert record["model"] == {"name": "lenet", "version": "v1"}
    assert record["probabilities"] == [0.1] * 10 and record["latency_ms"] == 3.5
    assert record["images"] == [{"png": b"\x89PNG seen", "box": None}]
    assert record["label"] is None and record["wrong"] is None and not record["has_original"]
    assert record["created_at"].tzinfo == timezone.utc


def test_a_number_keeps_each_digit_with_its_box(store):
    record = store.get(store.add(number("4071")))
    assert record["kind"] == "number" and record["result"] == "4071"
    assert [image["box"] for image in record["images"]] == [
        [0, 0, 9, 20], [10, 0, 19, 20], [20, 0, 29, 20], [30, 0, 39, 20]]
    assert [image["png"] for image in record["images"]] == [b"\x00", b"\x01", b"\x02", b"\x03"]


def test_relabelling_replaces_the_label_and_never_duplicates(store):
    record_id = store.add(digit("7"))
    first = store.label(record_id, "4")
    assert first["label"] == "4" and first["wrong"] is True
    second = store.label(record_id, "7")
    assert second["label"] == "7" and second["wrong"] is False
    assert second["labelled_at"] >= first["labelled_at"]
    assert store.stats("v1")["records"] == 1 and store.stats("v1")["labelled"] == 1
    assert store.label(record_id + 1000, "7") is None


def test_sql_looking_text_is_stored_as_text(store):
    nasty = "4'); DROP TABLE records; --"
    record_id = store.add(digit(result=nasty))
    assert store.label(record_id, nasty)["label"] == nasty
    assert store.get(record_id)["result"] == nasty
    assert "records" in inspect(store.engine).get_table_names()


def test_listing_filters_and_pages_newest_first(store):
    ids = [store.add(digit(str(i % 10))) for i in range(25)]
    store.label(ids[3], "3")   # confirmed
    store.label(ids[5], "0")   # corrected
    store.label(ids[7], "1")   # corrected
    assert [r["id"] for r in store.list(limit=5)] == ids[::-1][:5]
    assert [r["id"] for r in store.list(limit=5, before=ids[10])] == ids[5:10][::-1]
    assert [r["id"] for r in store.list(labelled=True)] == [ids[7], ids[5], ids[3]]
    assert len(store.list(labelled=False, limit=100)) == 22
    assert [r["id"] for r in store.list(wrong=True)] == [ids[7], ids[5]]
    assert [r["id"] for r in store.list(wrong=False)] == [ids[3]]
    assert len(store.list(limit=10**6)) == 25  # capped at MAX_LIST, all 25 fit


def test_stats_count_the_live_model_per_class(store):
    for result, label in (("7", "7"), ("7", "1"), ("1", "1"), ("3", None)):
        record_id = store.add(digit(result))
        if label:
            store.label(record_id, label)
    store.label(store.add(digit("2", version="old")), "2")  # another model version
    store.label(store.add(number("12")), "12")
    stats = store.stats("v1")
    assert (stats["records"], stats["labelled"], stats["wrong"]) == (6, 5, 1)
    live = stats["live_model"]
    assert (live["labelled"], live["correct"], live["accuracy"]) == (4, 3, 0.75)
    assert live["per_class"] == {"1": {"labelled": 2, "correct": 1, "accuracy": 0.5},
                                 "7": {"labelled": 1, "correct": 1, "accuracy": 1.0}}


def test_labelled_records_are_read_oldest_first(store):
    ids = [store.add(digit()) for _ in range(7)]
    for record_id in ids[::2]:
        store.label(record_id, "7")
    assert [r["id"] for r in store.labelled_records(batch=2)] == ids[::2]


def test_concurrent_first_starts_on_postgresql_take_turns():
    """Four servers starting at once on one empty database: the advisory lock
    lets one migrate while the others wait; all of them end up current."""
    with fresh_database() as url:
        errors, barrier = [], threading.Barrier(4)

        def start():
            try:
                barrier.wait()
                open_store(url).close()
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=start) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).all() \
                == [(migrate.head_revision(),)]
        engine.dispose()


@pytest.mark.parametrize("value, reason", [
    ("mysql://root@localhost/x", "is not a database the service keeps records in"),
    ("sqlite://", "is not a database the service keeps records in"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot upgrade the schema of the record database"),
])
def test_unusable_databases_are_one_line_errors(value, reason):
    with pytest.raises(StoreError) as caught:
        open_store(value)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_a_password_in_the_url_is_never_shown():
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://app:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(caught.value) and "***" in str(caught.value)
