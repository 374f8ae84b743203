"""The data directory: checked when opened, private, and any key the clouds accept stored."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from portside.local import LocalCloud, LocalError
from tests.local.e2e_app import app


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def filled(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    cloud = LocalCloud(app, data)
    for i in range(300):
        cloud.send("note-jobs", {"id": f"n{i}", "text": "x" * 500})
    cloud.store.close()
    return data / "portside.db"


def test_a_truncated_database_is_a_one_line_error_naming_the_file_and_what_to_do(tmp_path: Path) -> None:
    db = filled(tmp_path)
    os.truncate(db, db.stat().st_size // 2)
    with pytest.raises(LocalError) as e:
        LocalCloud(app, db.parent)
    message = str(e.value)
    assert "\n" not in message and str(db) in message and "damaged" in message
    assert "move it aside" in message and "--data-dir" in message


def test_a_zero_byte_database_is_not_started_empty(tmp_path: Path) -> None:
    db = filled(tmp_path)
    os.truncate(db, 0)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with pytest.raises(LocalError, match="is empty .0 bytes.") as e:
        LocalCloud(app, db.parent)
    assert str(db) in str(e.value) and "\n" not in str(e.value)
    assert db.stat().st_size == 0  # left as found, for the user to restore


def test_files_are_private_to_the_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalCloud(app, data, workers=1).start(http=False) as cloud:
        cloud.upload("inbox", "in/a.txt", b"hello")
        cloud.wait_until_idle()
        files = [data / n for n in ("portside.db", "portside.db-wal", "portside.db-shm", "secret", "runtime.json",
                                    "runtime.lock")]
        files += [data / "buckets" / "inbox" / "in" / "a.txt", data / "buckets" / "outbox" / "a.txt"]
        folders = [data, data / "buckets", data / "buckets" / "inbox", data / "buckets" / "inbox" / "in"]
        assert {str(f): oct(mode(f)) for f in files} == {str(f): "0o600" for f in files}
        assert {str(f): oct(mode(f)) for f in folders} == {str(f): "0o700" for f in folders}


def test_a_data_dir_made_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    LocalCloud(app, data).store.close()
    for path in (data, data / "portside.db", data / "secret"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    LocalCloud(app, data).store.close()
    assert (mode(data), mode(data / "portside.db"), mode(data / "secret")) == (0o700, 0o600, 0o600)


def test_a_key_with_a_segment_longer_than_a_file_name_is_stored(tmp_path: Path) -> None:
    cloud = LocalCloud(app, tmp_path / "data")
    bucket = cloud.bucket("outbox")
    key = "deep/" + "é" * 300 + "/x.txt"  # 600 bytes in one segment: more than any file system's name
    bucket.put(key, b"long", "text/plain", {})
    assert bucket.get(key) == b"long" and list(bucket.list("deep/")) == [key] and bucket.exists(key)
    bucket.delete(key)
    assert not bucket.exists(key)


def test_a_key_over_1024_bytes_is_refused_by_the_port_contract(tmp_path: Path) -> None:
    bucket = LocalCloud(app, tmp_path / "data").bucket("outbox")
    with pytest.raises(ValueError, match="1025 bytes.*1024"):
        bucket.put("k" * 1025, b"x", None, {})
    bucket.put("k" * 1024, b"x", None, {})


def test_a_database_of_another_program_is_refused(tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "portside.db")
    other.execute("CREATE TABLE deliveries(x)")
    other.commit()
    other.close()
    with pytest.raises(LocalError, match="portside.db"):
        LocalCloud(app, tmp_path).send("note-jobs", {"id": "x"})
