"""
The offline lab: every node of pillar/platform.sls as a systemd container on a Docker bridge
network, and a salt-master on the host at platform:master_ip.

    python lab/lab.py up      # docker, base image, network, master, nodes, keys, cluster.up
    python lab/lab.py down    # nodes, their volumes, the network and the master's state

Run from the repository root with the project's venv (the Makefile does both).
"""

from __future__ import annotations

import argparse
import errno
import functools
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import salt.utils.crypt
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
STATE_DIR = REPO / ".salt"
LAB_DIR = STATE_DIR / "lab"
SITE_PILLAR = STATE_DIR / "pillar" / "site.sls"
MASTER_KEY = STATE_DIR / "pki" / "master.pub"
# Minion configuration every node reads at start (bound in read-only): the master's fingerprint.
MASTER_FINGER = STATE_DIR / "lab" / "master_finger.conf"
NODE_CONTEXT = REPO / "lab" / "node"

NETWORK = "platform-lab"
LABEL = "platform-lab"
NODE_IMAGE = "platform-lab/node"
# Packages of the debootstrapped node: systemd to boot, python3-venv for the minion, and a
# compiler for the one salt dependency PyPI ships as source only (timelib).
ROOTFS_PACKAGES = (
    "systemd,systemd-sysv,dbus,iproute2,iputils-ping,procps,curl,ca-certificates,"
    "python3,python3-venv,python3-dev,gcc,libc6-dev"
)
# Bump ROOTFS_RECIPE when build_rootfs changes: the tag is what decides a rebuild.
ROOTFS_RECIPE = "2: host apt sources"
ROOTFS_IMAGE = (
    f"platform-lab/rootfs:bookworm-{hashlib.sha256((ROOTFS_PACKAGES + ROOTFS_RECIPE).encode()).hexdigest()[:12]}"
)
# Salt as the master runs it, pinned once for master, lab nodes and Vagrant VMs.
SALT_PACKAGES = " ".join(
    line.strip()
    for line in (REPO / "requirements" / "salt.txt").read_text().splitlines()
    if line.strip()[:1] not in ("", "#")
)
# systemd as PID 1, measured on these machines: --privileged fails (no CAP_SYS_RESOURCE).
SYSTEMD_RUN_FLAGS = [
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--tmpfs", "/run", "--tmpfs", "/run/lock",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns=host",
]  # fmt: skip

sys.path.insert(0, str(REPO / "_modules"))
sys.path.insert(0, str(REPO / "lab"))
import aptrepo  # noqa: E402  (lab/aptrepo.py: the lab's vendor-layout packages)
import debian  # noqa: E402  (the node's own Debian mirror, read from apt's sources)


def say(message: str) -> None:
    print(f"[lab {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(*cmd: str, check: bool = True, capture: bool = False, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, text=True, capture_output=capture, **kwargs)


def platform() -> dict:
    return yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]


def nfs_paths() -> tuple[str, str]:
    """The NFS export (pillar nfs:export) and where the lab's clients bind it from (lab site pillar nfs:mount)."""
    export = yaml.safe_load((REPO / "pillar" / "components.sls").read_text())["nfs"]["export"]
    return export, yaml.safe_load(aptrepo.SITE_PILLAR_SOURCE.read_text())["nfs"]["mount"]["device"]


@functools.cache
def shared_volume_dir() -> str:
    """The host directory of the NFS export's volume (created if missing): Debian's Docker cannot
    mount a volume's subdirectory, so a client's environment directory is bound by host path."""
    run("docker", "volume", "create", f"{LABEL}-data", capture=True)
    inspect = run("docker", "volume", "inspect", "-f", "{{.Mountpoint}}", f"{LABEL}-data", capture=True)
    return inspect.stdout.strip()


def salt_env() -> dict:
    path = f"{REPO / '.venv/bin'}:{os.environ['PATH']}"
    return dict(os.environ, SALT_MASTER_CONFIG=str(REPO / "master.conf"), PATH=path)


# --- Docker engine -------------------------------------------------------------------------


