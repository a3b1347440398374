"""Command-line flags the way the vendors' daemons read them, so that the lab fails where they fail.

Mesos 1.11 (stout, ../shared/reference/mesos/flags.md §1): `--name=value` on the command line and
`MESOS_NAME` in the environment; the command line wins over the environment; an unknown flag on the
command line, a flag given twice, a bad boolean or a missing required flag is an error (exit 1).
Marathon 1.11 (§4): `MARATHON_NAME=value` becomes `--name value` ahead of the command line, an
empty value a bare `--name`; an unknown flag, a missing `--master` or a broken rule between flags
(MarathonConf's dependsOnAll, mutuallyExclusive) is an error (exit 112).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


class FlagError(Exception):
    """A flag the daemon refuses; the message is the one the vendor's daemon prints."""


@dataclass(frozen=True)
class Flag:
    # string | bool | int | path (kept as given, file:// stripped) | json (kept as given: its reader
    # fetches file:// itself, so that its errors name the value as Mesos' do)
    kind: str = "string"
    default: Any = None
    required: bool = False


def _known(kind: str, *names: str) -> dict[str, Flag]:
    return {name: Flag(kind) for name in names}


# The flags of mesos-master 1.11 that a site plausibly sets (src/master/flags.cpp).
MASTER_FLAGS: dict[str, Flag] = {
    "port": Flag("int", 5050),
    **_known("string", "zk", "ip", "hostname", "cluster", "log_dir", "logging_level", "work_dir",
             "advertise_ip", "advertise_port", "webui_dir", "offer_timeout", "agent_ping_timeout",
             "agent_removal_rate_limit", "registry", "registry_fetch_timeout", "registry_store_timeout",
             "zk_session_timeout", "role_sorter", "framework_sorter", "roles", "weights", "authenticators",
             "authorizers", "http_authenticators", "modules", "modules_dir", "external_log_file",
             "max_completed_frameworks", "max_completed_tasks_per_framework"),
    **_known("int", "quorum", "max_agent_ping_timeouts"),
    **_known("path", "credentials"),
    **_known("json", "acls"),
    **_known("bool", "authenticate_frameworks", "authenticate_agents", "authenticate_http_readonly",
             "authenticate_http_readwrite", "hostname_lookup", "quiet", "registry_strict"),
}  # fmt: skip
MASTER_ALIASES = {"authenticate": "authenticate_frameworks", "authenticate_slaves": "authenticate_agents",
                  "authenticate_http": "authenticate_http_readwrite"}  # fmt: skip

# The flags of mesos-agent 1.11 that a site plausibly sets (src/slave/flags.cpp).
AGENT_FLAGS: dict[str, Flag] = {
    "port": Flag("int", 5051),
    "master": Flag("string", required=True),
    "work_dir": Flag("string", required=True),
    "systemd_enable_support": Flag("bool", True),
    "switch_user": Flag("bool", True),
    "containerizers": Flag("string", "mesos"),
    "cgroups_hierarchy": Flag("string", "/sys/fs/cgroup"),
    "systemd_runtime_directory": Flag("string", "/run/systemd/system"),
    **_known("string", "ip", "hostname", "log_dir", "logging_level", "attributes", "resources", "docker",
             "docker_socket", "executor_registration_timeout", "executor_shutdown_grace_period", "isolation",
             "launcher", "cgroups_root", "recover", "gc_delay", "docker_store_dir", "launcher_dir",
             "runtime_dir", "image_providers", "network_cni_plugins_dir", "network_cni_config_dir",
             "default_container_dns", "http_authenticators", "advertise_ip", "advertise_port",
             "executor_environment_variables", "docker_config", "modules", "modules_dir", "fetcher_cache_dir",
             "external_log_file", "agent_subsystems", "default_role", "sandbox_directory"),
    **_known("path", "credential", "http_credentials"),
    **_known("bool", "authenticate_http_readonly", "authenticate_http_readwrite", "strict", "hostname_lookup",
             "quiet", "cgroups_enable_cfs", "cgroups_limit_swap", "docker_kill_orphans"),
}  # fmt: skip
AGENT_ALIASES = {"slave_subsystems": "agent_subsystems"}


