"""The model registry on a real SQLite file and a real PostgreSQL database: one
current version at a time, promotion and rollback in one transaction, files
checked by their sha256, one update at a time."""

import hashlib
import threading

import pytest

from paddle_mnist.errors import StoreError, UpdateRunning
from paddle_mnist.store import open_store
from paddle_mnist.store.registry import Registry, update_lock
from pg import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = open_store(tmp_path / "records.db")
        yield opened, str(tmp_path / "records.db")
        opened.close()
        return
    with fresh_database() as url:
        opened = open_store(url)
        yield opened, url
        opened.close()


def export_of(name):
    """A description and files as an export has them (contents do not matter here)."""
    files = {".json": f"{name} program".encode(), ".pdiparams": f"{name} weights".encode()}
    spec = {"model": "lenet", "input_size": 28, "mean": 127.5, "std": 127.5,
            "class_names": [str(d) for d in range(10)],
            "files": {suffix: hashlib.sha256(data).hexdigest() for suffix, data in files.items()}}
    version = hashlib.sha256(name.encode()).hexdigest()
    return dict(spec=spec, files=files, version=version, model_name="lenet")


def test_promotion_and_rollback_keep_exactly_one_current_version(store):
    registry = Registry(store[0])
    assert registry.current() is None
    first = registry.add(**export_of("a"), promote=True)
    second = registry.add(**export_of("b"))
    assert [v.status for v in registry.versions()] == ["candidate", "current"]
    assert registry.promote(second).status == "current"
    assert {v.id: v.status for v in registry.versions()} == {first: "retired", second: "current"}
    retired, current = registry.rollback()
    assert (retired.id, current.id) == (second, first) and registry.current_id() == first
    assert registry.files(first) == export_of("a")["files"]


def test_a_version_with_a_bad_file_is_never_registered_or_made_current(store):
    registry = Registry(store[0])
    broken = export_of("a")
    broken["files"][".pdiparams"] = b"not the weights the description lists"
    with pytest.raises(StoreError, match="its .pdiparams file does not match its sha256"):
        registry.add(**broken, promote=True)
    assert registry.versions() == []
    registry.add(**export_of("b"))
    with pytest.raises(StoreError, match="registered already"):
        registry.add(**export_of("b"))


def test_rollback_and_promote_say_what_is_wrong(store):
    registry = Registry(store[0])
    with pytest.raises(StoreError, match="no model version is current"):
        registry.rollback()
    registry.add(**export_of("a"), promote=True)
    with pytest.raises(StoreError, match="there is no earlier version to roll back to"):
        registry.rollback()
    with pytest.raises(StoreError, match="model version 99 does not exist"):
        registry.promote(99)


def test_racing_promotions_leave_one_current_version(store):
    registry = Registry(store[0])
    ids = [registry.add(**export_of(name)) for name in "abcdef"]
    errors = []

    def promote(version_id):
        try:
            registry.promote(version_id)
        except StoreError as err:  # the loser of a race may be refused; never two current
            errors.append(err)

    threads = [threading.Thread(target=promote, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [v.status for v in registry.versions()].count("current") == 1


def test_a_second_update_at_once_is_refused_in_one_line(store):
    opened, url = store
    with update_lock(opened, url):
        other = open_store(url)
        try:
            with pytest.raises(UpdateRunning, match="another model update is running on"):
                with update_lock(other, url):
                    pass
        finally:
            other.close()
    with update_lock(opened, url):  # released: the next one goes ahead
        pass
