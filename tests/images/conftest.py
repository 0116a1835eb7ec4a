"""Fixtures of the image tests (make check-images; root).

- engine: a private Docker engine (tests/lib/dockerd.py) whose data root
  is kept in build/images/engine, so its images and BuildKit's cache make
  a second run rebuild only what changed; one test session at a time uses
  it (a lock). Its containers are removed at the end, its images kept.
- images: the base image made from a debootstrap root and both images
  built by packaging/images.sh (what make image-runner and image-agent
  run) from the Dockerfiles as they are, with real `docker build`.
- sandbox: the local ECS cluster of tests/sandbox (namespaces as container
  instances, each with its own Docker engine and agent; moto as AWS).

The packages must be built first (make packages), and the project
virtualenv made (scripts/setup-venv.sh): make check-images does both.
"""

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))

from dockerd import Dockerd  # noqa: E402
from procs import wait_for  # noqa: E402,F401  (the tests use it from here)
import sandbox as sbx  # noqa: E402

VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()
IMAGES_SH = os.path.join(ROOT, "packaging", "images.sh")
CACHE = os.path.join(ROOT, "build", "images")
PACKAGES = os.path.join(ROOT, "build", "packages")
SANDBOX = os.path.join(ROOT, "tests", "sandbox", "sandbox.py")
VENV_PY = os.path.join(ROOT, ".venv", "bin", "python")
# The machine's trust store, handed to the builds: where a proxy
# intercepts TLS (as here), pip and Go inside the build need its CA.
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
RUNNER = "chaos-kit-runner:" + VERSION
AGENT = "chaos-kit-agent:" + VERSION


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="image tests need root (make check-images)")
        for item in items:
            item.add_marker(skip)


def run(argv, timeout=120, check=True, **kw):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check:
        assert p.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(map(str, argv)),
                                                         p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture(scope="session")
def engine():
    os.makedirs(CACHE, exist_ok=True)
    lock = open(os.path.join(CACHE, ".engine.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    d = Dockerd(prefix="ckimg", data_root=os.path.join(CACHE, "engine"),
                storage_driver="overlay2")
    try:
        d.start()
        yield d
    finally:
        try:
            if d.ping():
                # the build cache stays bounded; dangling images go
                d.docker("builder", "prune", "-f", "--keep-storage", "4GB", check=False,
                         timeout=300)
                d.docker("image", "prune", "-f", check=False, timeout=300)
        finally:
            d.stop()
            lock.close()


def images_sh(engine, *args):
    env = dict(os.environ, DOCKER_HOST="unix://" + engine.socket)
    if os.path.exists(SYSTEM_CA):
        env["BUILD_CA_BUNDLE"] = SYSTEM_CA
    t0 = time.monotonic()
    p = subprocess.run([IMAGES_SH, *args], env=env, capture_output=True, text=True,
                       timeout=3600, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "packaging/images.sh %s failed:\n%s" % (
        " ".join(args), (p.stdout + p.stderr)[-6000:])
    return time.monotonic() - t0


@pytest.fixture(scope="session")
def images(engine):
    """{"runner": ref, "agent": ref, "seconds": {step: s}, "size": {name: bytes}}"""
    for name in ("chaosctl", "chaos-agent"):
        deb = os.path.join(PACKAGES, "%s_%s-1_amd64.deb" % (name, VERSION))
        assert os.path.exists(deb), "%s missing: run make packages first" % deb
    seconds = {"base": images_sh(engine, "base")}
    # The engine has no bridge: the builds' RUN steps use the host's network.
    seconds["agent"] = images_sh(engine, "agent", "--network", "host")
    seconds["runner"] = images_sh(engine, "runner", "--network", "host")
    size = {ref: int(engine.docker("image", "inspect", "-f", "{{.Size}}", ref))
            for ref in (RUNNER, AGENT)}
    print("\nimages: built in %s; sizes %s" % (
        ", ".join("%s %.0fs" % kv for kv in seconds.items()),
        ", ".join("%s %.0f MB" % (r, s / 1e6) for r, s in size.items())))
    return {"runner": RUNNER, "agent": AGENT, "seconds": seconds, "size": size}


class Sandbox:
    """tests/sandbox/sandbox.py up in a directory of its own; down removes it."""

    def __init__(self, instances=2):
        self.dir = tempfile.mkdtemp(prefix="ckx-img-", dir="/tmp")
        self.instances = instances
        self.state = None

    def up(self):
        p = subprocess.run([sys.executable, SANDBOX, "--dir", self.dir, "up", "--instances",
                            str(self.instances)], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, "sandbox up failed:\n" + p.stdout + p.stderr
        with open(os.path.join(self.dir, "state.json")) as f:
            self.state = json.load(f)

    def down(self):
        subprocess.run([sys.executable, SANDBOX, "--dir", self.dir, "down"],
                       capture_output=True, text=True, timeout=300)

    def engine(self, k):
        return sbx.Engine(self.dir, k)

    def containers(self, k, ecs_container=None):
        """{name: state} of instance k's engine; with ecs_container, only the
        containers the ECS agent labelled with that container name."""
        flt = [] if ecs_container is None else [
            "--filter", "label=%s=%s" % (sbx.L_CONTAINER, ecs_container)]
        out = self.engine(k).docker("ps", "-a", *flt, "--format", "{{.Names}}\t{{.State}}")
        return dict(line.split("\t") for line in out.splitlines())

    def api_containers(self):
        """{(instance, name): state} of the API service's app containers."""
        return {(k, n): s for k in range(1, self.instances + 1)
                for n, s in self.containers(k, sbx.API_CONTAINER).items()}

    def env(self):
        return sbx.sandbox_env(self.state)

    @property
    def moto_url(self):
        return self.state["moto"]["url"]

    def moto(self):
        from moto import MotoServer
        return MotoServer.client(self.state["moto"]["port"], self.dir)


SANDBOX_NETNS = ["ckx-vpc", "ckx-rds"] + ["ckx-i%d" % k for k in range(1, 5)]


@pytest.fixture(scope="session")
def sandbox():
    # One sandbox a machine (fixed names and addresses): wait for another
    # test session's to go.
    def free():
        return not any(os.path.exists("/run/netns/" + n) for n in SANDBOX_NETNS)
    t0 = time.monotonic()
    if not free():
        print("\nwaiting for another sandbox on this machine to be taken down")
        try:
            wait_for(free, 1800, interval=2, desc="the other sandbox to go")
        except AssertionError:
            pytest.fail("another sandbox has been up for 30 min (/run/netns/ckx-*)",
                        pytrace=False)
    waited = time.monotonic() - t0
    s = Sandbox()
    try:
        s.up()
        # what the layer costs, apart from other test sessions' sandboxes
        print("\nsandbox: up in %.0f s (after %.0f s waiting for another one)"
              % (time.monotonic() - t0 - waited, waited))
        yield s
    finally:
        s.down()
    for name in SANDBOX_NETNS:
        assert not os.path.exists("/run/netns/" + name), "sandbox down left " + name
    assert not os.path.exists(s.dir), "sandbox down left " + s.dir
