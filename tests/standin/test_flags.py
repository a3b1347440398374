"""The stand-in reads and refuses flags as Mesos 1.11 and Marathon 1.11 do (../shared/reference/mesos/flags.md)."""

from __future__ import annotations

import json

import pytest
from standin import auth, flags
from standin.__main__ import agent_credentials, main, marathon_credential, master_credentials, systemd_hierarchy_error


def master(*argv: str, **environ: str) -> dict:
    return flags.parse_mesos("mesos-master", flags.MASTER_FLAGS, flags.MASTER_ALIASES, list(argv), environ)


def agent(*argv: str, **environ: str) -> dict:
    return flags.parse_mesos("mesos-agent", flags.AGENT_FLAGS, flags.AGENT_ALIASES, list(argv), environ)


def test_command_line_beats_the_environment_and_defaults_fill_the_rest():
    values = master("--port=5051", "--cluster=platform", MESOS_PORT="6000", MESOS_WORK_DIR="/var/lib/mesos")
    assert (values["port"], values["cluster"], values["work_dir"]) == (5051, "platform", "/var/lib/mesos")
    assert master()["port"] == 5050


def test_a_flag_given_twice_is_refused_as_mesos_does():
    # What the init wrapper does when /etc/default/mesos-master says PORT and a `port` flag file exists.
    with pytest.raises(flags.FlagError, match="Flag 'port' is already loaded via name 'port'"):
        master("--port=5050", "--port=5050")
    with pytest.raises(
        flags.FlagError, match="Flag 'authenticate' is already loaded via name 'authenticate_frameworks'"
    ):
        master("--authenticate_frameworks", "--authenticate")


def test_an_unknown_flag_is_refused_and_an_unknown_variable_ignored():
    with pytest.raises(flags.FlagError, match="Failed to load unknown flag 'http_credentials'"):
        master("--http_credentials=/etc/mesos/http_credentials")  # an agent flag only, in 1.11
    assert "frobnicate" not in master(MESOS_FROBNICATE="1")


def test_booleans_take_the_forms_mesos_takes():
    assert (
        agent("--master=zk://h:2181/mesos", "--work_dir=/w", "--systemd_enable_support=false")["systemd_enable_support"]
        is False
    )
    assert agent("--master=m:5050", "--work_dir=/w", "--no-switch_user")["switch_user"] is False
    assert agent("--master=m:5050", "--work_dir=/w")["systemd_enable_support"] is True
    with pytest.raises(flags.FlagError, match="Expecting a boolean"):
        agent("--master=m:5050", "--work_dir=/w", "--strict=yes")


def test_the_agent_requires_master_and_work_dir():
    with pytest.raises(flags.FlagError, match="Flag 'master' is required"):
        agent("--work_dir=/w")


def test_file_values_are_read_and_zk_trimmed(tmp_path):
    zk = tmp_path / "zk"
    zk.write_text("zk://10.0.0.1:2181/mesos\n")
    assert master(f"--zk=file://{zk}")["zk"] == "zk://10.0.0.1:2181/mesos"
    assert (
        agent(f"--master=file://{zk}", "--work_dir=/w", "--credential=file:///etc/mesos/c")["credential"]
        == "/etc/mesos/c"
    )


def test_marathon_reads_its_environment_ahead_of_the_command_line():
    environ = {"MARATHON_MASTER": "zk://h:2181/mesos", "MARATHON_HTTP_PORT": "8081", "MARATHON_DISABLE_HA": "",
               "MARATHON_APP_ID": "/x"}  # fmt: skip
    values = flags.parse_marathon(["--hostname", "mm1"], environ)
    assert (values["master"], values["http_port"], values["hostname"], values["disable_ha"]) == (
        "zk://h:2181/mesos", 8081, "mm1", True)  # fmt: skip


