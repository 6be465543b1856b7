"""RunSpec's limits, hidden variables and warnings (no engine)."""

from gui.engine.runspec import (
    MIB,
    PortSpec,
    RunSpec,
    default_memory_limit,
    looks_secret,
    size_cli,
)


def test_limits_appear_in_the_equivalent_command():
    spec = RunSpec("img", memory=2048 * MIB, pids_limit=1024, restart="on-failure")
    assert spec.cli() == "docker run -d --memory 2g --pids-limit 1024 --restart on-failure img"
    assert RunSpec("img", memory=1536 * MIB).cli() == "docker run -d --memory 1536m img"
    assert not spec.problems()


def test_a_hidden_variable_is_named_without_its_value():
    spec = RunSpec("img", env=(("JUPYTER_TOKEN", "s3cr3t-value"), ("MODE", "fast")))
    cli = spec.cli(hide_env={"JUPYTER_TOKEN"})
    assert "s3cr3t-value" not in cli
    assert "-e JUPYTER_TOKEN -e MODE=fast" in cli
    assert "JUPYTER_TOKEN=s3cr3t-value" in spec.cli()


def test_secret_names():
    assert looks_secret("JUPYTER_TOKEN") and looks_secret("db_password") and looks_secret("OPENAI_API_KEY")
    assert not looks_secret("MODE") and not looks_secret("PORT")


def test_default_memory_is_half_the_host_and_never_tiny():
    assert default_memory_limit(16 * 1024 * MIB) == 8 * 1024 * MIB
    assert default_memory_limit(600 * MIB) == 512 * MIB
    assert default_memory_limit(0) == 0
    assert size_cli(3 * MIB + 1) == str(3 * MIB + 1)


def test_limits_out_of_range_are_problems():
    assert any("memory" in p for p in RunSpec("img", memory=1024).problems())
    assert any("process" in p for p in RunSpec("img", pids_limit=-1).problems())


def test_all_interfaces_is_a_warning_not_a_problem():
    spec = RunSpec("img", ports=(PortSpec(80, 8080, "0.0.0.0"), PortSpec(81, None, "127.0.0.1")))
    assert not spec.problems()
    [warning] = spec.warnings()
    assert "8080" in warning and "all network interfaces" in warning
