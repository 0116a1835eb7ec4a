"""Helpers of the packaging tests (tests/packaging): where the built
packages are, a Debian root booted with systemd-nspawn, a root entered with
chroot, the packaged chaosctl, and CPU use measured from /proc.

Everything here runs real programs; nothing is mocked. Every helper that
starts something has a stop that is safe to call twice and after a failure.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from procs import proc_comm, proc_stat, wait_for  # noqa: E402,F401  (tests use pkgtest.wait_for)
DIST = os.path.join(ROOT, "build", "packages")
VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()
CLK_TCK = os.sysconf("SC_CLK_TCK")

DEB_ARCH = {"amd64": "amd64", "arm64": "arm64"}
RPM_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}


def package(name, arch, fmt):
    """Path of a built package; fails with how to build it when missing."""
    if fmt == "deb":
        path = os.path.join(DIST, "%s_%s-1_%s.deb" % (name, VERSION, DEB_ARCH[arch]))
    else:
        path = os.path.join(DIST, "%s-%s-1.%s.rpm" % (name, VERSION, RPM_ARCH[arch]))
    assert os.path.isfile(path), "%s missing: run 'make packages' first" % path
    return path


def all_packages():
    return sorted(glob.glob(os.path.join(DIST, "*.deb")) + glob.glob(os.path.join(DIST, "*.rpm")))


def roots_path(kind):
    """build/roots/<root> made (or reused) by packaging/roots.sh."""
    r = subprocess.run(["bash", "-c", ". packaging/roots.sh && root_%s" % kind], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, "packaging/roots.sh root_%s failed:\n%s" % (kind, r.stderr[-3000:])
    return r.stdout.strip().splitlines()[-1]


# ------------------------------------------------------------ CPU from /proc


def cpu_ticks(pid):
    """utime + stime of pid in clock ticks, or None when it is gone."""
    st = proc_stat(pid)
    return None if st is None else int(st[11]) + int(st[12])


def cpu_percent(pids, seconds):
    """Total CPU of pids over `seconds`, in percent of one core."""
    t0 = time.monotonic()
    c0 = {p: cpu_ticks(p) for p in pids}
    time.sleep(seconds)
    c1 = {p: cpu_ticks(p) for p in pids}
    dt = time.monotonic() - t0
    used = sum(c1[p] - c0[p] for p in pids if c0[p] is not None and c1[p] is not None)
    return 100.0 * used / CLK_TCK / dt


# ------------------------------------------------------------ chaosctl


class Ctl:
    """The packaged chaosctl (extracted from its DEB) against one agent."""

    def __init__(self, binary, url, keyfile, prefix=()):
        self.argv = list(prefix) + [binary, "--agent", url, "--key-file", keyfile,
                                    "--output", "json"]

    def __call__(self, *args, check=True, timeout=60):
        r = subprocess.run(self.argv + list(args), capture_output=True, text=True,
                           timeout=timeout)
        if check:
            assert r.returncode == 0, "chaosctl %s -> %d\n%s\n%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {"raw": r.stdout, "stderr": r.stderr, "rc": r.returncode}

    def burn(self, duration=120, load=50, cores=1):
        out = self("inject", "burn-cpu", "--duration", str(duration), "--load", str(load),
                   "--cores", str(cores))
        fault = out["results"][0]["body"]
        return fault["id"], fault["detail"]["burner_pids"]


def extract_deb(deb, dest):
    """Unpack a DEB's files into dest, keeping dest's directory links (a
    merged-/usr root's /lib -> usr/lib), as dpkg itself would."""
    os.makedirs(dest, exist_ok=True)
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE) as p:
        subprocess.run(["tar", "-x", "--keep-directory-symlink", "-C", dest], stdin=p.stdout,
                       check=True, timeout=60)
    assert p.returncode == 0, "dpkg-deb --fsys-tarfile %s failed" % deb
    return dest


def extract_rpm(rpm, dest):
    os.makedirs(dest, exist_ok=True)
    with subprocess.Popen(["rpm2cpio", rpm], stdout=subprocess.PIPE) as p:
        subprocess.run(["cpio", "-idm", "--quiet"], stdin=p.stdout, cwd=dest, check=True,
                       timeout=60)
    assert p.returncode == 0, "rpm2cpio %s failed" % rpm
    return dest


def end_group(p, grace):
    """SIGTERM p's process group, SIGKILL it after grace seconds; p may be
    None or gone already."""
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=grace)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(timeout=30)


# ------------------------------------------------------------ nspawn


