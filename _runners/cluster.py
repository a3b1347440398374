"""
Bring the whole platform up in order, and tell what state it is in.

This module hides Salt's built-in ``cluster`` runner on purpose: ``salt-run cluster.up``
is the platform's entry point.

The order of :data:`STEPS` is the order of design.md: nothing can pull before the
registry serves, agents need the masters' ZooKeeper and the NFS export, load balancers
need their image. Every step runs in parallel across its nodes; the first failure stops
the run and names the step, the node and the failing states.
"""

from __future__ import annotations

import datetime
import fnmatch
import logging
import time
from typing import Any, NamedTuple

from salt.exceptions import SaltInvocationError

log = logging.getLogger(__name__)

# Every remaining node: a node whose roles no earlier highstate step names.
ANY_REMAINING = "*"


# A NamedTuple, not a dataclass: Salt's loader does not register runner modules in
# sys.modules, which dataclasses need.
class Step(NamedTuple):
    """One step of ``cluster.up``.

    ``action`` is ``apply`` (highstate, or ``sls`` when given, on the nodes with any of
    ``roles``), ``artifacts`` (build binaries on the master), ``verify`` (every node's
    services answer) or ``deploy`` (the app to every environment, with ``app.deploy``).
    A step that ``needs`` a pillar key is skipped where pillar has none (a site without the
    demo app).
    """

    name: str
    description: str
    roles: tuple[str, ...] = ()
    sls: str = ""
    action: str = "apply"
    needs: str = ""


STEPS: tuple[Step, ...] = (
    Step("artifacts", "build the Go programs pinned in pillar (consul-template)", action="artifacts"),
    Step("registry", "cluster CA and private registry", roles=("registry",)),
    Step("base-images", "base and registrator images", roles=("image-builder",), sls="images.base,images.registrator"),
    Step(
        "masters",
        "ZooKeeper, Consul servers, Mesos masters, Marathon",
        roles=("zookeeper", "consul-server", "mesos-master", "marathon"),
    ),
    Step("nfs-server", "the agent that exports the shared storage", roles=("nfs-server",)),
    Step("agents", "the other Mesos agents (they mount the export)", roles=("mesos-agent", "nfs-client")),
    Step("lb-image", "nginx + consul-template image", roles=("image-builder",), sls="images.lb"),
    Step("lbs", "nginx load balancers and keepalived", roles=("lb", "keepalived")),
    Step("others", "nodes no earlier step covered", roles=(ANY_REMAINING,)),
    Step("app-image", "the app's image, tag app:version", roles=("image-builder",), sls="images.app", needs="app"),
    Step("verify", "every node's services answer", action="verify"),
    Step("deploy", "the app, rolled out to every environment", action="deploy", needs="app"),
)


def _progress(message: str) -> None:
    __utils__["platform_runner.progress"](message, globals().get("__jid_event__"))


def _fail(result: dict[str, Any], comment: str) -> dict[str, Any]:
    return __utils__["platform_runner.fail"](__context__, result, comment)


def _pillar() -> dict[str, Any]:
    """The master's view of pillar (the topology is targeted at every id)."""
    return __salt__["pillar.show_pillar"]()


def _local_client():
    return __utils__["platform_runner.local_client"](__opts__)


def _checked_pillar() -> tuple[dict[str, Any], list[str]]:
    """The master's pillar and every problem of its topology (none when it is sound)."""
    pillar = _pillar()
    problems = [f"pillar did not render: {error}" for error in pillar.get("_errors", [])]
    if not problems:
        problems = __salt__["salt.cmd"]("topology.errors", platform=pillar.get("platform") or {}, components=pillar)
    if not problems:  # every node's pillar needs each secret of the catalog
        try:
            store = __utils__["site_secrets.load"](__opts__["site_secrets_file"])
            __utils__["site_secrets.check_store"](__utils__["site_secrets.catalog"](pillar), store)
        except SaltInvocationError as exc:
            problems = [str(exc)]
    return pillar, problems


