"""Marathon app validation and normalisation (POST /v2/apps and PUT /v2/apps/{id} bodies).

Two layers, like Marathon 1.5: the AppDefinition JSON schema (types, ranges, enums, patterns,
unknown fields), written here as a compact Python spec rather than a copy of Marathon's schema
file, and the server-side rules of AppValidation.scala / SchedulingValidation.scala /
AppNormalization.scala. A type error is answered 400 "Invalid JSON" and everything else 422
"Object is not valid", as Marathon does.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# Marathon's PathId pattern (schema definitions/pathType).
PATH_RE = re.compile(r"^(\/?((\.{2})|([a-z0-9][a-z0-9\-.]*[a-z0-9]+)|([a-z0-9]*))($|\/))+$")
PORT_NAME_RE = r"^[a-z][a-z0-9-]*$"
RESERVED_ID_SUFFIXES = ("restart", "tasks", "versions")
PORT_INDEX_ERROR = "Health check port indices must address an element of the ports array or container port mappings."
MARATHON_HC_PROTOCOLS = {"HTTP", "HTTPS", "TCP"}
MESOS_HC_PROTOCOLS = {"MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP", "COMMAND"}
CONSTRAINT_OPS = ("UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER")
# Read-only fields of a GET /v2/apps/{id} answer: Marathon ignores them in a request body, so a
# client may PUT back what it read (apart from "version", see rest-semantics.md).
READ_ONLY_FIELDS = (
    "tasksStaged",
    "tasksRunning",
    "tasksHealthy",
    "tasksUnhealthy",
    "tasks",
    "deployments",
    "lastTaskFailure",
    "readinessCheckResults",
    "taskStats",
    "versionInfo",
)

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
# Play JSON's reader errors, which Marathon returns with 400 "Invalid JSON".
TYPE_ERRORS = {
    "string": "error.expected.jsstring",
    "integer": "error.expected.jsnumber",
    "number": "error.expected.jsnumber",
    "boolean": "error.expected.jsboolean",
    "object": "error.expected.jsobject",
    "array": "error.expected.jsarray",
}


def _t(kind: str, **rules: Any) -> dict:
    return {"type": kind, **rules}


def _obj(props: dict, required: tuple = (), extra: dict | bool = False) -> dict:
    """An object; `extra` is False (no unknown keys), True (anything) or the spec of every value."""
    return {"type": "object", "props": props, "required": required, "extra": extra}


STR = _t("string")
BOOL = _t("boolean")
NAT = _t("integer", minimum=0)
PORT = _t("integer", minimum=0, maximum=65535)
STR_MAP = _obj({}, extra=STR)
PORT_MAPPINGS = _t(
    "array",
    items=_obj(
        {
            "containerPort": PORT,
            "hostPort": PORT,
            "servicePort": PORT,
            "labels": STR_MAP,
            "name": _t("string", pattern=PORT_NAME_RE),
            "networkNames": _t("array", items=_t("string", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")),
            "protocol": _t("string", enum=("tcp", "udp", "udp,tcp")),
        }
    ),
)
APP_SPEC = _obj(
    {
        "id": _t("string", pattern=PATH_RE.pattern, min_length=1),
        "acceptedResourceRoles": _t("array", items=STR),
        "args": _t("array", items=STR),
        "backoffFactor": _t("number", minimum=1.0),
        "backoffSeconds": NAT,
        "cmd": _t("string", min_length=1),
        "constraints": _t("array", items=_t("array", tuple=(STR, _t("string", enum=CONSTRAINT_OPS), STR), min_items=2)),
        "container": _obj(
            {
                "type": _t("string", enum=("MESOS", "DOCKER")),
                "docker": _obj(
                    {
                        "image": _t("string", min_length=1),
                        "network": _t("string", enum=("BRIDGE", "HOST", "NONE", "USER")),
                        "forcePullImage": BOOL,
                        "privileged": BOOL,
                        "parameters": _t(
                            "array", items=_obj({"key": _t("string", min_length=1), "value": STR}, ("key", "value"))
                        ),
                        "portMappings": PORT_MAPPINGS,
                        "credential": _obj({"principal": STR, "secret": STR}, ("principal",)),
                        "pullConfig": _obj({"secret": _t("string", min_length=1)}, ("secret",)),
                    },
                    ("image",),
                ),
                "appc": _obj(
                    {
                        "image": _t("string", min_length=1),
                        "id": _t("string", min_length=7),
                        "labels": STR_MAP,
                        "forcePullImage": BOOL,
                    },
                    ("image",),
                ),
                "portMappings": PORT_MAPPINGS,
                "volumes": _t(
                    "array",
                    items=_obj(
                        {
                            "containerPath": _t("string", min_length=1),
                            "hostPath": _t("string", min_length=1),
                            "mode": _t("string", enum=("RO", "RW")),
                            "persistent": _obj(
                                {
                                    "type": _t("string", enum=("root", "path", "mount")),
                                    "size": NAT,
                                    "maxSize": NAT,
                                    "constraints": _t("array"),
                                },
                                ("size",),
                            ),
                            "external": _obj(
                                {"size": NAT, "name": STR, "provider": STR, "options": _obj({}, extra=True)}
                            ),
                        }
                    ),
                ),
            }
        ),
        "cpus": _t("number", minimum=0),
        "dependencies": _t("array", items=_t("string", pattern=PATH_RE.pattern, min_length=1)),
        "disk": _t("number", minimum=0),
        "env": _obj({}, extra="env"),
        "executor": _t("string", pattern=r"^(|\/\/cmd|\/?[^\/]+(\/[^\/]+)*)$"),
        "fetch": _t(
            "array",
            items=_obj(
                {"uri": STR, "executable": BOOL, "extract": BOOL, "cache": BOOL, "destPath": STR},
                ("uri",),
            ),
        ),
        "healthChecks": _t(
            "array",
            items=_obj(
                {
                    "command": _obj({"value": STR}, extra=True),
                    "gracePeriodSeconds": NAT,
                    "ignoreHttp1xx": BOOL,
                    "intervalSeconds": NAT,
                    "maxConsecutiveFailures": NAT,
                    "path": STR,
                    "port": PORT,
                    "portIndex": NAT,
                    "protocol": _t("string", enum=tuple(sorted(MARATHON_HC_PROTOCOLS | MESOS_HC_PROTOCOLS))),
                    "timeoutSeconds": NAT,
                    "delaySeconds": NAT,
                }
            ),
        ),
        "instances": NAT,
        "labels": STR_MAP,
        "maxLaunchDelaySeconds": NAT,
        "mem": _t("number", minimum=0),
        "gpus": NAT,
        "networks": _t(
            "array",
            items=_obj(
                {
                    "name": STR,
                    "mode": _t("string", enum=("container", "container/bridge", "host")),
                    "labels": _obj({}, extra=True),
                },
                extra=True,
            ),
        ),
        "ipAddress": _obj({}, extra=True),
        "ports": _t("array", items=PORT),
        "portDefinitions": _t(
            "array",
            items=_obj(
                {
                    "port": PORT,
                    "labels": STR_MAP,
                    "name": _t("string", pattern=PORT_NAME_RE),
                    "protocol": _t("string", enum=("tcp", "udp")),
                }
            ),
        ),
        "readinessChecks": _t("array", items=_obj({}, extra=True)),
        "residency": _obj(
            {
                "relaunchEscalationTimeoutSeconds": NAT,
                "taskLostBehavior": _t("string", enum=("WAIT_FOREVER", "RELAUNCH_AFTER_TIMEOUT")),
            }
        ),
        "requirePorts": BOOL,
        "secrets": _obj({}, extra=_obj({"source": _t("string", min_length=1)}, ("source",))),
        "taskKillGracePeriodSeconds": NAT,
        "upgradeStrategy": _obj(
            {
                "minimumHealthCapacity": _t("number", minimum=0.0, maximum=1.0),
                "maximumOverCapacity": _t("number", minimum=0.0, maximum=1.0),
            }
        ),
        "uris": _t("array", items=_t("string", min_length=1)),
        "user": STR,
        "version": _t("string", pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$"),
        "killSelection": _t("string", enum=("YOUNGEST_FIRST", "OLDEST_FIRST")),
        "unreachableStrategy": _t("any"),
    },
    ("id",),
)


class Invalid(Exception):
    """An invalid request body: `status` 400 (JSON types) or 422 (validation), `details` as Marathon."""

    def __init__(self, status: int, details: list[dict]) -> None:
        super().__init__(details)
        self.status = status
        self.details = details

    def body(self) -> dict:
        message = "Invalid JSON" if self.status == 400 else "Object is not valid"
        return {"message": message, "details": self.details}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if isinstance(value, bool) and kind not in ("boolean",):
        return False  # JSON true is not a number
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, JSON_TYPES[kind])


def _check(value: Any, spec: dict | str, path: str, types: list, rules: list) -> None:
    """Append (path, error) pairs: type errors to `types`, the rest to `rules`."""
    if spec == "env":
        if not isinstance(value, str) and not (isinstance(value, dict) and set(value) == {"secret"}):
            rules.append((path, 'must be a string or a secret reference {"secret": <name>}'))
        return
    kind = spec["type"]
    if not _is_type(value, kind):
        types.append((path, TYPE_ERRORS[kind]))
        return
    if "enum" in spec and value not in spec["enum"]:
        rules.append((path, f"error.unknown.enum.literal ({', '.join(spec['enum'])})"))
    if "minimum" in spec and value < spec["minimum"]:
        rules.append((path, f"is less than {spec['minimum']}"))
    if "maximum" in spec and value > spec["maximum"]:
        rules.append((path, f"is greater than {spec['maximum']}"))
    if "min_length" in spec and len(value) < spec["min_length"]:
        rules.append((path, f"must have a length of at least {spec['min_length']}"))
    if "pattern" in spec and not re.search(spec["pattern"], value):
        rules.append((path, f"must fully match regular expression '{spec['pattern']}'"))
    if kind == "array":
        if len(value) < spec.get("min_items", 0):
            rules.append((path, f"must have at least {spec['min_items']} elements"))
        if "tuple" in spec:
            if len(value) > len(spec["tuple"]):
                rules.append((path, f"must have at most {len(spec['tuple'])} elements"))
            for i, (item, item_spec) in enumerate(zip(value, spec["tuple"], strict=False)):
                _check(item, item_spec, f"{path}/{i}", types, rules)
        elif "items" in spec:
            for i, item in enumerate(value):
                _check(item, spec["items"], f"{path}/{i}", types, rules)
    if kind == "object" and "props" in spec:
        for key in spec["required"]:
            if key not in value:
                rules.append((f"{path}/{key}", "error.path.missing"))
        for key, item in value.items():
            if key in spec["props"]:
                _check(item, spec["props"][key], f"{path}/{key}", types, rules)
            elif spec["extra"] is False:
                rules.append((f"{path}/{key}", "error.unknown.property"))
            elif spec["extra"] is not True:
                _check(item, spec["extra"], f"{path}/{key}", types, rules)


def _details(pairs: list[tuple[str, str]]) -> list[dict]:
    grouped: dict[str, list[str]] = {}
    for path, error in pairs:
        grouped.setdefault(path or "/", []).append(error)
    return [{"path": p, "errors": e} for p, e in grouped.items()]


def _is_int(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def semantic_errors(app: dict, update: bool) -> list[tuple[str, str]]:
    """Marathon 1.5's server-side rules (the ones validate_app.py checks)."""
    e: list[tuple[str, str]] = []
    container = app.get("container") or {}
    docker = container.get("docker") or {}
    networks = app.get("networks") or []

    app_id = app.get("id")
    if isinstance(app_id, str):
        if app_id.strip("/") == "":
            e.append(("/id", "Path must not be root"))
        if app_id.rstrip("/").split("/")[-1] in RESERVED_ID_SUFFIXES:
            reserved = ", ".join(RESERVED_ID_SUFFIXES)
            e.append(("/id", f"must not end with any of the following reserved keywords: {reserved}"))
    if update and "version" in app and set(app) - {"id", "version"}:
        e.append(("/", "The 'version' field may only be combined with the 'id' field."))

    has_cmd, has_args = bool(app.get("cmd")), bool(app.get("args"))
    has_image = bool(docker.get("image")) or bool((container.get("appc") or {}).get("image"))
    if not update and not ((has_cmd ^ has_args) or (not (has_cmd and has_args) and has_image)):
        e.append(("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."))
    if has_cmd and has_args:
        e.append(("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."))
    if isinstance(app.get("cmd"), str) and len(app["cmd"]) == 1:
        e.append(("/cmd", "must not be empty"))  # sic: Marathon requires a length > 1

    if app.get("uris") and app.get("fetch"):
        e.append(("/uris", "may not be set in conjunction with fetch"))
    if docker.get("network") and networks:
        e.append(("/", "must not specify both container.docker.network and networks"))
    if app.get("ipAddress") and networks:
        e.append(("/", "must not specify both networks and ipAddress"))
    if container.get("portMappings") and docker.get("portMappings"):
        e.append(("/container", "cannot specify both portMappings and docker.portMappings"))
    ports, pdefs = app.get("ports"), app.get("portDefinitions")
    if ports and pdefs and [p.get("port") for p in pdefs] != ports:
        e.append(("/", "cannot specify both ports and port definitions"))
    if ports:
        fixed = [p for p in ports if p != 0]
        if len(set(fixed)) != len(fixed):
            e.append(("/ports", "ports must be unique"))

    legacy_net = docker.get("network")
    if networks:
        modes = [n.get("mode", "container") for n in networks]
    elif legacy_net:
        modes = [{"BRIDGE": "container/bridge", "USER": "container", "HOST": "host", "NONE": "none"}[legacy_net]]
    elif app.get("ipAddress"):
        modes = ["container"]
    else:
        modes = ["host"]
    mappings = container.get("portMappings") or docker.get("portMappings")
    if "host" in modes and mappings:
        e.append(("/", "portMappings are not allowed with host-networking"))
    if modes != ["host"] and pdefs:
        e.append(("/", "portDefinitions are only allowed with host-networking"))
    if container.get("type", "DOCKER") == "DOCKER" and modes.count("container") > 1:
        e.append(("/networks", "may only specify a single container network when using the Docker container engine"))
    if legacy_net == "NONE":
        e.append(("/container/docker/network", "unsupported docker network type NONE"))
    if app.get("ipAddress") and docker and (app["ipAddress"].get("discovery") or {}).get("ports"):
        e.append(("/ipAddress", "ipAddress/discovery is not allowed for Docker containers"))

    for field, items in (("portMappings", mappings or []), ("portDefinitions", pdefs or [])):
        names = [p.get("name") for p in items if p.get("name")]
        if len(names) != len(set(names)):
            e.append((f"/{field}", "Port names must be unique."))

    if mappings is not None:
        n_ports = len(mappings)
    elif pdefs is not None:
        n_ports = len(pdefs)
    elif ports is not None:
        n_ports = len(ports)
    else:
        n_ports = 1  # Marathon's default: one portDefinition (host) or one portMapping (bridge)

    mesos_checks = 0
    for i, hc in enumerate(app.get("healthChecks") or []):
        proto = hc.get("protocol", "HTTP")
        if proto in MESOS_HC_PROTOCOLS and proto != "COMMAND" and not hc.get("command"):
            mesos_checks += 1
        if proto == "COMMAND" and not (hc.get("command") or {}).get("value"):
            e.append((f"/healthChecks/{i}", "COMMAND health check needs command.value"))
        if proto in MARATHON_HC_PROTOCOLS and not hc.get("command"):
            if "port" in hc and "portIndex" in hc:
                e.append((f"/healthChecks/{i}", "HealthCheck must specify either a port or a portIndex"))
            idx = hc.get("portIndex")
            if (idx is not None and not 0 <= idx < n_ports) or (idx is None and "port" not in hc and n_ports == 0):
                e.append((f"/healthChecks/{i}", PORT_INDEX_ERROR))
    if mesos_checks > 1:
        e.append(("/healthChecks", "AppDefinition can contain at most one Mesos health check"))

    for i, c in enumerate(app.get("constraints") or []):
        if not 2 <= len(c) <= 3:
            e.append((f"/constraints/{i}", "Each constraint must have either 2 or 3 fields"))
            continue
        field, op = c[0], str(c[1]).upper()
        value = c[2] if len(c) == 3 else None
        if not field:
            e.append((f"/constraints/{i}", "missing field for constraint declaration"))
        elif op == "UNIQUE" and value:
            e.append((f"/constraints/{i}", "UNIQUE does not accept a value"))
        elif op == "GROUP_BY" and value is not None and not _is_int(value):
            e.append((f"/constraints/{i}", "GROUP BY must define an integer value or else no value at all"))
        elif op == "MAX_PER" and not _is_int(value):
            e.append((f"/constraints/{i}", "MAX_PER requires an integer value"))
        elif op in ("LIKE", "UNLIKE"):
            if not value:
                e.append((f"/constraints/{i}", "LIKE and UNLIKE require a non-empty, regular expression value"))
            else:
                try:
                    re.compile(value)
                except re.error as ex:
                    e.append((f"/constraints/{i}", f"is not a valid regular expression ({ex})"))

    labels = app.get("labels") or {}
    if labels.get("MARATHON_SINGLE_INSTANCE_APP") == "true":
        if app.get("instances", 1) > 1:
            e.append(("/", "Single instance app may only have one instance"))
        strategy = app.get("upgradeStrategy") or {}
        if strategy and (strategy.get("minimumHealthCapacity", 0) != 0 or strategy.get("maximumOverCapacity", 0) != 0):
            e.append(
                ("/upgradeStrategy", "single instance apps need minimumHealthCapacity 0 and maximumOverCapacity 0")
            )
    if isinstance(app.get("cpus"), int | float) and app["cpus"] < 0.001:
        e.append(("/cpus", "got " + str(app["cpus"]) + ", expected 0.001 or more"))
    return e


