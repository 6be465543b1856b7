"""The container tools' engine layer (logs, stats, exec, copy) against the real engine; no Qt."""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time

import pytest

from gui.engine import EngineError
from gui.engine.exec import ExecExit, ExecOutput, ExecRun
from gui.engine.files import UnsafeArchive, copy_from_container, copy_to_container, extract_archive
from gui.engine.inspect import inspect_container
from gui.engine.logs import LineDecoder, LogBatch, LogEnded, LogFollower, LogReader, older_lines, write_log
from gui.engine.stats import StatsEnded, StatsFollower, StatsSample, cpu_percent
from tests.support.waits import wait_for_log_lines, wait_until


def lines_of(items) -> list[str]:
    return [t for b in items if isinstance(b, LogBatch) for t in b.texts]


def wait_exit(docker_api, cid, timeout=20):
    docker_api.wait(cid, timeout=timeout)


# -- logs ----------------------------------------------------------------------------------
def test_reader_tail_and_stderr(engine, make_container, docker_api):
    # stdout and stderr are copied by separate pipes: let stdout land before "oops" is written
    c = make_container(command=("sh", "-c", "seq 1 50; sleep 0.5; echo oops >&2"))
    wait_exit(docker_api, c["Id"])
    batches = list(LogReader(engine, c["Id"], follow=False, tail=5))
    texts = lines_of(batches)
    assert "oops" in texts and len(texts) == 5
    assert set(texts) - {"oops"} <= {str(i) for i in range(46, 51)}
    merged_err = [b.texts[i] for b in batches for i in b.stderr]
    assert merged_err == ["oops"]
    assert all(s.endswith("Z") for b in batches for s in b.stamps)


def test_decoder_multiplexed_partial_frames_and_chunks():
    frame = lambda kind, text: bytes([kind, 0, 0, 0]) + len(text).to_bytes(4, "big") + text  # noqa: E731
    body = frame(1, b"one\n") + frame(2, b"two\n") + frame(1, b"thr") + frame(1, b"ee\n")
    chunked = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:5], body[5:17], body[17:]))
    chunked += b"0\r\n\r\n"
    texts, stamps, err = [], [], set()
    dec = LineDecoder(chunked=True, multiplexed=True, timestamps=False)
    for i in range(0, len(chunked), 3):  # fed in awkward pieces
        dec.feed(chunked[i:i + 3], texts, stamps, err)
    assert texts == ["one", "two", "three"] and err == {1} and dec.done


def test_follow_shows_tail_then_live_then_exit_code(engine, make_container, docker_api):
    c = make_container(command=("sh", "-c", "seq 1 3000; sleep 1.5; echo late; echo bad >&2; exit 3"))
    wait_for_log_lines(docker_api, c["Id"], 3000)  # the tail of 1,000 is then 2001-3000
    got = list(LogFollower(engine, c["Id"], tail=1000))
    texts = lines_of(got)
    assert texts[:2] == ["2001", "2002"]  # the last 1,000 lines first
    assert set(texts[-2:]) == {"late", "bad"}
    assert len(texts) == 1002
    assert isinstance(got[-1], LogEnded) and got[-1].message == "container exited (code 3)"


