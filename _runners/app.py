"""
Deploy the demo app (Notejam) to an environment, and keep it there: build, deploy, scale,
roll back, status.

A deploy is a rolling upgrade through Marathon, gated by health: it succeeds only when
Marathon runs N healthy instances of the new version, Consul passes the same N, and the
load balancers serve the new version through the VIP. Otherwise it rolls back to the
version that ran before and exits non-zero saying why. Input is checked before anything
changes: an unknown environment, a missing image tag, an instance count that does not fit,
an unreachable Marathon all stop the run with nothing applied.

The work is done by execution modules on the master (``apps``, ``marathon``,
``consul_health``, ``mesos``) and on the image builder (``registry``, ``images.app``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from typing import Any

import salt.utils.files
from salt.exceptions import CommandExecutionError, SaltInvocationError

log = logging.getLogger(__name__)

POLL_SECONDS = 1
# Answers through the VIP that must all come from the new version before a deploy is done.
LB_SAMPLES = 10
# A new version whose tasks failed this many times is not waited for any longer.
FAILURES_BEFORE_GIVING_UP = 3


def _progress(message: str) -> None:
    __utils__["platform_runner.progress"](message, globals().get("__jid_event__"))


def _fail(result: dict[str, Any], comment: str) -> dict[str, Any]:
    return __utils__["platform_runner.fail"](__context__, result, comment)


def _cmd(fun: str, *args: Any, **kwargs: Any) -> Any:
    """An execution module function, run here on the master (the loader is built once per run)."""
    return __utils__["platform_runner.modules"](__opts__, __context__)[fun](*args, **kwargs)


class Refused(Exception):
    """Input or platform state that stops a command before it changes anything."""


# Docker's tag grammar. A version becomes an image tag, and reaches shell commands and URLs.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def _tag(version: Any) -> str:
    version = str(version)
    if not TAG.fullmatch(version):
        raise Refused(
            f"version {version!r} is not an image tag: use letters, digits and _ . - (at most 128, "
            "not starting with . or -), e.g. version=1.1.0; nothing was changed"
        )
    return version


def _pillar() -> dict[str, Any]:
    """The master's pillar, once the topology validates, with the site's secrets."""
    verdict = __salt__["cluster.validate"]()
    if verdict.get("retcode"):
        raise Refused(verdict["comment"])
    return _with_site_secrets(__salt__["pillar.show_pillar"]())


def _with_site_secrets(pillar: dict[str, Any]) -> dict[str, Any]:
    """
    Every secret from the site's store at its pillar key: each environment's app secret, which
    no node receives (pillar/secrets.sls), and the credentials Marathon and Mesos ask of us.
    """
    try:
        store = __utils__["site_secrets.load"](__opts__["site_secrets_file"])
        return __utils__["site_secrets.for_runners"](pillar, store)
    except (KeyError, SaltInvocationError) as exc:
        raise Refused(str(exc)) from exc


def _cluster_ca(pillar: dict[str, Any]) -> str:
    """
    A file holding the cluster CA's certificate, against which the app's HTTPS answers and
    Consul's API are checked: taken from the CA node's mine entry only, with the pinned key,
    as every node takes it, once per run, into the master's cache directory.
    """
    if "app.cluster_ca" not in __context__:
        node = _cmd("topology.ca_node", pillar["platform"])
        key = _cmd("topology.settings", "ca", pillar)["mine_key"]
        pem = __salt__["mine.get"](node, key, tgt_type="list").get(node) if node else None
        if not pem:
            raise Refused(f"no cluster CA certificate in the mine of {node or 'a CA node'}: run salt-run cluster.up")
        pinned = __utils__["site_secrets.load_pins"](__opts__["site_secrets_file"]).get("ca")
        if _cmd("cluster_ca.key_pin", pem) != pinned:
            raise Refused(
                f"the CA certificate in the mine of {node} does not have the pinned key"
                f"{' (none yet)' if not pinned else ''}: see `salt-run site.pin_ca`"
            )
        path = os.path.join(__opts__["cachedir"], "platform-ca.crt")
        with salt.utils.files.fopen(path, "w") as out:
            out.write(pem)
        __context__["app.cluster_ca"] = path
    return __context__["app.cluster_ca"]


def _env_agents(pillar: dict[str, Any], env: str) -> list[str]:
    platform = pillar["platform"]
    known = platform.get("environments") or []
    if env not in known:
        raise Refused(
            f"unknown environment {env!r}: pillar platform:environments has {', '.join(known) or 'none'}. "
            "Use one of those, or add the environment and give it agents (platform:nodes, env:)."
        )
    agents = sorted(_cmd("topology.nodes", "mesos-agent", platform=platform))
    in_env = [name for name in agents if platform["nodes"][name].get("env") == env]
    if not in_env:
        raise Refused(f"environment {env!r} has no Mesos agents: give some mesos-agent nodes `env: {env}` in pillar")
    return in_env


def _instances(app: dict[str, Any], env: str, instances: Any) -> int:
    if instances is None:
        instances = (app.get("environments") or {}).get(env, {}).get("instances", 1)
    try:
        count = int(instances)
    except (TypeError, ValueError):
        raise Refused(f"instances={instances!r} is not a number") from None
    if count < 1:
        raise Refused(f"instances={count}: an environment runs at least 1 instance")
    return count


def _check_fits(pillar: dict[str, Any], app: dict[str, Any], env: str, count: int) -> None:
    """During a rolling upgrade up to twice the instances run: they must fit the env's agents."""
    agents = [a for a in _cmd("mesos.agents", pillar=pillar) if a["attributes"].get("env") == env]
    if not agents:
        raise Refused(f"Mesos reports no active agent with env:{env}; check `salt-run cluster.status`")
    peak = count * 2
    for resource, unit in (("mem", " MB"), ("cpus", " cpus")):
        offered = sum(float(a["resources"].get(resource, 0)) for a in agents)
        needed = peak * float(app[resource])
        if needed > offered + 1e-9:
            fit = math.floor(offered / (2 * float(app[resource])))
            raise Refused(
                f"instances={count} does not fit environment {env}: a rolling deploy runs up to {peak} instances "
                f"x {app[resource]}{unit} = {needed:g}{unit}, its agents "
                f"({', '.join(sorted(a['hostname'] for a in agents))}) offer {offered:g}{unit}. "
                f"Use instances <= {fit}, or lower app:{resource} in pillar."
            )


