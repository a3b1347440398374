"""Marathon's and Mesos' response shapes, in one place, and the check the tests hold answers to.

Marathon: an app in an answer (GET /v2/apps, /v2/apps/{id}, a group's apps, a queue entry's app)
is an AppDefinition (Marathon's schema, ../shared/reference/marathon/schema/<tag>/AppDefinition.json)
plus the read-only fields of its AppInfo; a group is a Group (Group.json) plus "pods". The other
answers, and Mesos' (protobuf messages as JSON, for which Mesos publishes no JSON schema), are
spelled out below as field -> type: the fields Mesos' and Marathon's own clients read.
tests/standin/test_shapes.py checks live answers of the stand-in against both.
"""

from __future__ import annotations

from typing import Any

from .validation import READ_ONLY_FIELDS

# What an AppInfo adds to an AppDefinition, and a group answer to a Group.
APP_INFO_FIELDS = READ_ONLY_FIELDS
GROUP_INFO_FIELDS = ("pods",)

NUMBER = (int, float)
OPTIONAL_STR = (str, type(None))

MARATHON_TASK = {
    "id": str,
    "appId": str,
    "host": str,
    "slaveId": str,
    "state": str,
    "ports": list,
    "stagedAt": str,
    "startedAt": OPTIONAL_STR,
    "version": str,
}
MARATHON_HEALTH_RESULT = {
    "alive": bool,
    "consecutiveFailures": int,
    "firstSuccess": OPTIONAL_STR,
    "lastSuccess": OPTIONAL_STR,
    "lastFailure": OPTIONAL_STR,
    "instanceId": str,
}
MARATHON_DEPLOYMENT = {
    "id": str,
    "version": str,
    "affectedApps": list,
    "affectedPods": list,
    "steps": list,
    "currentActions": list,
    "currentStep": int,
    "totalSteps": int,
}
MARATHON_QUEUE_ENTRY = {"count": int, "delay": dict, "since": str, "app": dict}
MARATHON_INFO = {
    "name": str,
    "version": str,
    "elected": bool,
    "leader": OPTIONAL_STR,
    "frameworkId": OPTIONAL_STR,
    "marathon_config": dict,
    "zookeeper_config": dict,
    "http_config": dict,
}
MARATHON_METRICS = {
    "version": str,
    "gauges": dict,
    "counters": dict,
    "histograms": dict,
    "meters": dict,
    "timers": dict,
}

# Mesos 1.11, as master/http.cpp writes them (and Singularity's, Marathon's, the CLI's models read).
MESOS_RESOURCES = {"cpus": NUMBER, "mem": NUMBER, "disk": NUMBER}
MESOS_SLAVE = {
    "id": str,
    "pid": str,
    "hostname": str,
    "port": int,
    "registered_time": NUMBER,
    "attributes": dict,
    "resources": dict,
    "used_resources": dict,
    "offered_resources": dict,
    "reserved_resources": dict,
    "unreserved_resources": dict,
    "active": bool,
    "version": str,
}
MESOS_TASK = {
    "id": str,
    "name": str,
    "framework_id": str,
    "executor_id": str,
    "slave_id": str,
    "state": str,
    "resources": dict,
    "statuses": list,
}
MESOS_FRAMEWORK = {
    "id": str,
    "name": str,
    "hostname": OPTIONAL_STR,
    "webui_url": OPTIONAL_STR,
    "active": bool,
    "tasks": list,
}
MESOS_STATE = {
    "version": str,
    "pid": str,
    "hostname": str,
    "leader": str,
    "leader_info": dict,
    "flags": dict,
    "activated_slaves": int,
    "deactivated_slaves": int,
    "slaves": list,
    "frameworks": list,
}
MESOS_SUMMARY_SLAVE = {**MESOS_SLAVE, "TASK_RUNNING": int}
MESOS_SUMMARY_FRAMEWORK = {"id": str, "name": str, "active": bool, "TASK_RUNNING": int, "slave_ids": list}
MESOS_MAINTENANCE_STATUS = {"draining_machines": list, "down_machines": list}


def app_definition(app: dict) -> dict:
    """An app as Marathon writes it: the optional fields it was not given (None here) left out."""
    return {name: value for name, value in app.items() if value is not None}


def problems(doc: Any, shape: dict, where: str = "") -> list[str]:
    """What in ``doc`` departs from ``shape`` (a missing field, a wrong type); empty when it conforms."""
    if not isinstance(doc, dict):
        return [f"{where or '/'}: expected an object, got {type(doc).__name__}"]
    found = []
    for name, kind in shape.items():
        if name not in doc:
            found.append(f"{where}/{name}: missing")
        elif isinstance(doc[name], bool) and kind in (int, NUMBER):
            found.append(f"{where}/{name}: expected a number, got a boolean")
        elif not isinstance(doc[name], kind):
            found.append(f"{where}/{name}: expected {kind}, got {type(doc[name]).__name__}")
    return found