def test_follow_survives_a_quiet_minute_free_stream_and_close_is_prompt(engine, make_container):
    c = make_container(command=("sh", "-c", "echo start; sleep 3600"))
    f = LogFollower(engine, c["Id"])
    items = []
    t = threading.Thread(target=lambda: items.extend(f), daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not lines_of(items) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lines_of(items) == ["start"]
    started = time.monotonic()
    f.close()
    t.join(3)
    assert not t.is_alive() and time.monotonic() - started < 2
    assert not any(isinstance(i, LogEnded) for i in items)


def test_follow_of_removed_container_says_so(engine, make_container, docker_api):
    c = make_container(command=("sh", "-c", "echo x; sleep 3600"))
    f = LogFollower(engine, c["Id"])
    items = []
    t = threading.Thread(target=lambda: items.extend(f), daemon=True)
    t.start()
    wait_until(lambda: lines_of(items) == ["x"], 10, "the follower reading the first line")
    docker_api.remove_container(c["Id"], force=True)
    t.join(15)
    assert isinstance(items[-1], LogEnded)
    assert items[-1].message in ("container was removed", "container exited (code 137)")


def test_write_log_reads_the_whole_log(engine, make_container, docker_api, tmp_path):
    c = make_container(command=("sh", "-c", "seq 1 20000; echo err >&2"))
    wait_exit(docker_api, c["Id"])
    out = tmp_path / "all.log"
    with open(out, "w") as fh:
        n = write_log(engine, c["Id"], fh)
    lines = out.read_text().splitlines()
    assert n == 20001 and len(lines) == 20001
    assert [x for x in lines if x != "err"] == [str(i) for i in range(1, 20001)] and "err" in lines
    with open(tmp_path / "ts.log", "w") as fh:
        write_log(engine, c["Id"], fh, timestamps=True)
    first = (tmp_path / "ts.log").read_text().splitlines()[0]
    assert first.endswith(("Z 1", "Z err")) and first[:4].isdigit()


def test_older_lines_before_the_first_held(engine, make_container, docker_api):
    c = make_container(command=("sh", "-c", "seq 1 3000"))
    wait_exit(docker_api, c["Id"])
    held = lines_of(LogReader(engine, c["Id"], follow=False, tail=1000))
    stamps = [s for b in LogReader(engine, c["Id"], follow=False, tail=1000) for s in b.stamps]
    older = older_lines(engine, c["Id"], stamps[0], 1000, known_after=len(held))
    assert held[0] == "2001"
    assert older.texts[0] == "1001" and older.texts[-1] == "2000" and len(older) == 1000


# -- stats ---------------------------------------------------------------------------------
def test_cpu_percent_like_the_cli():
    raw = {"cpu_stats": {"cpu_usage": {"total_usage": 3_000}, "system_cpu_usage": 20_000, "online_cpus": 4},
           "precpu_stats": {"cpu_usage": {"total_usage": 1_000}, "system_cpu_usage": 10_000}}
    assert cpu_percent(raw) == pytest.approx(2_000 / 10_000 * 4 * 100)


def test_stats_samples_then_end_when_stopped(engine, make_container, docker_api):
    c = make_container(command=("sh", "-c", "while true; do :; done"))
    f = StatsFollower(engine, c["Id"])
    items = []
    t = threading.Thread(target=lambda: items.extend(f), daemon=True)
    t.start()
    deadline = time.monotonic() + 15
    while sum(isinstance(i, StatsSample) for i in items) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    samples = [i for i in items if isinstance(i, StatsSample)]
    assert len(samples) >= 3
    assert max(s.cpu_percent for s in samples) > 5  # a busy loop (an idle one shows ~0; a loaded machine shares it)
    assert samples[-1].memory_usage > 0 and samples[-1].memory_limit > samples[-1].memory_usage
    docker_api.kill(c["Id"])
    t.join(10)
    assert not t.is_alive(), "the stats stream kept going after the container stopped (docker-py #3291)"
    assert isinstance(items[-1], StatsEnded) and items[-1].message == "container exited (code 137)"


# -- exec ----------------------------------------------------------------------------------
def test_exec_streams_output_and_exit_code(engine, make_container):
    c = make_container()
    items = list(ExecRun(engine, c["Id"], ["sh", "-c", "echo out; echo err >&2; exit 4"]))
    # stdout and stderr are separate pipes: their relative order is not guaranteed
    assert sorted((i.text, i.stderr) for i in items if isinstance(i, ExecOutput)) == [("err\n", True),
                                                                                       ("out\n", False)]
    assert items[-1] == ExecExit(4, "exit code 4")


def test_exec_command_not_found_and_not_running(engine, make_container):
    c = make_container()
    end = list(ExecRun(engine, c["Id"], ["no-such-command"]))[-1]
    assert end.code in (126, 127) and end.message.startswith("command not found: no-such-command")
    stopped = make_container(start=False)
    with pytest.raises(EngineError, match="not running"):
        list(ExecRun(engine, stopped["Id"], ["ls"]))


def test_exec_close_ends_a_running_command_at_once_and_keeps_characters_whole(engine, make_container):
    c = make_container()
    run = ExecRun(engine, c["Id"], ["sh", "-c", "while true; do printf 'h\\303\\251\\n'; sleep 0.05; done"])
    items: list = []
    t = threading.Thread(target=lambda: items.extend(run), daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while len(items) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    run.close()
    run.close()  # a second close is harmless
    t.join(2.0)
    assert not t.is_alive() and time.monotonic() - t0 < 1.0, "close() did not end the exec stream"
    assert run.closed and items and all(isinstance(i, ExecOutput) for i in items), "no ExecExit after close()"
    assert set("".join(i.text for i in items).split()) == {"hé"}
    big = list(ExecRun(engine, c["Id"], ["sh", "-c", "yes é | head -c 300000"]))
    text = "".join(i.text for i in big if isinstance(i, ExecOutput))
    assert "\ufffd" not in text and len(text) == 200_000, "a character split between reads was mangled"
    assert big[-1] == ExecExit(0, "exit code 0")


# -- inspect -------------------------------------------------------------------------------
def test_inspect_container_and_gone(engine, make_container):
    c = make_container()
    assert inspect_container(engine, c["Id"])["Name"] == "/" + c["name"]
    with pytest.raises(EngineError, match="no longer exists"):
        inspect_container(engine, "aicstest-does-not-exist")


# -- copy ----------------------------------------------------------------------------------
def test_copy_round_trip(engine, make_container, tmp_path):
    c = make_container()
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("hello")
    payload = os.urandom(200_000)
    (src / "sub" / "b.bin").write_bytes(payload)
    res = copy_to_container(engine, c["Id"], [str(src)], "/")
    assert res.files == 2
    out = tmp_path / "out"
    out.mkdir()
    back = copy_from_container(engine, c["Id"], "/data", str(out))
    assert back.destination == str(out / "data")
    assert (out / "data" / "a.txt").read_text() == "hello"
    assert (out / "data" / "sub" / "b.bin").read_bytes() == payload


def test_copy_errors_are_clear(engine, make_container, docker_api, busybox_image, test_labels, tmp_path):
    c = make_container()
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(EngineError, match="/nope does not exist in the container"):
        copy_to_container(engine, c["Id"], [str(f)], "/nope")
    with pytest.raises(EngineError, match="/nope does not exist in the container"):
        copy_from_container(engine, c["Id"], "/nope", str(tmp_path))
    ro = docker_api.create_container(busybox_image, ["sleep", "3600"], labels=test_labels,
                                     host_config=docker_api.create_host_config(read_only=True))
    try:
        docker_api.start(ro["Id"])
        with pytest.raises(EngineError, match="Permission denied"):
            copy_to_container(engine, ro["Id"], [str(f)], "/")
    finally:
        docker_api.remove_container(ro["Id"], force=True)
    docker_api.remove_container(c["Id"], force=True)
    with pytest.raises(EngineError, match="container no longer exists"):
        copy_to_container(engine, c["Id"], [str(f)], "/")


def _tar(*members) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info in members:
            data = b"x" if info.isfile() else None
            if data:
                info.size = 1
            tar.addfile(info, io.BytesIO(data) if data else None)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("name,kind,link", [
    ("/etc/evil", tarfile.REGTYPE, ""),
    ("../evil", tarfile.REGTYPE, ""),
    ("ok/../../evil", tarfile.REGTYPE, ""),
    ("link", tarfile.SYMTYPE, "/etc/passwd"),
    ("link", tarfile.SYMTYPE, "../../outside"),
    ("dev", tarfile.CHRTYPE, ""),
])
def test_unsafe_archives_are_refused_before_writing(tmp_path, name, kind, link):
    good = tarfile.TarInfo("good.txt")
    bad = tarfile.TarInfo(name)
    bad.type = kind
    bad.linkname = link
    with pytest.raises(UnsafeArchive):
        extract_archive(_tar(good, bad), str(tmp_path))
    assert os.listdir(tmp_path) == []  # nothing written, not even the good member