def _builders(pillar: dict[str, Any]) -> list[str]:
    builders = sorted(_cmd("topology.nodes", "image-builder", platform=pillar["platform"]))
    if not builders:
        raise Refused("no node has the image-builder role in pillar platform:nodes")
    return builders


def _digest(pillar: dict[str, Any], version: str) -> str:
    """What the registry holds under app:<version>, asked through the image builder; refused when nothing."""
    builder = _builders(pillar)[0]
    client = __utils__["platform_runner.local_client"](__opts__)
    arg = [_cmd("apps.repository", pillar=pillar), version]

    def ask() -> dict[str, Any]:
        return client.cmd(builder, "registry.digest", arg, full_return=True, timeout=30).get(builder) or {}

    answer = ask()
    if answer.get("retcode") != 0:  # registry.digest is ours: sync it once, then ask again
        client.cmd(builder, "saltutil.sync_modules", timeout=60)
        answer = ask()
    if answer.get("retcode") != 0:
        why = answer.get("ret") or "no answer"
        raise Refused(f"could not ask the registry through {builder}: {why}; nothing was deployed")
    digest = answer.get("ret")
    if not digest:
        raise Refused(
            f"app:{version} is not in the registry; nothing was deployed. Build it first: "
            f"salt-run app.build version={version}"
        )
    return digest


def _build(pillar: dict[str, Any], version: str) -> list[str]:
    """Apply images.app for ``version`` on the image builder; the failures (none = built or present)."""
    builder = _builders(pillar)[0]
    _progress(f"building app:{version} on {builder} (nothing to do when the registry has it)")
    started = time.monotonic()
    client = __utils__["platform_runner.local_client"](__opts__)
    replies = client.cmd(
        builder,
        "state.apply",
        ["images.app"],
        kwarg={"pillar": {"app": {"version": version}}},
        timeout=int(__opts__.get("platform_step_timeout", 1800)),
    )
    node_return = replies.get(builder)
    failures = [f"{builder}: {failure}" for failure in __utils__["platform_runner.state_failures"](node_return)]
    if not isinstance(node_return, dict):
        return failures
    built = any(chunk.get("changes") for chunk in node_return.values() if isinstance(chunk, dict))
    _progress(
        f"app:{version} {'built and pushed' if built else 'already in the registry'} "
        f"({time.monotonic() - started:.0f}s)"
        if not failures
        else f"building app:{version} FAILED"
    )
    return failures


