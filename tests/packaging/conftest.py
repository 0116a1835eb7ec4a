"""Fixtures of the packaging tests. They need root (debootstrap roots,
systemd-nspawn, chroot) and the packages from `make packages`;
`make check-packaging` builds those first."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pkgtest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="packaging tests need root (make check-packaging)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def workdir():
    d = pkgtest.tmpdir("run-")
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


@pytest.fixture(scope="session")
def ctl_bin(workdir):
    """The amd64 chaosctl from its DEB, extracted on the host."""
    d = pkgtest.extract_deb(pkgtest.package("chaosctl", "amd64", "deb"),
                            os.path.join(workdir, "chaosctl-deb"))
    return os.path.join(d, "usr", "bin", "chaosctl")


@pytest.fixture(scope="session")
def keyfile(workdir, ctl_bin):
    path = os.path.join(workdir, "agent.key")
    r = subprocess.run([ctl_bin, "keygen", "--out", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture(scope="session")
def boot_root():
    return pkgtest.roots_path("boot")


@pytest.fixture(scope="module")
def machine(boot_root, workdir, request):
    """Debian 12 booted under systemd-nspawn; stopped and deleted afterwards."""
    name = "chaos-pkg-%d-%s" % (os.getpid(), request.module.__name__.split("_")[-1])
    m = pkgtest.Machine(boot_root, workdir, name)
    try:
        state = m.start()
        print("\n%s booted (%s)" % (name, state))
        yield m
    finally:
        m.stop()