def test_marathon_refuses_an_unknown_flag_and_a_missing_master_with_exit_112(capsys):
    assert main(["marathon", "--master", "zk://h:2181/mesos", "--event_subscriber", "http_callback"]) == 112
    assert "Unknown option 'event_subscriber'" in capsys.readouterr().err
    assert main(["marathon"]) == 112
    assert "Required option 'master' not found" in capsys.readouterr().err


def test_mesos_exits_1_with_its_message(capsys):
    assert main(["mesos-master", "--port=5050", "--port=5050"]) == 1
    assert "Flag 'port' is already loaded" in capsys.readouterr().err


def test_agent_with_systemd_support_needs_the_cgroup_v1_systemd_hierarchy(tmp_path, monkeypatch):
    values = agent("--master=m:5050", "--work_dir=/w", f"--cgroups_hierarchy={tmp_path}")
    monkeypatch.setattr(
        "subprocess.run", lambda *a, **k: type("Done", (), {"stdout": "systemd 252 (252.30-1~deb12u2)\n"})()
    )
    assert systemd_hierarchy_error(values) == (
        "Failed to initialize systemd: Failed to locate systemd cgroups hierarchy: "
        f"'{tmp_path}/systemd' is not a valid hierarchy"
    )
    assert systemd_hierarchy_error({**values, "systemd_enable_support": False}) is None


def test_a_name_and_its_alias_both_in_the_environment_are_refused():
    with pytest.raises(flags.FlagError, match="is already loaded via name"):
        master(MESOS_AUTHENTICATE="true", MESOS_AUTHENTICATE_FRAMEWORKS="true")
    assert master("--port=6000", MESOS_PORT="7000")["port"] == 6000


def test_marathon_disable_applies_to_toggles_only():
    with pytest.raises(flags.FlagError, match="Unknown option 'disable_hostname'"):
        flags.parse_marathon(["--master", "zk://h:2181/mesos", "--disable_hostname"], {})
    assert (
        flags.parse_marathon(["--master", "m:5050", "--disable_mesos_authentication"], {})["mesos_authentication"]
        is False
    )


def test_the_master_refuses_http_authentication_without_credentials(tmp_path, capsys):
    work = f"--work_dir={tmp_path}"
    assert main(["mesos-master", work, "--authenticate_http_readwrite"]) == 1
    assert "No credentials provided for the default 'basic' HTTP authenticator" in capsys.readouterr().err
    empty = tmp_path / "credentials"
    empty.write_text("\n")
    assert main(["mesos-master", work, f"--credentials={empty}"]) == 1
    assert "Credentials file must contain at least one credential (see --credentials flag)" in capsys.readouterr().err


def test_the_master_refuses_credentials_it_cannot_read_or_parse(tmp_path, capsys):
    work = f"--work_dir={tmp_path}"
    broken = tmp_path / "credentials.json"
    broken.write_text('{"credentials": [{"principal": "marathon", "secret": "s3cret"}')  # unterminated
    assert main(["mesos-master", work, "--authenticate_frameworks", f"--credentials=file://{broken}"]) == 1
    # Not JSON, so Mesos tries its deprecated text form, one `principal secret` a line.
    assert "Invalid credential format at line 1 (see --credentials flag)" in capsys.readouterr().err
    assert main(["mesos-master", work, f"--credentials={tmp_path}/absent.json"]) == 1
    assert (
        f"Failed to read credentials file '{tmp_path}/absent.json': No such file or directory (see --credentials flag)"
        in capsys.readouterr().err
    )


def test_the_master_reads_json_credentials_and_the_deprecated_text_form(tmp_path):
    document = tmp_path / "credentials.json"
    document.write_text(json.dumps({"credentials": [{"principal": "marathon", "secret": "a b:c"}, {"principal": "x"}]}))
    values = master(f"--credentials=file://{document}", "--authenticate_http_readonly")
    assert master_credentials(values) == {"marathon": "a b:c", "x": ""}
    text = tmp_path / "credentials"
    text.write_text("marathon s3cret\nagent other\n")
    assert master_credentials(master(f"--credentials={text}")) == {"marathon": "s3cret", "agent": "other"}
    assert master_credentials(master()) is None