def build(version: str | None = None) -> dict[str, Any]:
    """
    Build the app image from salt://app/image as ``app:<version>`` (pillar app:version by
    default) on the image builder and push it to the private registry. A tag the registry
    already holds is neither rebuilt nor pushed.

    CLI Example:

    .. code-block:: bash

        salt-run app.build
        salt-run app.build version=1.1.0
    """
    result: dict[str, Any] = {"result": True, "retcode": 0}
    try:
        pillar = _pillar()
        version = _tag(version or _cmd("apps.settings", pillar=pillar)["version"])
        result["version"] = version
        failures = _build(pillar, version)
    except (Refused, CommandExecutionError) as exc:
        return _fail(result, str(exc))
    if failures:
        return _fail(result, f"app:{version} was not built:\n  " + "\n  ".join(failures))
    result["comment"] = f"app:{version} is in the registry"
    return result


# ---------------------------------------------------------------- following Marathon


def _current_tasks(app: dict[str, Any]) -> list[dict[str, Any]]:
    """Tasks launched from the app's current configuration (a scale keeps older tasks' version)."""
    config = (app.get("versionInfo") or {}).get("lastConfigChangeAt") or app.get("version", "")
    return [task for task in app.get("tasks", []) if task.get("version", "") >= config]


def _healthy(task: dict[str, Any]) -> bool:
    results = task.get("healthCheckResults") or []
    return task.get("state", "TASK_RUNNING") == "TASK_RUNNING" and bool(results) and all(r["alive"] for r in results)


def _put(app_id: str, body: dict[str, Any], pillar: dict[str, Any], deadline: float) -> dict[str, Any]:
    """PUT the app; a 409 (a deployment holds it) is waited out until ``deadline``, never forced."""
    while True:
        try:
            return _cmd("marathon.put_app", app_id, body, pillar=pillar)
        except CommandExecutionError as exc:
            info = getattr(exc, "info", None) or {}
            if info.get("status") != 409:
                raise
            holding = [dep.get("id") for dep in (info.get("body") or {}).get("deployments", [])]
            if time.monotonic() >= deadline:
                raise Refused(
                    f"{app_id} is locked by deployment {', '.join(holding)}, still running; nothing was changed. "
                    f"Wait for it (salt-run app.status), or cancel it on purpose: "
                    f"curl -X DELETE {_cmd('marathon.urls', pillar=pillar)[0]}/v2/deployments/{holding[0]}"
                ) from None
            _progress(f"{app_id} is held by deployment {', '.join(holding)}: waiting for it to finish")
            time.sleep(POLL_SECONDS * 2)


def _follow(app_id: str, deployment_id: str, pillar: dict[str, Any], deadline: float) -> str | None:
    """Wait for the deployment to finish, with progress; why it did not (None when it did)."""
    started, last_line, failures_seen = time.monotonic(), "", set()
    while True:
        running = [dep["id"] for dep in _cmd("marathon.deployments", app_id, pillar=pillar)]
        app = _cmd("marathon.app", app_id, pillar=pillar) or {}
        current = _current_tasks(app)
        line = (
            f"  {app_id}: {sum(map(_healthy, current))}/{app.get('instances', 0)} healthy on the new configuration, "
            f"{len(app.get('tasks', [])) - len(current)} old tasks left"
        )
        if line != last_line:
            _progress(f"{line} ({time.monotonic() - started:.0f}s)")
            last_line = line
        if deployment_id not in running:
            return None
        failure = app.get("lastTaskFailure") or {}
        if failure.get("version", "") >= app.get("version", "~"):
            failures_seen.add(failure.get("taskId"))
            if len(failures_seen) >= FAILURES_BEFORE_GIVING_UP:
                return (
                    f"{len(failures_seen)} tasks of the new version failed "
                    f"(last on {failure.get('host')}: {failure.get('state')} {failure.get('message', '').strip()})"
                )
        if time.monotonic() >= deadline:
            healthy = sum(map(_healthy, current))
            return f"deployment {deployment_id} did not finish in time: {healthy}/{app.get('instances')} healthy"
        time.sleep(POLL_SECONDS)


