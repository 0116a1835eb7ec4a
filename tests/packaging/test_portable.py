"""The packages' payloads run on glibc 2.31 with none of the project's
libraries: each DEB and RPM is unpacked into a Debian 11 minbase root.

amd64: the agent starts, its chaosctl signs a request that the agent
accepts, and a burn-cpu fault burns CPU measured from the host's /proc.

arm64, under qemu-user: both programs run and chaos-agent -n accepts the
packaged configuration; the arm64 chaosctl signs requests that an amd64
agent accepts (same format's package) and starts a burn there. The arm64
agent itself starts and listens, but its HTTP worker cannot: qemu-user does
not emulate seccomp, so the worker's seccomp_init fails (asserted, so a
qemu that learns seccomp shows up here). Serving and burning on arm64
needs real arm64 hardware or a full-system emulator."""

import os
import subprocess
import time

import pytest

import pkgtest

BINFMT = "/proc/sys/fs/binfmt_misc"
BINFMT_NAME = "chaos-kit-aarch64"
# The ELF header of an aarch64 executable and the mask that matches it
# (Debian's qemu-user-static registers the same).
AARCH64_MAGIC = r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
AARCH64_MASK = r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"


@pytest.fixture(scope="module")
def run_root():
    return pkgtest.roots_path("run")


@pytest.fixture(scope="module")
def qemu_aarch64():
    """Let the kernel run aarch64 programs through qemu-aarch64-static, also
    inside a chroot (flag F: the interpreter is opened now). Undone after."""
    mounted = registered = False
    if not os.path.exists(os.path.join(BINFMT, "register")):
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT], check=True)
        mounted = True
    entry = os.path.join(BINFMT, BINFMT_NAME)
    if not os.path.exists(entry):
        with open(os.path.join(BINFMT, "register"), "w") as f:
            f.write(":%s:M::%s:%s:/usr/bin/qemu-aarch64-static:F" % (
                BINFMT_NAME, AARCH64_MAGIC, AARCH64_MASK))
        registered = True
    try:
        yield
    finally:
        if registered:
            with open(entry, "w") as f:
                f.write("-1")
        if mounted:
            subprocess.run(["umount", BINFMT], check=False)


def project_libraries(root):
    found = []
    for d, _, files in os.walk(root):
        if d.startswith(os.path.join(root, "proc")):
            continue
        found += [os.path.join(d, f) for f in files
                  if f.startswith(("libmicrohttpd", "libcjson", "libcurl", "libexpat"))]
    return found


def arm64_agent_cannot_serve_under_qemu(root, workdir, fmt):
    path = os.path.join(workdir, "agent-arm64-%s-qemu.log" % fmt)
    with open(path, "wb") as log:
        p = root.spawn(["/usr/sbin/chaos-agent", "--listen", "127.0.0.1:0"], log)
    try:
        pkgtest.wait_for(lambda: "seccomp_init failed" in open(path).read(), 30,
                         desc="the arm64 worker's seccomp_init to fail under qemu-user")
        text = open(path).read()
        assert '"event":"listening"' in text.replace(" ", "") or "listening" in text, text
        print("arm64 %s: agent %s under qemu-user; worker: seccomp_init failed (qemu-user "
              "has no seccomp)" % (fmt, "listening"))
    finally:
        pkgtest.end_group(p, 10)


@pytest.mark.parametrize("arch,fmt", [("amd64", "deb"), ("amd64", "rpm"),
                                      ("arm64", "deb"), ("arm64", "rpm")])
def test_payload_runs_on_debian_11(run_root, workdir, keyfile, request, arch, fmt):
    if arch == "arm64":
        request.getfixturevalue("qemu_aarch64")
    root = pkgtest.Chroot(run_root, workdir, "run-%s-%s" % (arch, fmt))
    try:
        assert project_libraries(root.root) == [], "the Debian 11 root has our libraries"
        glibc = root.run(["dpkg-query", "-W", "-f", "${Version}", "libc6"]).stdout
        assert glibc.startswith("2.31"), glibc
        unpack = pkgtest.extract_deb if fmt == "deb" else pkgtest.extract_rpm
        for name in ("chaos-agent", "chaosctl"):
            unpack(pkgtest.package(name, arch, fmt), root.root)
        key = os.path.join(root.root, "etc/chaos-agent/agent.key")
        with open(keyfile) as src, open(key, "w") as dst:
            dst.write(src.read())
        os.chmod(key, 0o600)
        root.run(["useradd", "--system", "--no-create-home", "chaos-agent"])
        agent_bin = "/usr/sbin/chaos-agent"
        r = root.run([agent_bin, "-n"])
        assert r.stdout.startswith("configuration OK"), r.stdout
        if arch == "arm64":
            arm64_agent_cannot_serve_under_qemu(root, workdir, fmt)
            # The requests go to the amd64 agent of the same package format.
            amd64 = os.path.join(root.root, "opt", "amd64")
            unpack(pkgtest.package("chaos-agent", "amd64", fmt), amd64)
            agent_bin = "/opt/amd64/usr/sbin/chaos-agent"
        # The packaged configuration, as installed; only the port changes.
        port = pkgtest.free_port()
        log = open(os.path.join(workdir, "agent-%s-%s.log" % (arch, fmt)), "wb")
        t0 = time.monotonic()
        agent = root.spawn([agent_bin, "--listen", "127.0.0.1:%d" % port], log)
        # The package's chaosctl, run inside the root too.
        ctl = pkgtest.Ctl("/usr/bin/chaosctl", "http://127.0.0.1:%d" % port,
                          "/etc/chaos-agent/agent.key")
        ctl.argv = root.argv(ctl.argv)

        def answers():
            assert agent.poll() is None, open(log.name).read()[-2000:]
            out = ctl("info", check=False)
            return out.get("results") and out["results"][0]["ok"] and out
        info = pkgtest.wait_for(answers, 60, interval=0.3, desc="the agent to answer")
        print("%s %s: answered after %.1f s" % (arch, fmt, time.monotonic() - t0))
        assert info["results"][0]["body"]["version"] == pkgtest.VERSION
        if arch == "arm64":
            fid, pids = ctl.burn(duration=30, load=60, cores=1)
            ctl("revert", fid)
            return
        fid, pids = ctl.burn(duration=30, load=60, cores=1)
        load = pkgtest.cpu_percent(pids, 3.0)
        print("%s %s: burn-cpu 60%% on one core measured %.0f%%" % (arch, fmt, load))
        # It burns, and holds back: the band is wide because the build
        # machine may be busy with other work (accuracy is measured by the
        # integration tests).
        assert 20 <= load <= 90, load
        out = ctl("revert", fid)
        assert out["results"][0]["ok"], out
        pkgtest.wait_for(lambda: all(pkgtest.cpu_ticks(p) is None for p in pids), 10,
                         desc="the burner to end")
    finally:
        root.stop()