class Machine:
    """A copy of a Debian root booted with `systemd-nspawn --boot`, sharing
    the host's network (so the host reaches its services on 127.0.0.1).
    Commands run inside through nsenter into every namespace of its init."""

    def __init__(self, base, workdir, name):
        self.base = base
        self.dir = os.path.join(workdir, name)
        self.root = os.path.join(self.dir, "root")
        self.name = name
        self.proc = None
        self.leader = None
        self.mounted_tmpfs = False
        self.console = os.path.join(self.dir, "console.log")

    def start(self, timeout=120):
        nspawn_run = "/run/systemd/nspawn"
        os.makedirs(nspawn_run, exist_ok=True)
        # nspawn keeps its propagation directories there; on a host whose
        # /run is not a tmpfs (no systemd as PID 1) it needs one.
        if subprocess.run(["mountpoint", "-q", nspawn_run]).returncode != 0:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", nspawn_run],
                           check=True)
            self.mounted_tmpfs = True
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        subprocess.run(["cp", "-a", "--reflink=auto", self.base, self.root], check=True,
                       timeout=300)
        with open(self.console, "wb") as log:
            self.proc = subprocess.Popen(
                # CAP_NET_ADMIN: nspawn withholds it from a container that
                # shares the host's network, but the agent keeps it (tc) and
                # refuses to start without every capability it keeps, as a
                # real host's root has them.
                ["systemd-nspawn", "--boot", "--quiet", "--directory", self.root,
                 "--machine", self.name, "--register=no", "--keep-unit",
                 "--capability=CAP_NET_ADMIN"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        self.leader = wait_for(self._leader, 30, desc="the container's init")
        try:
            return wait_for(lambda: self._state() in ("running", "degraded") and self._state(),
                            timeout, interval=0.5, desc="the container to boot")
        except AssertionError as e:
            jobs = self.run(["systemctl", "list-jobs", "--no-pager"], check=False)
            raise AssertionError("%s (state '%s'; jobs: %s)\nconsole:\n%s" % (
                e, self._state(), jobs.stdout + jobs.stderr,
                open(self.console, errors="replace").read()[-2000:])) from None

    def _leader(self):
        if self.proc.poll() is not None:
            raise AssertionError("systemd-nspawn exited %d:\n%s" % (
                self.proc.returncode, open(self.console, errors="replace").read()[-3000:]))
        # nspawn's first child may be a short-lived helper that sets up the
        # container; the leader is the child that runs systemd.
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            return None
        for k in kids:
            if proc_comm(k) == "systemd":
                return k
        return None

    def _state(self):
        r = self.run(["systemctl", "is-system-running"], check=False, timeout=10)
        return r.stdout.strip()

    def run(self, argv, check=True, env=None, timeout=120, input=None):
        """Run argv inside; returns CompletedProcess (text)."""
        e = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", "HOME=/root"]
        e += ["%s=%s" % kv for kv in (env or {}).items()]
        r = subprocess.run(["nsenter", "--target", str(self.leader), "--all", "--",
                            "/usr/bin/env", "-i"] + e + list(argv),
                           capture_output=True, text=True, timeout=timeout, input=input)
        if check:
            assert r.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(argv), r.returncode,
                                                             r.stdout, r.stderr)
        return r

    def sh(self, script, check=True, timeout=120, env=None):
        return self.run(["bash", "-c", script], check=check, timeout=timeout, env=env)

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def journal(self, unit="chaos-agent.service"):
        return self.run(["journalctl", "-u", unit, "--no-pager", "-o", "cat"],
                        check=False).stdout

    def stop(self):
        p, self.proc = self.proc, None
        # SIGTERM makes nspawn shut the container down cleanly; the copy is
        # thrown away, so a shutdown that dawdles is cut short: killing the
        # container's init ends every process in it.
        end_group(p, 10)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.mounted_tmpfs:
            subprocess.run(["umount", "-l", "/run/systemd/nspawn"], check=False)
            self.mounted_tmpfs = False


# ------------------------------------------------------------ chroot


class Chroot:
    """A throw-away copy of a root, entered with chroot in a private mount
    namespace (its /proc mount vanishes with the namespace). Processes
    started in it share the host's PID and network namespaces, so the host
    measures them in /proc and reaches them on 127.0.0.1."""

    def __init__(self, base, workdir, name):
        self.root = os.path.join(workdir, name)
        subprocess.run(["rm", "-rf", self.root], check=True)
        subprocess.run(["cp", "-a", "--reflink=auto", base, self.root], check=True, timeout=300)
        self.procs = []

    def argv(self, argv, env=None):
        e = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]
        e += ["%s=%s" % kv for kv in (env or {}).items()]
        inner = 'mount -t proc proc "$1/proc" && root=$1 && shift && exec chroot "$root" "$@"'
        return (["unshare", "--mount", "--propagation", "private", "--fork", "--",
                 "bash", "-c", inner, "_", self.root, "/usr/bin/env", "-i"] + e + list(argv))

    def run(self, argv, check=True, timeout=60, env=None):
        r = subprocess.run(self.argv(argv, env), capture_output=True, text=True,
                           timeout=timeout)
        if check:
            assert r.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(argv), r.returncode,
                                                             r.stdout, r.stderr)
        return r

    def spawn(self, argv, log):
        p = subprocess.Popen(self.argv(argv), stdin=subprocess.DEVNULL, stdout=log,
                             stderr=log, start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            # The agent reverts its faults on SIGTERM (up to 30 s).
            end_group(p, 40)
        self.procs = []
        subprocess.run(["rm", "-rf", self.root], check=False)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tmpdir(prefix):
    d = os.path.join(ROOT, "build", "pkgtest")
    os.makedirs(d, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=d)
