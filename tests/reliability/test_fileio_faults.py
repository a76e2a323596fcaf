"""The atomic writer: never follows links, a full disk names the file and keeps the old one."""
import errno
import os

import pytest

from cicy4lib import fileio
from cicy4lib.errors import OutputError


def test_write_replaces_a_link_never_writes_through_it(tmp_path):
    (tmp_path / "target").write_text("precious")
    os.symlink(tmp_path / "target", tmp_path / "model.json")
    fileio.atomic_write_text("new", tmp_path / "model.json")
    assert (tmp_path / "target").read_text() == "precious"
    assert (tmp_path / "model.json").read_text() == "new" and not (tmp_path / "model.json").is_symlink()


def test_open_no_follow_refuses_links_and_devices(tmp_path):
    (tmp_path / "target").write_text("precious")
    os.symlink(tmp_path / "target", tmp_path / "train.lock")
    with pytest.raises(OutputError, match="symbolic link"):
        fileio.open_no_follow(tmp_path / "train.lock")
    assert (tmp_path / "target").read_text() == "precious"
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(OutputError, match="not a regular file"):
            fileio.open_no_follow(tmp_path / "fifo")


@pytest.mark.parametrize("err_no", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO])
def test_full_disk_names_the_file_and_what_was_kept(tmp_path, monkeypatch, err_no):
    path = tmp_path / "state.pt"
    path.write_bytes(b"previous checkpoint")

    def fail(fd):
        raise OSError(err_no, os.strerror(err_no))
    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OutputError) as info:
        fileio.atomic_write_bytes(b"new", path)
    message = str(info.value)
    assert str(path) in message and "previous state.pt is kept unchanged" in message and "\n" not in message
    assert info.value.errno == err_no
    assert path.read_bytes() == b"previous checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temporary file left


def test_several_files_none_replaced(tmp_path, monkeypatch):
    (tmp_path / "a").write_text("A")
    calls = []
    real = os.fsync

    def fail_second(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)
    monkeypatch.setattr(os, "fsync", fail_second)
    with pytest.raises(OutputError, match="none of the 2 files was replaced"):
        fileio.atomic_write_many([(tmp_path / "a", lambda f: f.write(b"a2")), (tmp_path / "b", lambda f: f.write(b"b"))])
    assert (tmp_path / "a").read_text() == "A" and not (tmp_path / "b").exists()


def test_atomic_open_streams_and_keeps_old_on_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with fileio.atomic_open(path) as f:
            f.write("partial")
            raise RuntimeError("stop")
    assert path.read_text() == "old"
    with fileio.atomic_open(path) as f:
        f.write("a,b\n")
    assert path.read_text() == "a,b\n"


def test_append_text_refuses_a_link(tmp_path):
    (tmp_path / "target").write_text("precious")
    os.symlink(tmp_path / "target", tmp_path / "timings.jsonl")
    with pytest.raises(OutputError):
        fileio.append_text(tmp_path / "timings.jsonl", "line\n")
    assert (tmp_path / "target").read_text() == "precious"
