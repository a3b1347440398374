"""The lab's signed apt repository: vendor-layout packages of lab/packages, served on the lab network.

Each package directory holds the files as the vendor's .deb lays them out, and DEBIAN/ with a
control file whose Version is @VERSION@. The build copies the stand-in (lab/standin) to where
the package's launchers look for it, stamps the version the lab pins (lab/pillar/site.sls, plus
a hash of the sources, so changed code is a new version, which the pinned install moves to), builds each .deb with
dpkg-deb, indexes them with apt-ftparchive and signs the index with a key made for this lab
(gpg, kept in the master's state, never in git). Nodes reach it over HTTP at
platform:master_ip, exactly as a production site reaches the vendor's repository.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

import yaml

LAB = pathlib.Path(__file__).resolve().parent
PACKAGES = LAB / "packages"
STANDIN = LAB / "standin"
SITE_PILLAR_SOURCE = LAB / "pillar" / "site.sls"
REGISTRATOR_IMAGE = LAB / "salt" / "registrator-standin" / "image"
SUITE, COMPONENT = "bookworm", "main"
KEY_NAME = "platform-lab.gpg"
PORT = 8089
# Package -> (pillar path of its pinned version, where its launchers import the stand-in from).
BUILDS = {
    "aventer-mesos": (("mesos", "version"), "usr/share/mesos"),
    "marathon": (("marathon", "version"), "usr/share/marathon/lib"),
    "nfs-kernel-server": (("nfs", "server_version"), "usr/share/nfs-kernel-server"),
}
TOOLS = {"apt-ftparchive": "apt-utils", "gpg": "gnupg", "dpkg-deb": "dpkg"}


def _run(*cmd: str, **kwargs) -> str:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs).stdout


def ensure_tools() -> None:
    missing = sorted({package for tool, package in TOOLS.items() if not shutil.which(tool)})
    if missing:
        print(f"[lab] installing {' '.join(missing)} (the lab's apt repository)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def _digest(*roots: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in (p for p in files if "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(LAB)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def site_pillar() -> dict:
    """
    lab/pillar/site.sls with the versions of what the lab builds stamped with a hash of their
    sources, so that changed code is a new version: the packages (the pinned install moves to
    it; Salt lets apt downgrade when the hash sorts lower) and the registrator stand-in's image
    (a tag is never rebuilt; a new one is built and run).
    """
    pillar = yaml.safe_load(SITE_PILLAR_SOURCE.read_text())
    for package, ((component, key), _) in BUILDS.items():
        sources = _digest(PACKAGES / package, STANDIN, pathlib.Path(__file__))
        pillar[component][key] = f"{pillar[component][key]}+{sources}"
    registrator = pillar.setdefault("registrator", {})
    registrator["version"] = f"{registrator.get('version', 'v7')}-lab-{_digest(REGISTRATOR_IMAGE)}"
    return pillar


def _build_deb(package: str, version: str, out: pathlib.Path, work: pathlib.Path) -> pathlib.Path:
    tree = work / package
    shutil.copytree(PACKAGES / package, tree)
    shutil.copytree(STANDIN, tree / BUILDS[package][1] / "standin", ignore=shutil.ignore_patterns("__pycache__"))
    control = tree / "DEBIAN" / "control"
    control.write_text(control.read_text().replace("@VERSION@", version))
    deb = out / f"{package}_{version}.deb"
    _run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(tree), str(deb))
    return deb


def _signing_key(gnupg: pathlib.Path) -> str:
    """This lab's repository key (made on first use): its fingerprint."""
    gnupg.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = dict(os.environ, GNUPGHOME=str(gnupg))
    try:
        listed = _run("gpg", "--batch", "--with-colons", "--list-secret-keys", env=env)
    except subprocess.CalledProcessError:
        listed = ""
    if "fpr:" not in listed:
        _run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
             "platform lab apt repository <apt@lab.localdomain>", "ed25519", "sign", "never", env=env)  # fmt: skip
        listed = _run("gpg", "--batch", "--with-colons", "--list-secret-keys", env=env)
    return next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))


def build(state_dir: pathlib.Path) -> pathlib.Path:
    """Build and sign the repository under state_dir/apt; returns the directory to serve."""
    ensure_tools()
    root = state_dir / "apt"
    repo, work = root / "repo", root / "work"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    pool = repo / "pool" / COMPONENT
    index = repo / "dists" / SUITE / COMPONENT / "binary-amd64"
    pool.mkdir(parents=True)
    index.mkdir(parents=True)
    work.mkdir(parents=True)
    pillar = site_pillar()
    for package, ((component, key), _) in BUILDS.items():
        _build_deb(package, pillar[component][key], pool, work)
    shutil.rmtree(work)
    (index / "Packages").write_text(_run("apt-ftparchive", "packages", "pool", cwd=repo))
    _run("gzip", "-k9n", str(index / "Packages"))
    release = _run(
        "apt-ftparchive",
        "-o", f"APT::FTPArchive::Release::Suite={SUITE}",
        "-o", f"APT::FTPArchive::Release::Codename={SUITE}",
        "-o", f"APT::FTPArchive::Release::Components={COMPONENT}",
        "-o", "APT::FTPArchive::Release::Architectures=amd64 all",
        "-o", "APT::FTPArchive::Release::Origin=platform-lab",
        "release", f"dists/{SUITE}",
        cwd=repo,
    )  # fmt: skip
    (repo / "dists" / SUITE / "Release").write_text(release)
    gnupg = root / "gnupg"
    fingerprint = _signing_key(gnupg)
    env = dict(os.environ, GNUPGHOME=str(gnupg))
    suite = repo / "dists" / SUITE
    sign = ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--local-user", fingerprint]
    _run(*sign, "--clearsign", "--output", str(suite / "InRelease"), str(suite / "Release"), env=env)
    _run(*sign, "--armor", "--detach-sign", "--output", str(suite / "Release.gpg"), str(suite / "Release"), env=env)
    # Binary, not armored: apt reads it from signed-by as it is, and the node needs no gpg.
    (repo / KEY_NAME).write_bytes(
        subprocess.run(["gpg", "--batch", "--export", fingerprint], check=True, capture_output=True, env=env).stdout
    )
    return repo


if __name__ == "__main__":
    print(build(pathlib.Path(sys.argv[1])))