def _invalid(result: dict[str, Any], problems: list[str], consequence: str) -> dict[str, Any]:
    result["errors"] = problems
    return _fail(result, f"pillar is invalid, {consequence}:\n  " + "\n  ".join(problems))


def validate() -> dict[str, Any]:
    """
    Check the topology in pillar; every runner does this first and stops when it fails.

    CLI Example:

    .. code-block:: bash

        salt-run cluster.validate
    """
    _, problems = _checked_pillar()
    if problems:
        return _invalid({}, problems, "fix the fields named below")
    return {"result": True, "retcode": 0, "comment": "pillar topology is valid"}


def plan(platform: dict[str, Any] | None = None) -> list[dict[str, Any]] | dict[str, Any]:
    """
    The steps of ``cluster.up`` with the nodes each one targets, from the topology in
    pillar (or ``platform``).

    CLI Example:

    .. code-block:: bash

        salt-run cluster.plan
    """
    if platform is None:
        pillar, problems = _checked_pillar()
        if problems:
            return _invalid({}, problems, "no plan")
        platform = pillar["platform"]
    nodes = platform.get("nodes") or {}
    highstated: set[str] = set()
    steps = []
    for step in STEPS:
        targets: list[str] = []
        if step.action == "apply":
            for node_id in sorted(nodes):
                roles = set(nodes[node_id].get("roles") or [])
                if step.sls:
                    wanted = bool(roles & set(step.roles))
                elif ANY_REMAINING in step.roles:
                    wanted = node_id not in highstated
                else:
                    wanted = node_id not in highstated and bool(roles & set(step.roles))
                if wanted:
                    targets.append(node_id)
            if not step.sls:
                highstated.update(targets)
            if not targets:
                continue
        steps.append(
            {
                "step": step.name,
                "description": step.description,
                "action": step.action,
                "sls": step.sls,
                "needs": step.needs,
                "nodes": targets,
            }
        )
    return steps


def _state_failures(node_return: Any) -> list[str]:
    return __utils__["platform_runner.state_failures"](node_return)


def _changed(node_return: Any, test: bool) -> int:
    if not isinstance(node_return, dict):
        return 0
    if test:
        return sum(1 for chunk in node_return.values() if isinstance(chunk, dict) and chunk.get("result") is None)
    return sum(1 for chunk in node_return.values() if isinstance(chunk, dict) and chunk.get("changes"))


def _apply(targets: list[str], sls: str, test: bool, timeout: int) -> dict[str, dict[str, Any]]:
    """
    Apply highstate (or ``sls``) on ``targets`` in parallel; a verdict per node, with the
    states that changed. A state run in progress on a node (its scheduled drift check) is
    waited for (``queue``) rather than counted as a failure.
    """
    client = _local_client()
    arg = [sls] if sls else []
    verdicts: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    for reply in client.cmd_iter(
        targets, "state.apply", arg=arg, kwarg={"test": test, "queue": True}, tgt_type="list", timeout=timeout
    ):
        for node_id, data in reply.items():
            node_return = data.get("ret")
            failures = _state_failures(node_return)
            if data.get("retcode") not in (0, None) and not failures and not test:
                failures = [f"state.apply exited with retcode {data.get('retcode')}: {node_return}"]
            verdicts[node_id] = {
                "result": not failures,
                "changed": _changed(node_return, test),
                "failures": failures,
                "changed_states": _changed_states(node_return),
            }
            status = "ok" if not failures else "FAILED"
            _progress(
                f"  {node_id}: {status}, {verdicts[node_id]['changed']} changed ({time.monotonic() - started:.0f}s)"
            )
    for node_id in targets:
        verdicts.setdefault(
            node_id, {"result": False, "changed": 0, "failures": [f"no answer within {timeout}s"], "changed_states": []}
        )
    return verdicts