def ensure_docker() -> None:
    if not shutil.which("dockerd"):
        say("installing Debian's docker.io")
        run("apt-get", "update", "-qq")
        run("apt-get", "install", "-y", "-qq", "docker.io", env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if run("docker", "info", check=False, capture=True).returncode == 0:
        return
    say("starting dockerd (no service manager here)")
    LAB_DIR.mkdir(parents=True, exist_ok=True)
    with open(LAB_DIR / "dockerd.log", "a") as log:
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    for _ in range(60):
        if run("docker", "info", check=False, capture=True).returncode == 0:
            return
        time.sleep(1)
    sys.exit(f"dockerd did not start; see {LAB_DIR / 'dockerd.log'}")


def image_exists(ref: str) -> bool:
    return run("docker", "image", "inspect", ref, check=False, capture=True).returncode == 0


# --- Images --------------------------------------------------------------------------------


def host_ca_bundle() -> pathlib.Path:
    """The CA bundle this host's own clients trust: nodes reach PyPI through the same path."""
    return pathlib.Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")


def node_image_ref(master_ip: str) -> str:
    """Tagged by the hash of what goes into it, so a changed input rebuilds and nothing else does."""
    digest = hashlib.sha256()
    for path in [*sorted(NODE_CONTEXT.iterdir()), host_ca_bundle()]:
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(f"{ROOTFS_IMAGE}|{SALT_PACKAGES}|{master_ip}".encode())
    return f"{NODE_IMAGE}:{digest.hexdigest()[:12]}"


def build_rootfs() -> None:
    if image_exists(ROOTFS_IMAGE):
        return
    if not shutil.which("debootstrap"):
        run("apt-get", "install", "-y", "-qq", "debootstrap", env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    mirror = debian.mirror("bookworm")
    say("debootstrapping a bookworm minbase for the lab nodes (about 90 s, once)")
    with tempfile.TemporaryDirectory(dir="/var/tmp") as rootfs:
        run("debootstrap", "--variant=minbase", f"--include={ROOTFS_PACKAGES}", "bookworm", rootfs, mirror,
            stdout=subprocess.DEVNULL)  # fmt: skip
        # debootstrap writes only the release suite: nodes get the host's sources (updates, security).
        pathlib.Path(rootfs, "etc/apt/sources.list").unlink(missing_ok=True)
        for source in [pathlib.Path("/etc/apt/sources.list"), *pathlib.Path("/etc/apt/sources.list.d").glob("*")]:
            if source.is_file():
                shutil.copy(source, pathlib.Path(rootfs, "etc/apt", source.relative_to("/etc/apt")))
        tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        run("docker", "import", "--change", f"LABEL {LABEL}=rootfs", "-", ROOTFS_IMAGE, stdin=tar.stdout,
            stdout=subprocess.DEVNULL)  # fmt: skip
        if tar.wait() != 0:
            sys.exit("could not pack the debootstrapped rootfs")


def build_node_image(ref: str, master_ip: str) -> None:
    if image_exists(ref):
        return
    build_rootfs()
    say(f"building the node image {ref} (salt-minion from PyPI)")
    with tempfile.TemporaryDirectory() as context:
        shutil.copytree(NODE_CONTEXT, context, dirs_exist_ok=True)
        shutil.copy(host_ca_bundle(), pathlib.Path(context) / "host-ca-bundle.crt")
        run("docker", "build", "--quiet", "--label", f"{LABEL}=node", "--build-arg", f"ROOTFS={ROOTFS_IMAGE}",
            "--build-arg", f"SALT_PACKAGES={SALT_PACKAGES}", "--build-arg", f"MASTER_IP={master_ip}",
            "-t", ref, context, stdout=subprocess.DEVNULL)  # fmt: skip


# --- Network, master, nodes ---------------------------------------------------------------


def ensure_network(plat: dict) -> None:
    if run("docker", "network", "inspect", NETWORK, check=False, capture=True).returncode == 0:
        return
    say(f"creating the lab bridge {plat['network']} (the host is {plat['master_ip']})")
    run("docker", "network", "create", "--label", LABEL, "--subnet", plat["network"], "--gateway", plat["master_ip"],
        NETWORK, stdout=subprocess.DEVNULL)  # fmt: skip


def pid_alive(pidfile: pathlib.Path) -> int | None:
    try:
        pid = int(pidfile.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def master_pid() -> int | None:
    return pid_alive(STATE_DIR / "run" / "salt-master.pid")


def port_taken(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def write_master_include() -> bool:
    """
    The lab's file root (lab/salt: its build contexts) after production's; True if it or
    master.conf changed since it was written (the master reads both at start only).
    """
    master_conf = (REPO / "master.conf").read_text()
    production = yaml.safe_load(master_conf)["file_roots"]["base"]
    include = STATE_DIR / "master.d" / "lab.conf"
    include.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# Written by lab/lab.py: master.conf's file roots, then the lab's own.\n"
        f"# For master.conf {hashlib.sha256(master_conf.encode()).hexdigest()}\n"
    ) + yaml.safe_dump({"file_roots": {"base": [*production, "/srv/platform/lab/salt"]}})
    if include.exists() and include.read_text() == text:
        return False
    include.write_text(text)
    return True


def stop_master() -> None:
    pid = master_pid()
    if pid:
        say("stopping salt-master")
        os.kill(pid, 15)
        for _ in range(30):
            if not master_pid():
                break
            time.sleep(1)


def write_site_pillar() -> None:
    """lab/pillar/site.sls as this master's site pillar, with the versions the apt repository holds."""
    SITE_PILLAR.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by lab/lab.py from lab/pillar/site.sls: this master drives the offline lab.\n"
    SITE_PILLAR.write_text(header + yaml.safe_dump(aptrepo.site_pillar(), sort_keys=False, width=200))


def ensure_apt_repository(master_ip: str) -> None:
    """Build the signed repository of lab/packages and serve it on the lab network (master_ip)."""
    say(f"building the lab's apt repository (vendor-layout Mesos and Marathon packages) at {master_ip}:{aptrepo.PORT}")
    repo = aptrepo.build(LAB_DIR)
    pidfile = LAB_DIR / "apt-http.pid"
    if pid_alive(pidfile):
        return  # it serves the directory, rebuilt in place
    if port_taken(master_ip, aptrepo.PORT):
        sys.exit(f"{master_ip}:{aptrepo.PORT} is taken (a lab started from another checkout?); run `make down` there")
    with open(LAB_DIR / "apt-http.log", "a") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(aptrepo.PORT), "--bind", master_ip, "--directory", str(repo)],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    pidfile.write_text(str(server.pid))
    for _ in range(20):
        if port_taken(master_ip, aptrepo.PORT):
            return
        time.sleep(0.5)
    sys.exit(f"the apt repository's HTTP server did not start; see {LAB_DIR / 'apt-http.log'}")


def ensure_master(master_ip: str) -> None:
    if write_master_include():
        stop_master()  # the master reads its file roots at start only
    write_site_pillar()
    if master_pid():
        return
    if port_taken(master_ip, 4506):
        sys.exit(
            f"another salt-master already listens on {master_ip}:4506 (a lab started from another checkout?); "
            "run `make down` in that checkout, or stop it, then `make up` again"
        )
    say("starting salt-master on the host")
    (STATE_DIR / "log").mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / "log" / "master.out", "a") as log:
        subprocess.Popen(["salt-master"], cwd=REPO, env=salt_env(), stdout=log, stderr=log, start_new_session=True)
    for _ in range(60):
        if master_pid() and MASTER_KEY.exists():
            return
        time.sleep(1)
    sys.exit(f"salt-master did not start; see {STATE_DIR / 'log'}")


def container(node_id: str) -> str:
    return f"lab-{node_id}"


def node_exec(node_id: str, command: str) -> subprocess.CompletedProcess:
    """Run a bash command on a lab node (as its root), like an operator's ssh."""
    return run("docker", "exec", container(node_id), "bash", "-c", command, check=False, capture=True)


def node_hosts_file(plat: dict, node_id: str) -> pathlib.Path:
    """
    The node's /etc/hosts, a file of its own on the host, bound in: Docker writes a container's
    anew at every start, which would drop the peers' names the node's highstate wrote there
    each time the node restarts (a VM keeps its file).
    """
    path = LAB_DIR / "hosts" / node_id
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ip, fqdn = plat["nodes"][node_id]["ip"], f"{node_id}.{plat['domain']}"
        path.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ip}\t{fqdn}\t{node_id}\n")
    return path


