"""Volumes, networks and disk space on the real engine (gui.engine.volumes / networks / disk); no Qt."""

from __future__ import annotations

import hashlib
import os

import pytest

from gui.engine import EngineError, disk, networks, volumes
from tests.support.waits import wait_until


@pytest.fixture
def make_volume(docker_api, test_labels, unique_name):
    made: list[str] = []

    def make(stem: str = "vol") -> str:
        name = unique_name(stem)
        docker_api.create_volume(name, labels=test_labels)
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            docker_api.remove_volume(name, force=True)
        except Exception:
            pass


@pytest.fixture
def make_network(docker_api, test_labels):
    made: list[str] = []
    yield made
    for nid in made:
        try:
            docker_api.remove_network(nid)
        except Exception:
            pass


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_volume_create_list_and_bad_names(engine, unique_name, docker_api, test_labels):
    name = unique_name("v")
    try:
        info = volumes.create_volume(engine, name, labels=test_labels)
        assert info.name == name and info.driver == "local"
        assert name in {v.name for v in volumes.list_volumes(engine)}
        with pytest.raises(EngineError, match="already exists"):
            volumes.create_volume(engine, name)
    finally:
        docker_api.remove_volume(name, force=True)
    for bad in ("a", "-x", "has space", "slash/y"):
        with pytest.raises(EngineError, match="Invalid volume name"):
            volumes.create_volume(engine, bad)


def test_files_through_the_browser_reach_a_container_and_come_back(engine, make_volume, make_container,
                                                                   docker_api, tmp_path):
    vol = make_volume()
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    (src / "data" / "a.bin").write_bytes(os.urandom(300_000))
    (src / "notes.txt").write_text("hello from the host\n")
    up = volumes.upload_to_volume(engine, vol, [str(src / "data"), str(src / "notes.txt")])
    assert up.files == 2 and up.bytes == 300_000 + len("hello from the host\n")

    listing = {e.name: e for e in volumes.list_volume(engine, vol)}
    assert listing["data"].kind == "folder" and listing["notes.txt"].kind == "file"
    assert listing["notes.txt"].size == 20
    inner = volumes.list_volume(engine, vol, "data")
    assert [(e.name, e.size) for e in inner] == [("a.bin", 300_000)]
    with pytest.raises(EngineError, match="not a folder"):
        volumes.list_volume(engine, vol, "nothing-here")

    # A container mounting the volume sees the files.
    c = make_container(command=("sh", "-c", "cat /mnt/notes.txt; ls -l /mnt/data"), start=True,
                       host_config=docker_api.create_host_config(binds={vol: {"bind": "/mnt", "mode": "ro"}}))
    docker_api.wait(c["Id"], timeout=30)
    out = docker_api.logs(c["Id"]).decode()
    assert "hello from the host" in out and "300000" in out

    # Download gives back the same bytes; no helper container is left behind.
    back = tmp_path / "back"
    back.mkdir()
    got = volumes.download_from_volume(engine, vol, "data", str(back))
    assert got.files == 1 and sha(back / "data" / "a.bin") == sha(src / "data" / "a.bin")
    helpers = docker_api.containers(all=True, filters={"label": volumes.HELPER_LABEL})
    assert not [h for h in helpers if any(m.get("Name") == vol for m in h.get("Mounts") or [])]


def browser_helpers_on(docker_api, vol: str) -> list[dict]:
    return docker_api.containers(all=True, filters={"label": f"{volumes.HELPER_LABEL}=volume-browser",
                                                    "volume": vol})


def test_browser_helper_goes_when_closed_before_or_after_it_started(engine, make_volume, docker_api):
    vol = make_volume()
    opened = volumes.BrowserHelper(engine, vol)
    cid = opened.start()
    assert cid and docker_api.inspect_container(cid)["State"]["Running"]
    assert [c["Id"] for c in browser_helpers_on(docker_api, vol)] == [cid]
    opened.close()
    assert browser_helpers_on(docker_api, vol) == []
    opened.close()  # twice: nothing to do, no error

    # The window closed while its helper was still starting: the helper is removed as soon as it runs.
    early = volumes.BrowserHelper(engine, vol)
    early.close()
    assert early.start() == "" and early.id == ""
    assert browser_helpers_on(docker_api, vol) == []


def test_remove_refused_while_mounted_then_allowed(engine, make_volume, make_container, docker_api):
    vol = make_volume()
    c = make_container(host_config=docker_api.create_host_config(binds={vol: {"bind": "/mnt"}}))
    with pytest.raises(EngineError) as err:
        volumes.remove_volume(engine, vol)
    assert err.value.kind == "conflict" and c["name"] in str(err.value)
    docker_api.remove_container(c["Id"], force=True)
    volumes.remove_volume(engine, vol)
    assert vol not in {v.name for v in volumes.list_volumes(engine)}