def _wait_for_minions(node_ids: list[str], timeout: int) -> list[str]:
    """Ping until every node answers or ``timeout`` passes; the nodes still silent."""
    client = _local_client()
    deadline = time.monotonic() + timeout
    silent = list(node_ids)
    while True:
        answered = client.cmd(silent, "test.ping", tgt_type="list", timeout=5)
        silent = [node_id for node_id in silent if not answered.get(node_id)]
        if not silent or time.monotonic() >= deadline:
            return silent
        _progress(f"waiting for {', '.join(silent)}")
        time.sleep(2)


def _sync(node_ids: list[str], timeout: int) -> list[str]:
    """
    Push _modules (topology, health...) to the nodes and refresh their in-memory pillar:
    top.sls and the health checks read both, and a minion keeps its pillar until told.
    (sync_all would also walk every other module type: 14 s instead of 9 here; one compound
    job would break the job cache's search_function, which cluster.status reads.)
    The nodes that did not answer.
    """
    client = _local_client()
    silent = set()
    for fun in ("saltutil.sync_modules", "saltutil.refresh_pillar"):
        replies = client.cmd(node_ids, fun, tgt_type="list", timeout=timeout)
        silent.update(node_id for node_id in node_ids if node_id not in replies)
    return sorted(silent)


def up(test: bool = False, timeout: int | None = None) -> dict[str, Any]:
    """
    Converge every node in the order of the platform design, then verify the services.

    Generates the site's secrets the store lacks (``site.secrets``), validates the topology
    (nothing is applied when it is wrong), waits for all minions, then runs each step in
    parallel across its nodes. The first failing step stops the run; the return names the
    step, the nodes and the failing states, and ``salt-run`` exits non-zero. ``test=True``
    runs every step as a dry run and reports what would change.

    CLI Example:

    .. code-block:: bash

        salt-run cluster.up
        salt-run cluster.up test=True
    """
    timeout = int(timeout or __opts__.get("platform_step_timeout", 1800))
    result: dict[str, Any] = {"result": True, "retcode": 0, "test": bool(test), "steps": []}

    if not test:  # first use: every node's pillar needs the site's secrets
        secrets = __salt__["site.secrets"]()
        if secrets.get("retcode"):
            return _fail(result, f"site secrets: {secrets['comment']}; nothing was applied")
        _progress(f"secrets: {secrets['comment']}")
    pillar, problems = _checked_pillar()
    if problems:
        return _invalid(result, problems, "nothing was applied")
    platform = pillar["platform"]
    node_ids = sorted(platform["nodes"])

    _progress(f"waiting for {len(node_ids)} minions")
    silent = _wait_for_minions(node_ids, int(__opts__.get("platform_minion_wait", 120)))
    if not silent:
        silent = _sync(node_ids, timeout=120)
    if silent:
        return _fail(
            result,
            f"nodes not answering: {', '.join(silent)} "
            "(check `salt-key -L` and their salt-minion logs); nothing was applied",
        )

    ca_node = __salt__["salt.cmd"]("topology.ca_node", platform=platform)
    for step in plan(platform):
        if step["needs"] and step["needs"] not in pillar:
            _progress(f"step {step['step']}: skipped, pillar has no {step['needs']}")
            continue
        started = time.monotonic()
        _progress(f"step {step['step']}: {step['description']} on {', '.join(step['nodes']) or 'the master'}")
        if step["action"] == "artifacts":
            outcome = __salt__["artifacts.build"](test=test, pillar=pillar)
            verdicts = {
                "master": {
                    "result": outcome["result"],
                    "changed": len(outcome.get("built", [])),
                    "failures": outcome.get("errors", []),
                }
            }
        elif step["action"] == "verify":
            settle = int(__opts__.get("platform_verify_settle", 60))
            verdicts = {} if test else _verify(node_ids, platform, settle)
        elif step["action"] == "deploy":
            verdicts = {} if test else _deploy(platform, pillar)
        else:
            verdicts = _apply(step["nodes"], step["sls"], test, timeout)
        elapsed = round(time.monotonic() - started, 1)
        failed = {node: v["failures"] for node, v in verdicts.items() if not v["result"]}
        result["steps"].append(
            {
                "step": step["step"],
                "nodes": step["nodes"],
                "seconds": elapsed,
                "changed": {node: v["changed"] for node, v in verdicts.items()},
                "result": not failed,
            }
        )
        _progress(f"step {step['step']}: {'ok' if not failed else 'FAILED'} in {elapsed}s")
        if failed:
            result["failed"] = {"step": step["step"], "nodes": failed}
            lines = [f"{node}: {failure}" for node, failures in sorted(failed.items()) for failure in failures]
            return _fail(result, f"step {step['step']} failed on {', '.join(sorted(failed))}:\n  " + "\n  ".join(lines))
        if not test and step["action"] == "apply" and not step["sls"] and ca_node in step["nodes"]:
            # Trust on first use, by the master: every later step's nodes trust only this key.
            pinned = __salt__["site.pin_ca"]()
            if pinned.get("retcode"):
                return _fail(result, f"step {step['step']}: {pinned['comment']}")

    result["comment"] = "dry run: nothing was changed" if test else "every step succeeded"
    return result


