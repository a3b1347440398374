"""
Facts about the node's Debian system that states need at run time.

The consul formula fetches a .deb from the pool of the Debian archive the node already uses,
and the images formula debootstraps from it, so no mirror host is ever written into the repository.
"""

from __future__ import annotations

import glob
import os
import re

from salt.exceptions import CommandExecutionError

SOURCES_LIST = "/etc/apt/sources.list"
SOURCES_DIR = "/etc/apt/sources.list.d"

# Suite names the Debian archive publishes besides the release codenames.
DEBIAN_SUITE_ALIASES = ("oldoldstable", "oldstable", "stable", "testing", "unstable", "sid")

# One-line format: `deb [options] URI SUITE COMPONENT...`
_ONE_LINE = re.compile(r"^(deb|deb-src)\s+(?:\[(?P<options>[^\]]*)\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)")


def _source_files() -> list[str]:
    # apt reads sources.list first, then sources.list.d in name order, whatever the format.
    parts = glob.glob(os.path.join(SOURCES_DIR, "*.list")) + glob.glob(os.path.join(SOURCES_DIR, "*.sources"))
    return [path for path in [SOURCES_LIST, *sorted(parts)] if os.path.isfile(path)]


def _one_line_entries(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        match = _ONE_LINE.match(line.split("#", 1)[0].strip())
        if match:
            options = match.group("options") or ""
            signed_by = re.search(r"signed-by=(\S+)", options)
            entries.append(
                {
                    "uris": [match.group("uri")],
                    "suites": [match.group("suite")],
                    "signed_by": signed_by.group(1) if signed_by else "",
                }
            )
    return entries


def _deb822_entries(text: str) -> list[dict]:
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1].isspace() and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no" or "uris" not in fields:
            continue
        entries.append(
            {
                "uris": fields["uris"].split(),
                "suites": fields.get("suites", "").split(),
                "signed_by": fields.get("signed-by", ""),
            }
        )
    return entries


def _is_debian_suite(suite: str, codename: str) -> bool:
    # bookworm, bookworm-updates and bookworm-backports live in the archive; the security
    # archive (bookworm-security, or bookworm/updates before bullseye) is a separate one.
    if suite.endswith("-security") or suite.endswith("/updates"):
        return False
    return suite.split("-", 1)[0] in (codename, *DEBIAN_SUITE_ALIASES)


def _is_debian_archive(entry: dict, codename: str) -> bool:
    # A third-party repository that reuses the codename as its suite (HashiCorp, Docker) is
    # told apart by its own keyring whenever the entry names one.
    if entry["signed_by"] and "debian-archive" not in entry["signed_by"]:
        return False
    return any(_is_debian_suite(suite, codename) for suite in entry["suites"])


def mirror(codename: str | None = None) -> str:
    """
    URI of the first Debian archive in the node's apt sources (``/etc/apt/sources.list``, then
    the ``*.list`` and deb822 ``*.sources`` files of ``/etc/apt/sources.list.d``), without a
    trailing slash. The security archive is skipped: it carries no pool of the releases.
    ``codename`` defaults to the node's own release (grain ``oscodename``).

    CLI Example:

    .. code-block:: bash

        salt-call debian.mirror
    """
    if codename is None:
        codename = __grains__.get("oscodename", "")
    files = _source_files()
    for path in files:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        entries = _deb822_entries(text) if path.endswith(".sources") else _one_line_entries(text)
        for entry in entries:
            if entry["uris"] and _is_debian_archive(entry, codename):
                return entry["uris"][0].rstrip("/")
    raise CommandExecutionError(
        f"no Debian archive (suite {codename or 'of this release'}, not -security) in the apt "
        f"sources {', '.join(files) or f'{SOURCES_LIST} and {SOURCES_DIR}'}; add one or set the "
        "component's source URL in pillar"
    )
