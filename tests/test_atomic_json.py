"""AtomicJSONStorage: a file is always the old content or the new one, never half of each."""

import json
import threading
from pathlib import Path

import pytest
from tinydb import TinyDB

from storage.atomic_json import AtomicJSONStorage


class Unserialisable:
    """json.dumps cannot write this: a write that fails half-way through building the file."""


def leftovers(directory: Path) -> list[Path]:
    return [path for path in directory.iterdir() if path.name != "db.json"]


def test_a_missing_file_reads_as_empty(tmp_path: Path) -> None:
    assert AtomicJSONStorage(tmp_path / "none" / "db.json").read() is None


def test_a_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    storage.write({"record": {"1": {"name": "ancien"}}})
    storage.write({"record": {"1": {"name": "nouveau é"}}})
    assert json.loads((tmp_path / "db.json").read_text()) == {"record": {"1": {"name": "nouveau é"}}}
    assert storage.read() == {"record": {"1": {"name": "nouveau é"}}}
    assert leftovers(tmp_path) == []


def test_a_write_failing_half_way_keeps_the_old_content_and_no_temporary_file(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json", fsync=False)
    storage.write({"record": {"1": {"name": "ancien"}}})
    with pytest.raises(TypeError):
        storage.write({"record": {"1": {"name": "nouveau", "broken": Unserialisable()}}})
    assert json.loads((tmp_path / "db.json").read_text()) == {"record": {"1": {"name": "ancien"}}}
    assert leftovers(tmp_path) == []


def test_a_reader_while_writes_go_on_always_sees_a_whole_file(tmp_path: Path) -> None:
    """A second thread keeps reading while large documents are written over and over."""
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path, fsync=False)
    storage.write({"record": {"1": {"n": -1}}})
    done, seen = threading.Event(), []

    def read_until_done() -> None:
        while not done.is_set():
            seen.append(json.loads(path.read_text())["record"]["1"]["n"])

    reader = threading.Thread(target=read_until_done)
    reader.start()
    try:
        for n in range(200):
            storage.write({"record": {"1": {"n": n, "padding": "x" * 20_000}}})
    finally:
        done.set()
        reader.join()
    assert seen and all(-1 <= n < 200 for n in seen)
    assert leftovers(tmp_path) == []


def test_tinydb_on_it_round_trips_documents(tmp_path: Path) -> None:
    with TinyDB(tmp_path / "db.json", storage=AtomicJSONStorage, fsync=False) as database:
        database.table("record").insert({"value": "un"})
    with TinyDB(tmp_path / "db.json", storage=AtomicJSONStorage, fsync=False) as database:
        assert database.table("record").all() == [{"value": "un"}]
    assert leftovers(tmp_path) == []