def _verify(node_ids: list[str], platform: dict[str, Any], settle: int) -> dict[str, dict[str, Any]]:
    """
    Every service of every node answers, and exactly one load balancer holds the VIP.
    Services just (re)started by the last step may take a few seconds: checks are repeated
    for up to ``settle`` seconds before a failure counts.
    """
    deadline = time.monotonic() + settle
    while True:
        verdicts = _check_services(node_ids, platform)
        failing = sorted(node for node, verdict in verdicts.items() if not verdict["result"])
        if not failing or time.monotonic() >= deadline:
            return verdicts
        _progress(f"  waiting for {', '.join(failing)} to answer")
        time.sleep(3)


def _deploy(platform: dict[str, Any], pillar: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``app.deploy`` of pillar app:version to each environment, one after the other."""
    version = str(__salt__["salt.cmd"]("apps.settings", pillar=pillar)["version"])
    verdicts = {}
    for env in platform.get("environments") or []:
        outcome = __salt__["app.deploy"](env=env, version=version, pillar=pillar)
        failures = [] if outcome.get("result") else [outcome.get("comment", "app.deploy failed")]
        verdicts[f"app-{env}"] = {"result": not failures, "changed": 0, "failures": failures}
    return verdicts


def _check_services(node_ids: list[str], platform: dict[str, Any]) -> dict[str, dict[str, Any]]:
    checks = _local_client().cmd(node_ids, "health.services", tgt_type="list", timeout=60)
    verdicts = {}
    vip_holders = []
    for node_id in node_ids:
        services = checks.get(node_id)
        if not isinstance(services, dict):
            verdicts[node_id] = {
                "result": False,
                "changed": 0,
                "failures": [f"health check did not answer: {services}"],
            }
            continue
        failures = [f"{name}: {check['detail']}" for name, check in sorted(services.items()) if not check["ok"]]
        verdicts[node_id] = {"result": not failures, "changed": 0, "failures": failures}
        if services.get("keepalived", {}).get("holds_vip"):
            vip_holders.append(node_id)
    keepalived_nodes = [n for n in node_ids if "keepalived" in platform["nodes"][n].get("roles", [])]
    if keepalived_nodes and len(vip_holders) != 1:
        holders = ", ".join(vip_holders) or "none"
        verdicts["vip"] = {
            "result": False,
            "changed": 0,
            "failures": [f"VIP {platform['vip']} held by {len(vip_holders)} load balancers ({holders}), expected one"],
        }
    return verdicts


def status() -> dict[str, Any]:
    """
    One row per node: roles, whether it answers, its last highstate and what its
    services answer (printed as a table by the ``platform_status`` outputter). Exits
    non-zero when a node is unreachable or a service fails its check.

    CLI Example:

    .. code-block:: bash

        salt-run cluster.status
        salt-run cluster.status --out=json
    """
    pillar, problems = _checked_pillar()
    if problems:
        return _invalid({"rows": []}, problems, "no status")
    platform = pillar["platform"]
    node_ids = sorted(platform["nodes"])
    _sync(node_ids, timeout=30)
    services = _local_client().cmd(node_ids, "health.services", tgt_type="list", timeout=30)
    last_runs = _last_highstates(node_ids)
    rows = []
    for node_id in node_ids:
        answer = services.get(node_id)
        reachable = isinstance(answer, dict)
        rows.append(
            {
                "node": node_id,
                "roles": ",".join(platform["nodes"][node_id].get("roles", [])),
                "reachable": reachable,
                "last_highstate": last_runs.get(node_id, "never"),
                "services": {name: check["detail"] for name, check in sorted(answer.items())} if reachable else {},
                "healthy": reachable and all(check["ok"] for check in answer.values()),
            }
        )
    healthy = all(row["healthy"] for row in rows)
    if not healthy:
        __context__["retcode"] = 1
    return {"outputter": "platform_status", "data": {"result": healthy, "retcode": 0 if healthy else 1, "rows": rows}}


def _last_highstates(node_ids: list[str]) -> dict[str, str]:
    """Newest highstate per node from the master's job cache: when, and how it ended."""
    # Filtered here, not with search_function: that fails on compound jobs (Function is a list).
    jobs = __salt__["jobs.list_jobs"]()
    found: dict[str, str] = {}
    for jid in sorted(jobs, reverse=True):
        job = jobs[jid]
        if not isinstance(job.get("Function"), str):
            continue
        if job["Function"] not in ("state.apply", "state.highstate") or _is_partial_or_test(job.get("Arguments") or []):
            continue
        returns = __salt__["jobs.list_job"](jid).get("Result", {})
        for node_id in node_ids:
            if node_id in found or node_id not in returns:
                continue
            failures = _state_failures(returns[node_id].get("return"))
            found[node_id] = (
                f"{_job_time(job.get('StartTime'), jid)} {'ok' if not failures else f'{len(failures)} failed'}"
            )
        if len(found) == len(node_ids):
            break
    return found


def _job_time(start_time: str | None, jid: str) -> str:
    """The job cache's "2026, Nov 26 15:55:21.869908" as 2026-11-26 15:55:21."""
    try:
        return datetime.datetime.strptime(start_time or "", "%Y, %b %d %H:%M:%S.%f").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return start_time or jid


def _is_partial_or_test(arguments: list[Any]) -> bool:
    """A state.apply with an sls argument or test=True is not a highstate."""
    for argument in arguments:
        if isinstance(argument, dict) and argument.get("test"):
            return True
        if isinstance(argument, str) and argument and not argument.startswith("test="):
            return True
        if isinstance(argument, str) and argument in ("test=True", "test=true"):
            return True
    return False


# ---------------------------------------------------------------- drift

# A node's verdict, worst first: the exit code follows the worst one present.
DRIFT_ERRORS = ("unreachable", "render-error", "failed", "unknown")
DRIFT_EXIT = {"clean": 0, "fixed": 0, "drifted": 2}


def _targets(platform: dict[str, Any], tgt: Any) -> list[str]:
    """Node ids of the topology matching ``tgt`` (ids or globs, comma-separated or a list)."""
    node_ids = sorted(platform["nodes"])
    if tgt is None or tgt == "":
        return node_ids
    patterns = tgt if isinstance(tgt, list) else str(tgt).split(",")
    matched = sorted({node for pattern in patterns for node in fnmatch.filter(node_ids, pattern.strip())})
    if not matched:
        raise ValueError(f"tgt={tgt!r} matches no node of pillar platform:nodes ({', '.join(node_ids)})")
    return matched


def _state_function(key: str) -> str:
    """``file_|-id_|-name_|-managed`` → ``file.managed``."""
    parts = key.split("_|-")
    return f"{parts[0]}.{parts[-1]}" if len(parts) >= 4 else key


def _change(chunk: dict[str, Any]) -> str:
    """What a pending state would do: the diff for a file, else its changes or its comment."""
    changes = chunk.get("changes") or {}
    if isinstance(changes.get("diff"), str):
        return changes["diff"]
    if changes:
        return "; ".join(f"{key}: {value}" for key, value in sorted(changes.items()))
    return str(chunk.get("comment", "")).strip()


def _in_run_order(node_return: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A state return's chunks in the order they ran."""
    chunks = [(key, chunk) for key, chunk in node_return.items() if isinstance(chunk, dict)]
    return sorted(chunks, key=lambda item: item[1].get("__run_num__", 0))


def _drift_verdict(reply: dict[str, Any] | None) -> dict[str, Any]:
    """One node's ``state.apply test=True`` return as clean, drifted, failed or render-error."""
    if reply is None:
        return {"status": "unreachable", "states": [], "errors": ["no answer"]}
    node_return = reply.get("ret")
    if isinstance(node_return, list) or not isinstance(node_return, dict):
        errors = [str(error) for error in (node_return if isinstance(node_return, list) else [node_return])]
        # Another state run held the node (a list return too, but not a render error).
        busy = any("is running as PID" in error for error in errors)
        return {"status": "failed" if busy else "render-error", "states": [], "errors": errors}
    errors = _state_failures(node_return)
    pending = [
        _state_entry(key, chunk)
        for key, chunk in _in_run_order(node_return)
        if chunk.get("result") is None or (chunk.get("result") and chunk.get("changes"))
    ]
    status = "failed" if errors else "drifted" if pending else "clean"
    return {"status": status, "states": pending, "errors": errors}


def _state_entry(key: str, chunk: dict[str, Any]) -> dict[str, Any]:
    """A state as reports name it: id, function, name, sls, and what it would change or changed."""
    return {
        "id": chunk.get("__id__", key),
        "function": _state_function(key),
        "name": chunk.get("name", ""),
        "sls": chunk.get("__sls__", ""),
        "change": _change(chunk),
    }


def _changed_states(node_return: Any) -> list[dict[str, Any]]:
    """The states of a state return that changed something."""
    if not isinstance(node_return, dict):
        return []
    return [_state_entry(key, chunk) for key, chunk in _in_run_order(node_return) if chunk.get("changes")]


def _drift_report(nodes: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    statuses = {node: verdict["status"] for node, verdict in nodes.items()}
    if any(status in DRIFT_ERRORS for status in statuses.values()):
        retcode = 1
    else:
        retcode = max((DRIFT_EXIT[status] for status in statuses.values()), default=0)
    counts = {
        status: sorted(node for node, s in statuses.items() if s == status)
        for status in ("clean", "drifted", "fixed", *DRIFT_ERRORS)
    }
    summary = f"{len(nodes)} node{'' if len(nodes) == 1 else 's'}: " + ", ".join(
        f"{len(members)} {status}" + (f" ({', '.join(members)})" if members and status != "clean" else "")
        for status, members in counts.items()
        if members or status in ("clean", "drifted")
    )
    if retcode:
        __context__["retcode"] = retcode
    data = {"result": retcode == 0, "retcode": retcode, "summary": summary, "nodes": nodes, **extra}
    return {"outputter": "platform_drift", "data": data}


def drift(tgt: Any = None, fix: bool = False, last: bool = False, timeout: int | None = None) -> dict[str, Any]:
    """
    What no longer matches the state tree: highstate with ``test=True`` on the targeted nodes
    (all by default), each reported as clean, drifted, failed, unreachable or render-error.
    A drifted node lists every state that would change (id, function, name, and the diff or
    the change). Exits 0 when every node is clean, 2 when something drifted, 1 on errors.

    ``fix=True`` then applies the highstate on the drifted nodes only and reports what it
    changed. ``last=True`` runs nothing: it reports each node's latest scheduled check
    (pillar ``drift:schedule``) from the job cache, and its age.

    CLI Example:

    .. code-block:: bash

        salt-run cluster.drift
        salt-run cluster.drift tgt=ms2,lb2 --out=json
        salt-run cluster.drift fix=True
        salt-run cluster.drift last=True
    """
    pillar, problems = _checked_pillar()
    if problems:
        return _invalid({}, problems, "nothing was checked")
    try:
        targets = _targets(pillar["platform"], tgt)
    except ValueError as exc:
        return _fail({}, str(exc))
    if last:
        return _drift_report(_last_checks(targets), last=True)
    # A dry run takes seconds per node; a node silent for this long counts as unreachable.
    timeout = int(timeout or __opts__.get("platform_drift_timeout", 300))
    started = time.monotonic()
    _progress(f"highstate test=True on {', '.join(targets)}")
    nodes = {node: _drift_verdict(None) for node in targets}
    # queue: wait for a state run in progress (a scheduled check) instead of failing on it.
    for reply in _local_client().cmd_iter(
        targets, "state.apply", kwarg={"test": True, "queue": True}, tgt_type="list", timeout=timeout
    ):
        for node, data in reply.items():
            nodes[node] = _drift_verdict(data)
            _progress(f"  {node}: {nodes[node]['status']} ({time.monotonic() - started:.0f}s)")
    if fix:
        _fix(nodes, timeout)
    return _drift_report(nodes, seconds=round(time.monotonic() - started, 1))


def _fix(nodes: dict[str, dict[str, Any]], timeout: int) -> None:
    """Highstate on the drifted nodes only; each becomes fixed (with what changed) or failed."""
    drifted = sorted(node for node, verdict in nodes.items() if verdict["status"] == "drifted")
    if not drifted:
        return
    _progress(f"fixing {', '.join(drifted)}: highstate")
    for node, verdict in _apply(drifted, "", test=False, timeout=timeout).items():
        nodes[node].update(
            status="fixed" if verdict["result"] else "failed",
            fixed=verdict["changed_states"],
            errors=verdict["failures"],
        )


def _is_scheduled_check(job: dict[str, Any]) -> bool:
    """
    A minion schedule's highstate test=True: its kwargs are stored as a plain dict, while
    jobs published from the master mark theirs with ``__kwarg__`` (or pass "test=True").
    """
    arguments = job.get("Arguments")
    if job.get("Function") != "state.apply" or not isinstance(arguments, list) or len(arguments) != 1:
        return False
    kwargs = arguments[0]
    return isinstance(kwargs, dict) and kwargs.get("test") is True and "__kwarg__" not in kwargs


def _age(start_time: str | None) -> str:
    try:
        started = datetime.datetime.strptime(start_time or "", "%Y, %b %d %H:%M:%S.%f")
    except ValueError:
        return "unknown age"
    minutes = int((datetime.datetime.now() - started).total_seconds() // 60)
    return f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


def _last_checks(targets: list[str]) -> dict[str, dict[str, Any]]:
    """Each node's newest scheduled check from the job cache, as a drift verdict with its age."""
    nodes = {
        node: {
            "status": "unknown",
            "states": [],
            "errors": ["no scheduled check in the job cache (pillar drift:schedule:enabled, then highstate)"],
        }
        for node in targets
    }
    jobs = __salt__["jobs.list_jobs"]()
    pending = set(targets)
    for jid in sorted(jobs, reverse=True):
        if not pending:
            break
        if not _is_scheduled_check(jobs[jid]):
            continue
        returns = __salt__["jobs.list_job"](jid).get("Result", {})
        for node in sorted(pending & set(returns)):
            nodes[node] = _drift_verdict({"ret": returns[node].get("return")}) | {
                "checked_at": _job_time(jobs[jid].get("StartTime"), jid),
                "age": _age(jobs[jid].get("StartTime")),
            }
            pending.discard(node)
    return nodes