def _endpoints(app: dict[str, Any], platform: dict[str, Any]) -> set[tuple[str, int]]:
    """(ip, host port) of each current task; Marathon names agents by hostname, Consul by ip."""
    ips = {}
    for name, node in platform["nodes"].items():
        ips[name] = node["ip"]
        ips[f"{name}.{platform.get('domain', '')}"] = node["ip"]
    tasks = [task for task in _current_tasks(app) if task.get("ports")]
    return {(ips.get(task["host"], task["host"]), task["ports"][0]) for task in tasks}


def _served(
    env: str, version: str, count: int, pillar: dict[str, Any], deadline: float, app_id: str
) -> tuple[bool, str]:
    """Marathon, Consul and the load balancers all agree on ``count`` instances of ``version``."""
    app_settings = _cmd("apps.settings", pillar=pillar)
    last_line, detail = "", ""
    while True:
        app = _cmd("marathon.app", app_id, pillar=pillar) or {}
        current = _current_tasks(app)
        healthy = sum(map(_healthy, current))
        in_marathon = _endpoints(app, pillar["platform"])
        passing = {
            (entry["address"], entry["port"])
            for entry in _cmd(
                "consul_health.passing", app_settings["service"], env, pillar=pillar, ca=_cluster_ca(pillar)
            )
        }
        answers = _cmd("apps.served", env, LB_SAMPLES, pillar=pillar, ca=_cluster_ca(pillar))
        versions = sorted({str(a["version"]) for a in answers if a["status"] == 200})
        bad = [a for a in answers if a["status"] != 200]
        detail = (
            f"Marathon {healthy}/{count} healthy ({len(app.get('tasks', []))} tasks), "
            f"Consul {len(passing & in_marathon)}/{count} passing ({len(passing)} in all), "
            f"LB serves {', '.join(versions) or 'nothing'}"
            + (f", {len(bad)}/{len(answers)} failed answers" if bad else "")
        )
        if detail != last_line:
            _progress(f"  app-{env}: {detail}")
            last_line = detail
        done = (
            healthy == count
            and len(app.get("tasks", [])) == count
            and passing == in_marathon
            and len(passing) == count
            and not bad
            and versions == [version]
        )
        if done:
            return True, detail
        if time.monotonic() >= deadline:
            return False, f"not served in time: {detail}"
        time.sleep(POLL_SECONDS)


def _roll_out(
    env: str, body: dict[str, Any], version: str, count: int, pillar: dict[str, Any], deadline: float
) -> str | None:
    """PUT ``body``, follow its deployment, check it is served; why it failed (None when it did not)."""
    app_id = _cmd("apps.app_id", env)
    if "container" in body:
        problems = _cmd("apps.confinement_problems", body, env, pillar=pillar)
        if problems:
            raise Refused(f"{app_id} would not be confined; nothing was submitted:\n  " + "\n  ".join(problems))
    reply = _put(app_id, body, pillar, deadline)
    _progress(f"{app_id}: deployment {reply.get('deploymentId')} started (Marathon version {reply.get('version')})")
    why = _follow(app_id, reply["deploymentId"], pillar, deadline)
    if why is None:
        served, detail = _served(env, version, count, pillar, deadline, app_id)
        why = None if served else detail
    return why


def _roll_back(env: str, previous: dict[str, Any] | None, pillar: dict[str, Any], timeout: int) -> str:
    """Back to ``previous`` (Marathon's stored app), forcing out the failed deployment; what happened."""
    app_id = _cmd("apps.app_id", env)
    if previous is None:
        _progress(f"{app_id} had no earlier version: deleting it")
        _cmd("marathon.delete_app", app_id, pillar=pillar)
        return f"{app_id} had no earlier version and was deleted"
    old_version = _cmd("apps.version_of", previous)
    _progress(
        f"rolling back {app_id} to app:{old_version} (Marathon version {previous['version']}), "
        "replacing the failed deployment"
    )
    reply = _cmd("marathon.put_app", app_id, {"version": previous["version"]}, pillar=pillar, force=True)
    deadline = time.monotonic() + timeout
    why = _follow(app_id, reply["deploymentId"], pillar, deadline)
    if why is None:
        served, detail = _served(env, old_version, int(previous["instances"]), pillar, deadline, app_id)
        why = None if served else detail
    if why:
        return f"the rollback to app:{old_version} did not complete either: {why}"
    return f"rolled back to app:{old_version}, which serves again"