def test_the_agent_checks_its_credential_and_http_credentials(tmp_path, capsys):
    base = ["mesos-agent", "--master=127.0.0.1:5050", f"--work_dir={tmp_path}", "--no-systemd_enable_support"]
    assert main([*base, "--authenticate_http_readonly"]) == 1
    assert (
        "No credentials provided for the default 'basic' HTTP authenticator for realm 'mesos-agent-readonly'"
        in capsys.readouterr().err
    )
    credential = tmp_path / "credential.json"
    credential.write_text('{"principal": "agent", "secret": ')
    assert main([*base, f"--credential={credential}"]) == 1
    assert "Invalid credential format (see --credential flag)" in capsys.readouterr().err
    credential.write_text("")
    assert main([*base, f"--credential={credential}"]) == 1
    assert f"Empty credential file '{credential}' (see --credential flag)" in capsys.readouterr().err

    credential.write_text('{"principal": "agent", "secret": "s3cret"}')
    http = tmp_path / "http_credentials.json"
    http.write_text('{"credentials": [{"principal": "operator", "secret": "op"}]}')
    values = agent(*base[1:], f"--credential=file://{credential}", f"--http_credentials={http}")
    assert agent_credentials({**values, "authenticate_http_readwrite": True}) == (
        ("agent", "s3cret"),
        {"operator": "op"},
    )


def test_marathon_authentication_flags_follow_marathons_rules(tmp_path, capsys):
    assert main(["marathon", "--master", "m:5050", "--mesos_authentication"]) == 112
    assert (
        "When specifying 'mesos_authentication', all of the following options must also be provided: "
        "mesos_authentication_principal" in capsys.readouterr().err
    )
    both = ["--mesos_authentication_secret", "s", "--mesos_authentication_secret_file", str(tmp_path / "s")]
    assert main(["marathon", "--master", "m:5050", *both]) == 112
    assert (
        "There should be only one or zero of the following options: "
        "mesos_authentication_secret, mesos_authentication_secret_file" in capsys.readouterr().err
    )


def test_marathon_reads_its_secret_file_byte_for_byte(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"s3cret\n")
    argv = ["--master", "m:5050", "--mesos_authentication_principal", "marathon",
            "--mesos_authentication_secret_file", str(secret)]  # fmt: skip
    assert marathon_credential(flags.parse_marathon([*argv, "--mesos_authentication"], {})) == ("marathon", "s3cret\n")
    # The principal alone names the framework but authenticates nothing.
    assert marathon_credential(flags.parse_marathon(argv, {})) is None


def test_marathon_http_credentials_must_be_user_colon_password():
    environ = {"MESOSPHERE_HTTP_CREDENTIALS": "admin:pw"}
    assert flags.parse_marathon(["--master", "m:5050"], environ)["http_credentials"] == "admin:pw"
    assert (
        flags.parse_marathon(["--master", "m:5050", "--http_credentials", "a:b"], environ)["http_credentials"] == "a:b"
    )
    assert auth.marathon_http_credentials("admin:s3:cret") == ("admin:s3", "cret")  # Scala's greedy (.+):(.+)
    for malformed in ("admin", "admin:", ":pw", "admin:pw\n"):
        with pytest.raises(ValueError, match="must be specified in the form of 'user:password'"):
            auth.marathon_http_credentials(malformed)


def test_a_zk_url_whose_credential_the_daemons_would_misread_is_refused_without_its_password(tmp_path, capsys):
    assert main(["mesos-master", f"--work_dir={tmp_path}", "--quorum=1", "--zk=zk://mesos:s3cr/et@zk1:2181/mesos"]) == 1
    assert (
        main(["marathon", "--master", "zk://zk1:2181/mesos", "--zk", "zk://marathon:s3cr@et@zk1:2181/marathon"]) == 112
    )
    err = capsys.readouterr().err
    assert err.count("a zk:// URL takes one credential") == 2 and "s3cr" not in err