def node_run_args(plat: dict, node_id: str, image: str) -> list[str]:
    node = plat["nodes"][node_id]
    name = container(node_id)
    # The NFS export (no kernel NFS here): one volume, the server's export directory. A client
    # gets its environment's directory of it only, as NFS exports it to it, at <device>/<env>
    # (the lab's site pillar nfs:mount), from where its highstate bind-mounts it.
    export, lab_export = nfs_paths()
    roles = set(node["roles"])
    shared = ["-v", f"{LABEL}-data:{export}"] if "nfs-server" in roles else []
    if "nfs-client" in roles:
        shared += ["-v", f"{shared_volume_dir()}/{node['env']}:{lab_export}/{node['env']}"]
    return [
        "--name", name, "--hostname", f"{node_id}.{plat['domain']}",
        "--network", NETWORK, "--ip", node["ip"], "--memory", f"{node.get('memory', 1024)}m",
        # Docker-in-Docker needs /var/lib/docker on a volume, not on the node's overlay.
        "-v", f"{name}-docker:/var/lib/docker", *shared, "-v", f"{node_hosts_file(plat, node_id)}:/etc/hosts",
        "-v", f"{MASTER_FINGER}:/etc/salt/minion.d/master_finger.conf:ro", *SYSTEMD_RUN_FLAGS, image,
    ]  # fmt: skip