def strip_read_only(body: dict) -> dict:
    """The body without the fields a GET adds, which Marathon ignores on input."""
    return {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}


def validate(body: Any, update: bool = False) -> dict:
    """Check a request body; return it without read-only fields, or raise Invalid (400/422)."""
    if not isinstance(body, dict):
        raise Invalid(400, [{"path": "/", "errors": ["error.expected.jsobject"]}])
    app = strip_read_only(body)
    spec = dict(APP_SPEC, required=()) if update else APP_SPEC
    types: list[tuple[str, str]] = []
    rules: list[tuple[str, str]] = []
    _check(app, spec, "", types, rules)
    if types:
        raise Invalid(400, _details(types))
    if rules:
        # The schema is checked first: the Scala rules assume well-formed nested objects.
        raise Invalid(422, _details(rules))
    errors = semantic_errors(app, update)
    if errors:
        raise Invalid(422, _details(errors))
    return app


def normalize_id(app_id: str) -> str:
    """Absolute, without a trailing slash: "app-test/" -> "/app-test"."""
    return "/" + app_id.strip("/")


HEALTH_CHECK_DEFAULTS = {
    "gracePeriodSeconds": 300,
    "intervalSeconds": 60,
    "timeoutSeconds": 20,
    "maxConsecutiveFailures": 3,
    "delaySeconds": 15,
    "ignoreHttp1xx": False,
}
APP_DEFAULTS: dict[str, Any] = {
    "instances": 1,
    "cpus": 1.0,
    "mem": 128.0,
    "disk": 0.0,
    "gpus": 0,
    "cmd": None,
    "args": None,
    "user": None,
    "executor": "",
    "env": {},
    "labels": {},
    "constraints": [],
    "healthChecks": [],
    "readinessChecks": [],
    "dependencies": [],
    "fetch": [],
    "secrets": {},
    "acceptedResourceRoles": None,
    "requirePorts": False,
    "backoffSeconds": 1,
    "backoffFactor": 1.15,
    "maxLaunchDelaySeconds": 3600,
    "upgradeStrategy": {"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0},
    "killSelection": "YOUNGEST_FIRST",
    "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
    "taskKillGracePeriodSeconds": None,
}


def normalize(body: dict) -> dict:
    """Marathon 1.5's AppNormalization of the fields a body gives (legacy docker networking).

    docker.network and docker.portMappings become networks and container.portMappings, so a
    partial update in either form merges cleanly over a stored app.
    """
    app = copy.deepcopy(body)
    if "id" in app:
        app["id"] = normalize_id(app["id"])
    container = app.get("container")
    if isinstance(container, dict):
        container.setdefault("type", "DOCKER")
        container.setdefault("volumes", [])
        docker = container.get("docker")
        if isinstance(docker, dict):
            network = docker.pop("network", None)
            if network and not app.get("networks"):
                mode = {"BRIDGE": "container/bridge", "USER": "container", "HOST": "host"}[network]
                app["networks"] = [{"mode": mode}]
            if "portMappings" in docker:
                container["portMappings"] = docker.pop("portMappings")
            docker.setdefault("forcePullImage", False)
            docker.setdefault("privileged", False)
            docker.setdefault("parameters", [])
        bridge = any(n.get("mode") == "container/bridge" for n in app.get("networks") or [])
        if bridge and "portMappings" not in container:
            # BRIDGE without mappings gets one default mapping, as in Marathon.
            container["portMappings"] = [{"containerPort": 0, "hostPort": 0, "servicePort": 0, "protocol": "tcp"}]
        for mapping in container.get("portMappings") or []:
            mapping.setdefault("containerPort", 0)
            mapping.setdefault("hostPort", 0)
            mapping.setdefault("servicePort", 0)
            mapping.setdefault("protocol", "tcp")
    if "uris" in app:
        fetch = [{"uri": uri, "extract": True, "executable": False, "cache": False} for uri in app.pop("uris")]
        app.setdefault("fetch", fetch)
    if "ports" in app and "portDefinitions" not in app:
        app["portDefinitions"] = [{"port": p, "protocol": "tcp"} for p in app.pop("ports")]
    for hc in app.get("healthChecks") or []:
        for key, value in HEALTH_CHECK_DEFAULTS.items():
            hc.setdefault(key, value)
        hc.setdefault("protocol", "HTTP")
        if hc["protocol"] in ("HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS"):
            hc.setdefault("path", "/")
        if hc["protocol"] in MARATHON_HC_PROTOCOLS and "port" not in hc:
            hc.setdefault("portIndex", 0)
    if "upgradeStrategy" in app:
        app["upgradeStrategy"] = {**APP_DEFAULTS["upgradeStrategy"], **app["upgradeStrategy"]}
    if "constraints" in app:
        app["constraints"] = [[c[0], str(c[1]).upper(), *c[2:]] for c in app["constraints"]]
    return app


def with_defaults(app: dict) -> dict:
    """A complete app: every field Marathon fills in when a body leaves it out."""
    full = {**copy.deepcopy(APP_DEFAULTS), **app}
    if not full.get("networks"):
        full["networks"] = [{"mode": "host"}]
    if full["networks"] == [{"mode": "host"}] and "portDefinitions" not in full:
        full["portDefinitions"] = [{"port": 0, "protocol": "tcp", "name": "default"}]
    full.setdefault("container", None)
    return full


def host_port_specs(app: dict) -> list[dict]:
    """The ports a task needs on its agent, in PORT0.. order: {hostPort, containerPort, name, protocol}."""
    mappings = (app.get("container") or {}).get("portMappings")
    if mappings is not None and any(n.get("mode") == "container/bridge" for n in app.get("networks") or []):
        return [
            {
                "hostPort": m.get("hostPort", 0),
                "containerPort": m.get("containerPort", 0),
                "name": m.get("name"),
                "protocol": m.get("protocol", "tcp"),
            }
            for m in mappings
            if m.get("hostPort") is not None
        ]
    definitions = app.get("portDefinitions") or []
    return [
        {
            "hostPort": p.get("port", 0),
            "containerPort": None,
            "name": p.get("name"),
            "protocol": p.get("protocol", "tcp"),
        }
        for p in definitions
    ]