def test_prune_removes_exactly_what_was_shown(engine, make_volume, make_container, docker_api):
    unused, used = make_volume("unused"), make_volume("used")
    make_container(host_config=docker_api.create_host_config(binds={used: {"bind": "/mnt"}}))
    shown = [u.name for u in volumes.unused_volumes(engine)]
    assert unused in shown and used not in shown
    removed, _freed = volumes.prune_volumes(engine, [unused, used])  # `used` is skipped: in use
    assert removed == [unused]
    names = {v.name for v in volumes.list_volumes(engine)}
    assert unused not in names and used in names


def test_network_create_connect_reach_by_name_disconnect_remove(engine, make_container, make_network,
                                                                unique_name, docker_api, test_labels):
    name = unique_name("net")
    net = networks.create_network(engine, name, labels=test_labels)
    make_network.append(net.id)
    assert net.driver == "bridge" and not net.internal
    server = make_container(command=("sh", "-c", "mkdir -p /www && echo model-answer > /www/index.html "
                                                 "&& httpd -f -p 8080 -h /www"))
    networks.connect(engine, name, server["Id"], aliases=["model"])
    with pytest.raises(EngineError, match="already connected"):
        networks.connect(engine, name, server["Id"])
    listed = next(n for n in networks.list_networks(engine) if n.name == name)
    assert server["name"] in listed.containers
    attached = networks.container_networks(docker_api.inspect_container(server["Id"]))
    mine = next(a for a in attached if a.network == name)
    assert mine.ip and "model" in mine.aliases

    client = make_container(command=("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do "
                                                 "wget -qO- http://model:8080/ && exit 0; sleep 0.5; done; exit 1"),
                            start=False)
    networks.connect(engine, name, client["Id"])
    docker_api.start(client["Id"])
    assert docker_api.wait(client["Id"], timeout=60)["StatusCode"] == 0
    assert "model-answer" in docker_api.logs(client["Id"]).decode()

    with pytest.raises(EngineError) as err:
        networks.remove_network(engine, listed)
    assert err.value.kind == "conflict" and server["name"] in str(err.value)
    networks.disconnect(engine, name, server["Id"])
    networks.disconnect(engine, name, client["Id"])
    networks.remove_network(engine, listed)
    assert name not in {n.name for n in networks.list_networks(engine)}


def test_network_bad_input_in_words(engine, make_network, unique_name, test_labels):
    assert networks.network_problems("") == ["a network needs a name"]
    assert "engine's own network" in networks.network_problems("bridge")[0]
    assert "CIDR" in networks.network_problems("x1", "10.1.2.3/33")[0]
    assert "outside the subnet" in networks.network_problems("x1", "10.91.0.0/16", "10.92.0.1")[0]
    first = networks.create_network(engine, unique_name("n1"), subnet="10.213.0.0/16", labels=test_labels)
    make_network.append(first.id)
    with pytest.raises(EngineError, match="overlaps 10.213.0.0/16"):
        networks.create_network(engine, unique_name("n2"), subnet="10.213.7.0/24")
    with pytest.raises(EngineError, match="engine's own network"):
        networks.remove_network(engine, next(n for n in networks.list_networks(engine) if n.name == "bridge"))


def test_disk_usage_matches_the_engine_and_clean_frees_what_it_said(engine, make_container, unique_image,
                                                                      docker_api):
    stopped = make_container(command=("sh", "-c", "head -c 2000000 /dev/urandom > /junk"), start=True)
    docker_api.wait(stopped["Id"], timeout=30)
    image_id = unique_image(size=3_000_000)
    usage = disk.disk_usage(engine)
    df = docker_api.df()  # the same figures as `docker system df -v` (other runs may change the rest)
    mine = next(i for i in usage.items if i.id == stopped["Id"])
    raw = next(c for c in df["Containers"] if c["Id"] == stopped["Id"])
    assert mine.category == "containers" and mine.size == raw["SizeRw"] >= 2_000_000 and not mine.in_use
    img = next(i for i in usage.items if i.id == image_id)
    raw_img = next(i for i in df["Images"] if i["Id"] == image_id)
    assert img.size == raw_img["Size"] - raw_img["SharedSize"] >= 3_000_000
    assert img.shared == raw_img["SharedSize"] and img.name.startswith("<none>")
    assert usage.total("images") == df["LayersSize"]  # shared layers once, as `docker system df` says

    plan = disk.candidates(usage, "stopped containers")
    assert mine in plan.items
    ours = disk.CleanUp(plan.kind, (mine,))  # a test removes only what it made
    removed, freed, problems = disk.clean(engine, ours)
    assert (removed, problems) == (1, []) and freed == mine.size
    wait_until(lambda: not docker_api.containers(all=True, filters={"id": stopped["Id"]}), 5,
               "the stopped container gone from the engine's list")