def write_master_finger() -> None:
    """
    The master key's fingerprint as minion configuration (``master_finger``): a node talks to
    this master only, from its first contact. Computed as the minion computes it.
    """
    MASTER_FINGER.parent.mkdir(parents=True, exist_ok=True)
    finger = salt.utils.crypt.pem_finger(str(MASTER_KEY), sum_type="sha256")
    MASTER_FINGER.write_text(f"# Written by lab/lab.py: the lab master's key.\nmaster_finger: '{finger}'\n")


def ensure_nodes(plat: dict, image: str) -> None:
    """
    Start each node; a node whose run arguments or master changed is recreated (and its old
    key dropped): a minion refuses a master whose key differs from the one it first met.
    """
    for node_id in sorted(plat["nodes"]):
        name = container(node_id)
        args = node_run_args(plat, node_id, image)
        spec = hashlib.sha256("\0".join([*args, MASTER_KEY.read_text()]).encode()).hexdigest()[:12]
        state = run("docker", "inspect", "--format", f'{{{{.State.Running}}}} {{{{index .Config.Labels "{LABEL}"}}}}',
                    name, check=False, capture=True)  # fmt: skip
        running, _, current_spec = state.stdout.strip().partition(" ")
        if state.returncode == 0 and current_spec == spec:
            if running != "true":
                run("docker", "start", name, stdout=subprocess.DEVNULL)
            continue
        if state.returncode == 0:
            say(f"{node_id}: node definition changed, recreating it")
            run("docker", "rm", "-f", name, stdout=subprocess.DEVNULL)
            run("salt-key", "-y", "-d", node_id, env=salt_env(), cwd=REPO, check=False, capture=True)
        say(f"starting node {node_id} ({plat['nodes'][node_id]['ip']})")
        run("docker", "run", "-d", "--label", f"{LABEL}={spec}", *args, stdout=subprocess.DEVNULL)


def key_of(node_id: str) -> str:
    """The key a node holds itself, read on the node (the operator's out-of-band channel)."""
    return "".join(node_exec(node_id, "cat /etc/salt/pki/minion/minion.pub").stdout.split())


def accept_keys(node_ids: list[str], timeout: int = 180) -> None:
    """Accept each node's pending key once it is the key the node itself holds; refuse any other."""
    deadline = time.monotonic() + timeout
    while True:
        keys = json.loads(run("salt-key", "-L", "--out=json", env=salt_env(), capture=True, cwd=REPO).stdout)
        accepted = set(keys.get("minions", []))
        pending = [node for node in node_ids if node in keys.get("minions_pre", [])]
        for node in pending:
            shown = run("salt-key", "-p", node, "--out=json", env=salt_env(), capture=True, cwd=REPO).stdout
            offered = "".join(json.loads(shown).get("minions_pre", {}).get(node, "").split())
            if offered != key_of(node):
                sys.exit(
                    f"the key pending as {node} is not the one {node} holds: not accepted. Check who else "
                    f"claims that id, then `salt-key -d {node}` and `make up` again"
                )
            run("salt-key", "-y", "-a", node, env=salt_env(), cwd=REPO, capture=True)
        accepted |= set(pending)
        missing = [node for node in node_ids if node not in accepted]
        if not missing:
            return
        if time.monotonic() > deadline:
            sys.exit(f"no key from {', '.join(missing)} after {timeout}s: docker logs {container(missing[0])}")
        time.sleep(2)


# --- Commands ------------------------------------------------------------------------------


def link_checkout() -> None:
    """master.conf reads the checkout at /srv/platform: the lab is driven from this one."""
    link = pathlib.Path("/srv/platform")
    if link.resolve() == REPO:
        return
    if link.is_symlink():
        say(f"re-linking /srv/platform from {link.resolve()} to this checkout")
        link.unlink()
    elif link.exists():
        sys.exit("/srv/platform exists and is not a link; move it away or link it to this checkout")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(REPO)