def _boolean(name: str, value: str) -> bool:
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise FlagError(
        f"Failed to load flag '{name}': Failed to load value '{value}': Expecting a boolean (e.g., true or false)"
    )


def _value(name: str, flag: Flag, raw: str) -> Any:
    if flag.kind == "path":
        return raw.removeprefix("file://")
    if flag.kind == "json":
        return raw
    if raw.startswith("file://"):
        try:
            with open(raw[len("file://") :]) as source:
                raw = source.read()
        except OSError as ex:
            raise FlagError(f"Failed to load flag '{name}': Error reading file '{raw[7:]}': {ex.strerror}") from None
        if name in ("zk", "master"):
            raw = raw.strip()
    if flag.kind == "bool":
        return _boolean(name, raw)
    if flag.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise FlagError(
                f"Failed to load flag '{name}': Failed to load value '{raw}': Failed to convert into required type"
            ) from None
    return raw


def parse_mesos(
    program: str,
    known: dict[str, Flag],
    aliases: dict[str, str],
    argv: list[str],
    environ: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The flags mesos-master or mesos-agent would run with, or FlagError with Mesos' message."""
    environ = os.environ if environ is None else environ
    loaded: dict[str, str] = {}  # canonical name -> the name it was loaded under
    values: dict[str, Any] = {}
    for arg in argv:
        if not arg.startswith("--"):
            raise FlagError(
                f"Failed to load unknown flag '{arg}'\nSee `{program} --help` for a list of supported flags."
            )
        given, has_value, raw = arg[2:].partition("=")
        negated = given.startswith("no-") and given[3:] in {**known, **aliases}
        name = given[3:] if negated else given
        canonical = aliases.get(name, name)
        flag = known.get(canonical)
        if flag is None:
            raise FlagError(
                f"Failed to load unknown flag '{given}'\nSee `{program} --help` for a list of supported flags."
            )
        if canonical in loaded:
            raise FlagError(f"Flag '{name}' is already loaded via name '{loaded[canonical]}'")
        loaded[canonical] = name
        if negated:
            if flag.kind != "bool" or has_value:
                raise FlagError(f"Failed to load flag '{given}': Failed to load value '{raw}': Expecting a boolean")
            values[canonical] = False
        elif not has_value:
            if flag.kind != "bool":
                raise FlagError(f"Failed to load non-boolean flag '{name}': Missing value")
            values[canonical] = True
        else:
            values[canonical] = _value(name, flag, raw)
    from_environment: dict[str, str] = {}
    for key, raw in sorted(environ.items()):
        if not key.startswith("MESOS_"):
            continue
        name = key[len("MESOS_") :].lower()
        canonical = aliases.get(name, name)
        if canonical not in known:
            continue  # stout reads only the variables of known flags
        if canonical in from_environment:
            # A name and its alias, both in the environment.
            raise FlagError(f"Flag '{name}' is already loaded via name '{from_environment[canonical]}'")
        from_environment[canonical] = name
        if canonical not in values:  # the command line wins
            values[canonical] = _value(name, known[canonical], raw)
    for name, flag in known.items():
        if name not in values:
            if flag.required:
                raise FlagError(f"Flag '{name}' is required, but it was not provided")
            values[name] = flag.default
    return values


# Marathon 1.11's flags that a site plausibly sets (MarathonConf and the traits it mixes in).
MARATHON_FLAGS: dict[str, Flag] = {
    "master": Flag("string", required=True),
    "zk": Flag("string", "zk://localhost:2181/marathon"),
    "http_port": Flag("int", 8080),
    "https_port": Flag("int", 8443),
    "framework_name": Flag("string", "marathon"),
    "task_launch_timeout": Flag("int", 300000),
    "http_realm": Flag("string", "Mesosphere"),
    # Decline offers of agents whose maintenance window has begun (or begins within draining_seconds).
    "maintenance_mode": Flag("bool", True),
    "draining_seconds": Flag("int", 0),
    **_known("string", "hostname", "mesos_user", "http_credentials", "http_address", "mesos_role",
             "mesos_authentication_principal", "mesos_authentication_secret_file", "mesos_authentication_secret",
             "ssl_keystore_path", "ssl_keystore_password", "webui_url", "leader_proxy_connection_timeout",
             "zk_timeout", "zk_session_timeout", "env_vars_prefix", "access_control_allow_origin",
             "default_accepted_resource_roles", "mesos_leader_ui_url", "plugin_dir", "plugin_conf"),
    **_known("bool", "mesos_authentication", "disable_http", "disable_ha", "checkpoint"),
}  # fmt: skip


def marathon_args(environ: dict[str, str], argv: list[str]) -> list[str]:
    """MARATHON_* variables as arguments, ahead of the command line (Main.envToArgs)."""
    args = []
    for key, value in sorted(environ.items()):
        if key.startswith("MARATHON_") and not key.startswith("MARATHON_APP_"):
            args.append("--" + key[len("MARATHON_") :].lower())
            if value:
                args.append(value)
    return args + argv


def parse_marathon(argv: list[str], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The flags Marathon would run with, or FlagError with its message (it exits 112)."""
    args = marathon_args(os.environ if environ is None else environ, argv)
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg[2:] if arg.startswith("--") else None
        toggled = MARATHON_FLAGS.get(name[len("disable_") :]) if name and name.startswith("disable_") else None
        if toggled is not None and toggled.kind == "bool":
            values[name[len("disable_") :]] = False
            i += 1
            continue
        flag = MARATHON_FLAGS.get(name or "")
        if flag is None:
            raise FlagError(f"[scallop] Error: Unknown option '{name or arg}'")
        if flag.kind == "bool":
            values[name] = True
            i += 1
            continue
        if i + 1 >= len(args) or args[i + 1].startswith("--"):
            raise FlagError(f"[scallop] Error: Option '{name}' needs one argument")
        raw = args[i + 1]
        try:
            values[name] = int(raw) if flag.kind == "int" else raw
        except ValueError:
            raise FlagError(f"[scallop] Error: Bad '{name}' value: {raw}") from None
        i += 2
    for name, flag in MARATHON_FLAGS.items():
        if name not in values:
            if flag.required:
                raise FlagError(f"[scallop] Error: Required option '{name}' not found")
            values[name] = flag.default
    _check_marathon_rules(values)
    if values["http_credentials"] is None:
        # HttpConf's default for --http_credentials.
        values["http_credentials"] = (os.environ if environ is None else environ).get("MESOSPHERE_HTTP_CREDENTIALS")
    return values


def _check_marathon_rules(values: dict[str, Any]) -> None:
    """MarathonConf's rules between flags, with Scallop 3.3's messages."""
    # dependsOnAll(mesosAuthentication, principal); checked here for the toggle on only.
    if values["mesos_authentication"] and values["mesos_authentication_principal"] is None:
        raise FlagError(
            "[scallop] Error: When specifying 'mesos_authentication', all of the following options must also be "
            "provided: mesos_authentication_principal"
        )
    if values["mesos_authentication_secret"] is not None and values["mesos_authentication_secret_file"] is not None:
        raise FlagError(
            "[scallop] Error: There should be only one or zero of the following options: "
            "mesos_authentication_secret, mesos_authentication_secret_file"
        )


def flag_texts(flags: dict[str, Any]) -> dict[str, str]:
    """Flags as Mesos' /flags shows them: every value a string, booleans true/false."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in flags.items() if v is not None}
