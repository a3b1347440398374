"""Marathon's groups: a request body flattened to apps, the dependency order, the tree a GET shows.

A group is a path prefix of app ids (/prod/db is in /prod) plus what only a group has: its
dependencies, and existence while it holds no app. Relative ids and dependencies resolve against
the enclosing group, as Marathon's normalisation does ("db" in /prod is /prod/db, "../db" is /db).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from . import validation

CYCLE = "Dependency graph has cyclic dependencies."


def resolve(path: str, base: str) -> str:
    """An id or dependency as Marathon's PathId.canonicalPath(base) makes it absolute."""
    joined = path if path.startswith("/") else posixpath.join(base, path)
    return validation.normalize_id(posixpath.normpath(joined).lstrip("/") if joined != "/" else "")


def parent(app_id: str) -> str:
    return app_id.rsplit("/", 1)[0] or "/"


def contains(group_id: str, path: str) -> bool:
    return group_id == "/" or path == group_id or path.startswith(group_id + "/")


@dataclass
class Definition:
    """What a POST/PUT /v2/groups body asks for, flattened."""

    apps: dict[str, dict] = field(default_factory=dict)  # absolute id -> app body, ids resolved
    groups: dict[str, list[str]] = field(default_factory=dict)  # group id -> its dependencies
    # Groups whose "apps" / "groups" the body lists: what they held before and the body leaves out goes.
    apps_given: set[str] = field(default_factory=set)
    groups_given: set[str] = field(default_factory=set)

    def removes(self, path: str, is_app: bool) -> bool:
        """Whether an existing app or stored group disappears under this definition."""
        if path in (self.apps if is_app else self.groups):
            return False
        if is_app and parent(path) in self.apps_given:
            return True
        # A subgroup the body's "groups" no longer names goes with everything in it.
        return any(
            path != given and contains(given, path) and _child_on_path(given, path) not in self.groups
            for given in self.groups_given
        )


def _child_on_path(group_id: str, app_id: str) -> str:
    prefix = group_id.rstrip("/") + "/"
    return prefix + app_id[len(prefix) :].split("/", 1)[0]


def flatten(body: Any, group_id: str) -> Definition:
    """A group body (Group.json) as apps and groups with absolute ids; raise validation.Invalid."""
    definition = Definition()
    _flatten(body, group_id, "", definition)
    return definition


def _invalid(status: int, path: str, error: str) -> validation.Invalid:
    return validation.Invalid(status, [{"path": path or "/", "errors": [error]}])


def _flatten(body: Any, group_id: str, path: str, out: Definition) -> None:
    if not isinstance(body, dict):
        raise _invalid(400, path, "error.expected.jsobject")
    for key in ("apps", "groups", "dependencies"):
        if key in body and not isinstance(body[key], list):
            raise _invalid(400, f"{path}/{key}", "error.expected.jsarray")
    for key, value in (
        ("id", body.get("id")),
        *((f"dependencies({i})", d) for i, d in enumerate(body.get("dependencies", []))),
    ):
        if value is not None and not (isinstance(value, str) and validation.PATH_RE.match(value)):
            raise _invalid(
                422, f"{path}/{key}", "must fully match regular expression '" + validation.PATH_RE.pattern + "'"
            )
    out.groups[group_id] = [resolve(d, parent(group_id)) for d in body.get("dependencies", [])]
    if "apps" in body:
        out.apps_given.add(group_id)
    if "groups" in body:
        out.groups_given.add(group_id)
    for index, app in enumerate(body.get("apps", [])):
        where = f"{path}/apps({index})"
        try:
            app = validation.validate(app)
        except validation.Invalid as ex:
            raise validation.Invalid(ex.status, [dict(d, path=where + d["path"]) for d in ex.details]) from None
        app_id = resolve(app["id"], group_id)
        if parent(app_id) != group_id:
            raise _invalid(422, f"{where}/id", f"identifier {app_id} is not child of {group_id}")
        app["id"] = app_id
        app["dependencies"] = [resolve(d, group_id) for d in app.get("dependencies", [])]
        out.apps[app_id] = app
    for index, sub in enumerate(body.get("groups", [])):
        where = f"{path}/groups({index})"
        if not isinstance(sub, dict) or not isinstance(sub.get("id"), str):
            raise _invalid(400, f"{where}/id", "error.path.missing")
        sub_id = resolve(sub["id"], group_id)
        if parent(sub_id) != group_id:
            raise _invalid(422, f"{where}/id", f"identifier {sub_id} is not child of {group_id}")
        _flatten(sub, sub_id, where, out)


def depths(apps: dict[str, dict], groups: dict[str, list[str]]) -> dict[str, int]:
    """Each app's place in the start order: 0 depends on nothing, n after every app it needs.

    An app needs the apps its own dependencies name and those of every group around it; a
    dependency on a group means every app in it. Raise validation.Invalid on a cycle.
    """
    needs: dict[str, set[str]] = {}
    for app_id, app in apps.items():
        paths = list(app.get("dependencies") or [])
        paths += [dep for group_id, deps in groups.items() if contains(group_id, app_id) for dep in deps]
        needs[app_id] = {other for path in paths for other in apps if contains(path, other) and other != app_id}
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(app_id: str) -> int:
        if app_id in depth:
            return depth[app_id]
        if app_id in visiting:
            raise _invalid(422, "", CYCLE)
        visiting.add(app_id)
        depth[app_id] = 1 + max((visit(other) for other in needs[app_id]), default=-1)
        visiting.discard(app_id)
        return depth[app_id]

    for app_id in sorted(apps):
        visit(app_id)
    return depth


def tree(group_id: str, apps: dict[str, dict], groups: dict[str, dict], embed: set[str]) -> dict:
    """GET /v2/groups/{id}: the group over ``apps`` (AppInfo, every app under it) and ``groups``
    (every stored group under it: dependencies, version), its subgroups nested as embed asks."""
    prefix = group_id.rstrip("/") + "/"
    below = [path for path in [*apps, *groups] if path.startswith(prefix) and path != group_id]
    children = sorted({_child_on_path(group_id, path) for path in below} - set(apps))
    stored = groups.get(group_id, {})
    versions = [app["version"] for app in apps.values()] + [stored.get("version")] * bool(stored.get("version"))
    node = {
        "id": group_id,
        "dependencies": stored.get("dependencies", []),
        "version": max(versions, default=None),
        "apps": [],
        "groups": [],
        "pods": [],
    }
    if embed & {"group.apps", "group.apps.tasks"}:
        node["apps"] = [app for app_id, app in sorted(apps.items()) if parent(app_id) == group_id]
    if "group.groups" in embed:
        node["groups"] = [
            tree(
                child,
                {a: app for a, app in apps.items() if contains(child, a)},
                {g: doc for g, doc in groups.items() if contains(child, g)},
                embed,
            )
            for child in children
        ]
    return node