def up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    link_checkout()
    plat = platform()
    ensure_docker()
    image = node_image_ref(plat["master_ip"])
    build_node_image(image, plat["master_ip"])
    ensure_network(plat)
    ensure_apt_repository(plat["master_ip"])
    ensure_master(plat["master_ip"])
    write_master_finger()
    # Before any node asks for its pillar: without the site's secrets every pillar fails to render.
    run("salt-run", "site.secrets", "--quiet", env=salt_env(), cwd=REPO)
    ensure_nodes(plat, image)
    node_ids = sorted(plat["nodes"])
    say(f"waiting for the keys of {len(node_ids)} nodes")
    accept_keys(node_ids)
    say(f"lab ready in {time.monotonic() - started:.0f}s")
    if args.no_converge:
        return 0
    say("salt-run cluster.up")
    converged = run("salt-run", "cluster.up", env=salt_env(), cwd=REPO, check=False).returncode
    run("salt-run", "cluster.status", "--out=platform_status", env=salt_env(), cwd=REPO, check=False)
    run("salt-run", "app.status", "--out=app_status", env=salt_env(), cwd=REPO, check=False)
    say(f"done in {time.monotonic() - started:.0f}s")
    vip, ca = plat["vip"], save_cluster_ca(plat)
    print(
        "\n  the app, over HTTPS through the VIP (Notejam; sign up, write notes, reload to see the serving container):"
        + "".join(
            f"\n    curl --cacert {ca} --resolve app-{env}:443:{vip} https://app-{env}/" for env in plat["environments"]
        )
        + f"\n    or in a browser: add '{vip} "
        + " ".join(f"app-{env}" for env in plat["environments"])
        + f"' to /etc/hosts, trust the lab's CA ({ca}) and open https://app-test/"
        + "\n  the platform:  . ./activate && salt-run cluster.status; salt-run app.status"
    )
    return converged


def save_cluster_ca(plat: dict) -> str:
    """The cluster CA's certificate, copied from the node that holds it to .salt/ca.crt (what a browser trusts)."""
    ca_node = next(node for node, spec in sorted(plat["nodes"].items()) if "registry" in spec["roles"])
    path = STATE_DIR / "ca.crt"
    path.write_text(node_exec(ca_node, "cat /etc/pki/platform-ca/ca.crt").stdout)
    return str(path.relative_to(REPO))


def docker(args: argparse.Namespace) -> int:
    ensure_docker()
    return 0


def down(args: argparse.Namespace) -> int:
    plat = platform()
    if shutil.which("docker") and run("docker", "info", check=False, capture=True).returncode == 0:
        say("removing the lab nodes, their volumes and the network")
        for node_id in sorted(plat["nodes"]):
            run("docker", "rm", "-f", "-v", container(node_id), check=False, capture=True)
            run("docker", "volume", "rm", f"{container(node_id)}-docker", check=False, capture=True)
        run("docker", "volume", "rm", f"{LABEL}-data", check=False, capture=True)
        run("docker", "network", "rm", NETWORK, check=False, capture=True)
    apt_server = pid_alive(LAB_DIR / "apt-http.pid")
    if apt_server:
        os.kill(apt_server, 15)
    stop_master()
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    link = pathlib.Path("/srv/platform")
    if link.is_symlink() and link.resolve() == REPO:
        link.unlink()
    if args.keep_images:
        say("lab removed; the node images platform-lab/* stay for the next `make up`")
        return 0
    if shutil.which("docker") and run("docker", "info", check=False, capture=True).returncode == 0:
        # Node images first, then the root filesystems they are built on (a parent image with
        # children cannot be removed).
        for _ in range(3):
            listed = run("docker", "images", "-q", "--filter", f"reference={LABEL}/*", check=False, capture=True)
            if not listed.stdout.split():
                break
            run("docker", "rmi", "-f", *sorted(set(listed.stdout.split())), check=False, capture=True)
        # Earlier node images whose tag moved on (untagged, still labelled); nobody else's.
        run("docker", "image", "prune", "-f", "--filter", f"label={LABEL}", check=False, capture=True)
    say("lab removed: nodes, volumes, network, master state, /srv/platform and the node images")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="build and start the lab, then salt-run cluster.up")
    up_parser.add_argument("--no-converge", action="store_true", help="stop once every node's key is accepted")
    up_parser.set_defaults(func=up)
    down_parser = commands.add_parser("down", help="remove nodes, volumes, network, master state and images")
    down_parser.add_argument(
        "--keep-images", action="store_true", help="keep the node images, so the next `up` skips building them"
    )
    down_parser.set_defaults(func=down)
    commands.add_parser("docker", help="install and start the Docker engine only").set_defaults(func=docker)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
