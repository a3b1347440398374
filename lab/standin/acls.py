"""The master's --acls as Mesos 1.11's local authorizer reads and applies them.

Read (src/common/parse.hpp, stout's flags/fetch.hpp and protobuf.hpp, include/mesos/authorizer/
acls.proto): inline JSON, a `file://` path or a bare `/path`; a value that is not a JSON object of
the ACLs message stops the master at start. Applied (src/authorizer/local/authorizer.cpp): the
rules of an action are tried in order, the first whose subject (principals) and object match the
request decides, and `permissive` (default true) answers when none does. A request without a
principal is ANY, which only an ANY or NONE rule matches.

The stand-in enforces the three actions the platform's ACLs list: register_frameworks (object:
the framework's roles, "/%" rules included), run_tasks (the task's user) and teardown_frameworks
(the framework's principal). Any other action in the file is read loosely and refuses nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .flags import FlagError

# action -> the field naming its object (acls.proto: RegisterFramework, RunTask, TeardownFramework).
OBJECTS = {"register_frameworks": "roles", "run_tasks": "users", "teardown_frameworks": "framework_principals"}
TYPES = ("SOME", "ANY", "NONE")


@dataclass(frozen=True)
class Entity:
    """ACL.Entity: SOME of `values`, ANY, or NONE."""

    type: str = "SOME"
    values: tuple[str, ...] = ()


ANY = Entity("ANY")


@dataclass(frozen=True)
class Acls:
    permissive: bool = True
    # action -> its rules in order: (subjects, objects).
    rules: dict[str, list[tuple[Entity, Entity]]] = field(default_factory=dict)

    def allows(self, action: str, principal: str | None, target: str | None) -> bool:
        """Whether `principal` (None: ANY) may perform `action` on `target` (None: ANY)."""
        subject = ANY if principal is None else Entity("SOME", (principal,))
        wanted = ANY if target is None else Entity("SOME", (target,))
        for subjects, objects in self.rules.get(action, []):
            if action == "register_frameworks" and _recursive(objects):
                # A role "a/%" stands for every role nested under a/ (LocalHierarchicalRoleApprover).
                nested = wanted.type == "SOME" and wanted.values[0].startswith(objects.values[0][:-1])
                if nested and _matches(subject, subjects):
                    return _allows(subject, subjects)
                continue
            if _matches(subject, subjects) and _matches(wanted, objects):
                return _allows(subject, subjects) and _allows(wanted, objects)
        return self.permissive


def _recursive(objects: Entity) -> bool:
    return len(objects.values) == 1 and objects.values[0].endswith("/%")


def _matches(request: Entity, acl: Entity) -> bool:
    """Whether a rule applies to the request (authorizer.cpp's match matrix)."""
    if request.type != "SOME":
        return acl.type == "NONE" or (request.type == "ANY" and acl.type == "ANY")
    return acl.type != "SOME" or set(request.values) <= set(acl.values)


def _allows(request: Entity, acl: Entity) -> bool:
    """Whether the rule that applies grants the request (authorizer.cpp's allow matrix)."""
    if request.type != "SOME":
        return acl.type == request.type
    return acl.type == "ANY" or (acl.type == "SOME" and set(request.values) <= set(acl.values))


def parse(value: str | None) -> Acls | None:
    """--acls as the master loads it, or FlagError with the message it exits with; None without the flag."""
    if value is None:
        return None
    try:
        text = value
        path = value.removeprefix("file://") if value.startswith(("file://", "/")) else None
        if path is not None:
            try:
                with open(path, encoding="utf-8") as source:
                    text = source.read()
            except OSError as ex:
                raise ValueError(f"Error reading file '{path}': Failed to open file: {ex.strerror}") from None
        try:
            document = json.loads(text)
        except ValueError as ex:
            raise ValueError(f"syntax error: {ex}") from None  # picojson words it differently
        if not isinstance(document, dict):
            raise ValueError("Unexpected JSON type parsed")
        return _acls(document)
    except ValueError as ex:
        raise FlagError(f"Failed to load flag 'acls': Failed to load value '{value}': {ex}") from None


def _acls(document: dict) -> Acls:
    permissive = document.get("permissive")
    if isinstance(permissive, str):
        # stout reads a string given for a bool field as JSON.
        if permissive.strip() not in ("true", "false"):
            raise ValueError(f"Failed to parse '{permissive}' as a JSON boolean for field 'permissive'")
        permissive = permissive.strip() == "true"
    elif permissive is not None and not isinstance(permissive, bool):
        raise ValueError(f"Not expecting a JSON {_kind(permissive)} for field 'permissive'")
    rules: dict[str, list[tuple[Entity, Entity]]] = {}
    missing: list[str] = []
    for action, object_field in OBJECTS.items():
        entries = document.get(action)
        if entries is None:
            continue
        if isinstance(entries, dict):
            entries = [entries]  # stout reads an object given for a repeated message as one entry
        if not isinstance(entries, list):
            raise ValueError(f"Not expecting a JSON {_kind(entries)} for field '{action}'")
        rules[action] = []
        # A null is an unset field in stout: no entry.
        for index, entry in enumerate(entry for entry in entries if entry is not None):
            if not isinstance(entry, dict):
                raise ValueError(f"Not expecting a JSON {_kind(entry)} for field '{action}'")
            pair = []
            for name in ("principals", object_field):
                if entry.get(name) is None:
                    missing.append(f"{action}[{index}].{name}")
                    pair.append(ANY)
                else:
                    pair.append(_entity(entry[name], name))
            rules[action].append((pair[0], pair[1]))
    if missing:
        raise ValueError("Missing required fields: " + ", ".join(missing))
    return Acls(True if permissive is None else permissive, rules)


def _entity(value: object, name: str) -> Entity:
    if not isinstance(value, dict):
        raise ValueError(f"Not expecting a JSON {_kind(value)} for field '{name}'")
    kind = value.get("type")
    if kind is None:
        kind = "SOME"
    elif not isinstance(kind, str):
        raise ValueError(f"Not expecting a JSON {_kind(kind)} for field 'type'")
    elif kind not in TYPES:
        raise ValueError(f"Failed to find enum for '{kind}'")
    values = value.get("values")
    if not isinstance(values, list):
        values = [] if values is None else [values]  # stout adds a single value given for a repeated field
    values = [item for item in values if item is not None]
    for item in values:
        if not isinstance(item, str):
            raise ValueError(f"Not expecting a JSON {_kind(item)} for field 'values'")
    return Entity(kind, tuple(values))


def _kind(value: object) -> str:
    """stout's name of a JSON value's type."""
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "number")