def _image(app: dict[str, Any]) -> str:
    return ((app.get("container") or {}).get("docker") or {}).get("image") or ""


def _docker_parameters(app: dict[str, Any]) -> list:
    return ((app.get("container") or {}).get("docker") or {}).get("parameters") or []


def _same_app(current: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """The running app already is what the deploy would make it (image, size, env, placement, hardening)."""
    if current is None:
        return False
    fields = ("instances", "cpus", "mem", "env", "labels", "constraints")
    return (
        _image(current) == _image(wanted)
        and all(current.get(field) == wanted[field] for field in fields)
        and _docker_parameters(current) == _docker_parameters(wanted)
        and (current.get("container") or {}).get("volumes") == wanted["container"]["volumes"]
    )


def deploy(
    env: str | None = None,
    version: str | None = None,
    instances: int | None = None,
    timeout: int | None = None,
    pillar: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """
    Roll the app out to one environment, health-gated, and roll back if it is not served.

    Without ``version`` the image of pillar app:version is built first (nothing is built
    when the registry has it); a given ``version`` must already be in the registry
    (``salt-run app.build version=…``). Marathon runs the image by the digest the registry
    holds under that tag. ``instances`` defaults to pillar app:environments:<env>:instances;
    ``timeout`` (seconds) to app:deploy_timeout. ``pillar`` is for ``cluster.up``, which hands
    over the pillar it has validated.

    CLI Example:

    .. code-block:: bash

        salt-run app.deploy env=test
        salt-run app.deploy env=production version=1.1.0 instances=3
    """
    return _deploy(env, version, instances, timeout, pillar)


def _deploy(
    env: str | None,
    version: str | None,
    instances: int | None,
    timeout: int | None,
    pillar: dict[str, Any] | None,
    digest: str | None = None,
) -> dict[str, Any]:
    """app.deploy; ``digest`` keeps an image already running (redeploy, rollback) instead of asking the registry."""
    result: dict[str, Any] = {"result": True, "retcode": 0, "env": env}
    started = time.monotonic()
    try:
        if not env:
            raise Refused("say which environment: salt-run app.deploy env=<env>")
        pillar = _with_site_secrets(pillar) if pillar else _pillar()
        app = _cmd("apps.settings", pillar=pillar)
        _env_agents(pillar, env)
        count = _instances(app, env, instances)
        timeout = int(timeout or app["deploy_timeout"])
        _check_fits(pillar, app, env, count)
        _cluster_ca(pillar)  # the served check trusts only the pinned CA: refused before anything changes
        app_id = _cmd("apps.app_id", env)
        current = _cmd("marathon.app", app_id, pillar=pillar)
        if version is None:
            version = _tag(app["version"])
            failures = _build(pillar, version)
            if failures:
                raise Refused(f"app:{version} could not be built; nothing was deployed:\n  " + "\n  ".join(failures))
        version = _tag(version)
        # By content: a tag pushed over later changes nothing that runs.
        digest = digest or _digest(pillar, version)
    except (Refused, CommandExecutionError) as exc:
        return _fail(result, str(exc))

    result.update(version=version, instances=count, digest=digest)
    wanted = _cmd("apps.definition", env, version, count, pillar=pillar, digest=digest)
    previous_version = _cmd("apps.version_of", current) if current else None
    deadline = time.monotonic() + timeout
    try:
        # An app changed by hand past its confinement (e.g. made privileged) is never "the same".
        if _same_app(current, wanted) and not _cmd("apps.confinement_problems", current, env, pillar=pillar):
            _progress(f"{app_id} already runs app:{version} x{count}: checking it is served")
            served, detail = _served(env, version, count, pillar, deadline, app_id)
            why = None if served else detail
        else:
            _progress(f"deploying app:{version} x{count} to {env} (was {previous_version or 'not deployed'})")
            why = _roll_out(env, wanted, version, count, pillar, deadline)
            if why:
                outcome = _roll_back(env, current, pillar, timeout)
                return _fail(result, f"deploy of app:{version} to {env} failed: {why}; {outcome}")
    except (Refused, CommandExecutionError) as exc:
        return _fail(result, f"deploy of app:{version} to {env} stopped: {exc}")
    if why:
        return _fail(result, f"app:{version} runs in {env} but is not served as expected: {why}")
    result["seconds"] = round(time.monotonic() - started, 1)
    result["comment"] = f"app:{version} x{count} serves app-{env} ({result['seconds']}s)"
    return result


def redeploy(env: str | None = None, timeout: int | None = None) -> dict[str, Any]:
    """
    Deploy the version that runs in ``env`` again, with today's pillar and secrets: how a
    rotated app secret (``salt-run site.secrets rotate=app_secret_key/<env>``) reaches the
    instances. Nothing to do where the app is not deployed.

    CLI Example:

    .. code-block:: bash

        salt-run app.redeploy env=test
    """
    try:
        if not env:
            raise Refused("say which environment: salt-run app.redeploy env=<env>")
        pillar = _pillar()
        _env_agents(pillar, env)
        current = _cmd("marathon.app", _cmd("apps.app_id", env), pillar=pillar)
    except (Refused, CommandExecutionError) as exc:
        return _fail({"result": True, "retcode": 0, "env": env}, str(exc))
    if current is None:
        return {"result": True, "retcode": 0, "env": env, "comment": f"app-{env} is not deployed: nothing to do"}
    # The very image it runs, by digest, whatever its tag names today.
    version, digest = _cmd("apps.version_of", current), _cmd("apps.digest_of", current)
    return _deploy(env, version, current.get("instances"), timeout, None, digest)


def scale(env: str | None = None, instances: int | None = None, timeout: int | None = None) -> dict[str, Any]:
    """
    Change the number of instances of the app in ``env``, keeping its version; done when
    Marathon, Consul and the load balancers all count ``instances``.

    CLI Example:

    .. code-block:: bash

        salt-run app.scale env=test instances=5
    """
    result: dict[str, Any] = {"result": True, "retcode": 0, "env": env}
    started = time.monotonic()
    try:
        if not env or instances is None:
            raise Refused("say which environment and how many: salt-run app.scale env=<env> instances=<N>")
        pillar = _pillar()
        app = _cmd("apps.settings", pillar=pillar)
        _env_agents(pillar, env)
        count = _instances(app, env, instances)
        _check_fits(pillar, app, env, count)
        app_id = _cmd("apps.app_id", env)
        current = _cmd("marathon.app", app_id, pillar=pillar)
        if current is None:
            raise Refused(f"{app_id} is not deployed: salt-run app.deploy env={env} instances={count}")
        version = _cmd("apps.version_of", current)
        _progress(f"scaling {app_id} (app:{version}) from {current['instances']} to {count} instances")
        deadline = time.monotonic() + int(timeout or app["deploy_timeout"])
        why = _roll_out(env, {"instances": count}, version, count, pillar, deadline)
    except (Refused, CommandExecutionError) as exc:
        return _fail(result, str(exc))
    if why:
        return _fail(result, f"scaling app-{env} to {count} did not complete: {why}")
    result.update(version=version, instances=count, seconds=round(time.monotonic() - started, 1))
    result["comment"] = f"app-{env} runs {count} instances of app:{version} ({result['seconds']}s)"
    return result


def rollback(env: str | None = None, version: str | None = None, timeout: int | None = None) -> dict[str, Any]:
    """
    Put the app in ``env`` back on the image it ran before the current one (or on image tag
    ``version``), from the versions Marathon keeps; a health-gated rolling deploy like any.

    CLI Example:

    .. code-block:: bash

        salt-run app.rollback env=test
        salt-run app.rollback env=test version=1.0.0
    """
    result: dict[str, Any] = {"result": True, "retcode": 0, "env": env}
    started = time.monotonic()
    try:
        if not env:
            raise Refused("say which environment: salt-run app.rollback env=<env>")
        pillar = _pillar()
        app = _cmd("apps.settings", pillar=pillar)
        _env_agents(pillar, env)
        app_id = _cmd("apps.app_id", env)
        current = _cmd("marathon.app", app_id, pillar=pillar)
        if current is None:
            raise Refused(f"{app_id} is not deployed: nothing to roll back")
        running = _cmd("apps.version_of", current)
        target = None
        for stamp in _cmd("marathon.versions", app_id, pillar=pillar):
            stored = _cmd("marathon.version", app_id, stamp, pillar=pillar)
            tag = _cmd("apps.version_of", stored)
            if (version is None and tag != running) or (version is not None and tag == str(version)):
                target = stored
                break
        if target is None:
            wanted = f"app:{version}" if version else f"an image other than app:{running}"
            raise Refused(f"Marathon keeps no version of {app_id} with {wanted}; nothing was changed")
        tag, count = _cmd("apps.version_of", target), int(target["instances"])
        _progress(f"rolling {app_id} back from app:{running} to app:{tag} (Marathon version {target['version']})")
        deadline = time.monotonic() + int(timeout or app["deploy_timeout"])
        # Today's definition with the older image (the content it ran, by digest), not Marathon's
        # stored copy: that holds the secrets of its day, which a rotation since may have replaced.
        digest = _cmd("apps.digest_of", target) or _digest(pillar, tag)
        body = _cmd("apps.definition", env, tag, count, pillar=pillar, digest=digest)
        why = _roll_out(env, body, tag, count, pillar, deadline)
    except (Refused, CommandExecutionError) as exc:
        return _fail(result, str(exc))
    if why:
        return _fail(result, f"rollback of app-{env} to app:{tag} did not complete: {why}")
    result.update(version=tag, instances=count, seconds=round(time.monotonic() - started, 1))
    result["comment"] = f"app-{env} rolled back to app:{tag} x{count} ({result['seconds']}s)"
    return result


def status(env: str | None = None) -> dict[str, Any]:
    """
    Per environment: the image tag Marathon runs, its instances (healthy / running /
    staged), running deployments, Consul's passing instances and what the load balancers
    serve through the VIP. Exits non-zero when an environment is not fully served.

    CLI Example:

    .. code-block:: bash

        salt-run app.status
        salt-run app.status env=test --out=json
    """
    try:
        pillar = _pillar()
        app_settings = _cmd("apps.settings", pillar=pillar)
        envs = [env] if env else list(pillar["platform"].get("environments") or [])
        for name in envs:
            _env_agents(pillar, name)
        ca = _cluster_ca(pillar)
    except (Refused, CommandExecutionError) as exc:
        return _fail({"rows": []}, str(exc))
    rows = []
    for name in envs:
        app_id = _cmd("apps.app_id", name)
        row: dict[str, Any] = {"env": name, "app": app_id}
        try:
            app = _cmd("marathon.app", app_id, pillar=pillar)
            passing = _cmd("consul_health.passing", app_settings["service"], name, pillar=pillar, ca=ca)
        except CommandExecutionError as exc:
            row.update(healthy=False, problem=str(exc))
            rows.append(row)
            continue
        answers = _cmd("apps.served", name, LB_SAMPLES, pillar=pillar, ca=ca)
        served = [a for a in answers if a["status"] == 200]
        row.update(
            version=_cmd("apps.version_of", app) if app else None,
            instances=app["instances"] if app else 0,
            tasks_healthy=app["tasksHealthy"] if app else 0,
            tasks_running=app["tasksRunning"] if app else 0,
            tasks_staged=app["tasksStaged"] if app else 0,
            deployments=[dep["id"] for dep in app["deployments"]] if app else [],
            consul_passing=len(passing),
            lb_versions=sorted({str(a["version"]) for a in served}),
            lb_hosts=sorted({str(a["host"]) for a in served}),
            lb_failed=len(answers) - len(served),
        )
        row["healthy"] = bool(app) and (
            row["tasks_healthy"] == row["instances"] == row["consul_passing"]
            and not row["lb_failed"]
            and row["lb_versions"] == [row["version"]]
        )
        rows.append(row)
    healthy = all(row["healthy"] for row in rows)
    if not healthy:
        __context__["retcode"] = 1
    return {"outputter": "app_status", "data": {"result": healthy, "retcode": 0 if healthy else 1, "rows": rows}}
