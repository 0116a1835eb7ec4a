"""The shipped binaries carry OpenSSL from Debian 11's security archive, not
the point release's 1.1.1w-0+deb11u1 (whose arm64 updates the mirror
lacks): packaging/build-in-root.sh compiles it from the newest source
apt finds in bullseye-security and adds the Debian revision to its version
text, since upstream's "1.1.1w" is the same in every update. Both programs
print that text (chaos-agent --version, chaosctl version): each package's
binaries are run, arm64 under qemu-user, and must name the revision that
was fetched, deb11u8 or later."""

import glob
import json
import os
import re
import subprocess

import pytest

import pkgtest

# The first update whose source this build could fetch for both
# architectures (December 2026); later ones are fine.
OLDEST = "1.1.1w-0+deb11u8"
SOURCES = os.path.join(pkgtest.ROOT, "build", "pkg", "deps", "src")


def fetched_version():
    dscs = glob.glob(os.path.join(SOURCES, "openssl_*.dsc"))
    assert len(dscs) == 1, "want one OpenSSL source in %s: %s" % (SOURCES, dscs)
    with open(dscs[0]) as f:
        return re.search(r"^Version: (\S+)$", f.read(), re.M).group(1)


@pytest.fixture(scope="module")
def run_root():
    return pkgtest.roots_path("run")


def test_the_build_fetched_a_security_update():
    v = fetched_version()
    r = subprocess.run(["dpkg", "--compare-versions", v, "ge", OLDEST])
    assert r.returncode == 0, "OpenSSL source %s is older than %s" % (v, OLDEST)
    print("OpenSSL source: %s" % v)


@pytest.mark.parametrize("arch,fmt", [("amd64", "deb"), ("amd64", "rpm"),
                                      ("arm64", "deb"), ("arm64", "rpm")])
def test_binaries_report_the_openssl_they_embed(workdir, run_root, arch, fmt):
    want = "OpenSSL 1.1.1w  11 Sep 2023 (Debian %s)" % fetched_version()
    d = os.path.join(workdir, "openssl-%s-%s" % (arch, fmt))
    unpack = pkgtest.extract_deb if fmt == "deb" else pkgtest.extract_rpm
    for name in ("chaos-agent", "chaosctl"):
        unpack(pkgtest.package(name, arch, fmt), d)
    # arm64 runs under qemu-user with Debian 11's arm64 glibc of the run root
    prefix = [] if arch == "amd64" else ["qemu-aarch64-static", "-L", run_root]

    def out(*argv):
        r = subprocess.run(prefix + list(argv), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
        return r.stdout.strip()
    agent = out(os.path.join(d, "usr/sbin/chaos-agent"), "--version")
    assert agent == "chaos-agent %s (%s)" % (pkgtest.VERSION, want), agent
    ctl = os.path.join(d, "usr/bin/chaosctl")
    text = out(ctl, "version")
    assert re.fullmatch(r"chaosctl %s \(libcurl [0-9.]+, %s\)" % (
        re.escape(pkgtest.VERSION), re.escape(want)), text), text
    assert json.loads(out(ctl, "--output", "json", "version"))["openssl"] == want
    print("%s %s: %s" % (arch, fmt, agent))
