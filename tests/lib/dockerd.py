"""A private Docker engine for tests and benchmarks.

Starts Debian's dockerd with its own socket, data root, exec root and pid
file under one temporary directory, with no bridge and no iptables rules,
so it touches nothing of the host's own Docker (if any). Test images are
made with `docker import` from busybox-static. stop() removes every
container, stops the engine and deletes the directory.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUSYBOX = "/bin/busybox"
IMAGE = "chaos-busybox:test"

# The labels the ECS agent puts on task containers.
ECS_CLUSTER = "com.amazonaws.ecs.cluster"
ECS_TASK_ARN = "com.amazonaws.ecs.task-arn"
ECS_FAMILY = "com.amazonaws.ecs.task-definition-family"
ECS_REVISION = "com.amazonaws.ecs.task-definition-version"
ECS_CONTAINER = "com.amazonaws.ecs.container-name"
ECS_PAUSE = "~internal~ecs~pause"


class DockerError(RuntimeError):
    pass


def container_ids(data_root):
    """The ids of the containers an engine with this data root knows."""
    try:
        return os.listdir(os.path.join(data_root, "containers"))
    except OSError:
        return []


def thaw(ids):
    """Thaw the containers' freezer cgroups: a paused container ignores
    SIGKILL until it is thawed."""
    for i in ids:
        for path, value in (("/sys/fs/cgroup/freezer/docker/%s/freezer.state" % i, "THAWED"),
                            ("/sys/fs/cgroup/docker/%s/cgroup.freeze" % i, "0"),
                            ("/sys/fs/cgroup/system.slice/docker-%s.scope/cgroup.freeze" % i,
                             "0")):
            try:
                with open(path, "w") as f:
                    f.write(value)
            except OSError:
                pass


def remove_cgroups(ids, timeout=5.0):
    """Remove the cgroups (cgroupfs driver, v1 or v2) an engine killed
    without clean-up leaves behind, once their processes are gone."""
    paths = [os.path.join("/sys/fs/cgroup", base, "docker", i)
             for i in ids for base in [""] + os.listdir("/sys/fs/cgroup")]
    deadline = time.monotonic() + timeout
    while True:
        paths = [p for p in paths if os.path.isdir(p)]
        for p in paths:
            try:
                os.rmdir(p)
            except OSError:
                pass
        paths = [p for p in paths if os.path.isdir(p)]
        if not paths or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def engine_api(path, method, url, timeout=5):
    """One call to the Engine API on the unix socket at path: (status, body),
    or None when no engine answers."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(("%s %s HTTP/1.0\r\nHost: docker\r\nContent-Length: 0\r\n\r\n"
                   % (method, url)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        return int(head.split()[1]), body
    except (IndexError, ValueError):
        return None


def ping_socket(path):
    """Does a Docker engine answer on the unix socket at path?"""
    r = engine_api(path, "GET", "/_ping", timeout=1)
    return r is not None and r[0] == 200 and r[1].strip() == b"OK"


class Dockerd:
    def __init__(self, prefix="ckd"):
        # A short path: unix socket paths are limited to 107 bytes.
        self.dir = tempfile.mkdtemp(prefix=prefix + "-", dir="/tmp")
        self.socket = os.path.join(self.dir, "docker.sock")
        self.proc = None
        self.log = os.path.join(self.dir, "dockerd.log")
        self.created = set()   # ids of the containers run through docker()

    def start(self, timeout=60):
        if shutil.which("dockerd") is None:
            raise DockerError("dockerd is not installed: run scripts/install-deps.sh")
        argv = [
            "dockerd",
            "--host", "unix://" + self.socket,
            "--data-root", os.path.join(self.dir, "data"),
            "--exec-root", os.path.join(self.dir, "exec"),
            "--pidfile", os.path.join(self.dir, "docker.pid"),
            "--iptables=false", "--ip-masq=false", "--bridge=none",
            "--storage-driver=vfs",
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DockerError("dockerd exited:\n" + self.log_tail())
            if self.ping():
                return self
            time.sleep(0.1)
        raise DockerError("dockerd did not answer in %ss:\n%s" % (timeout, self.log_tail()))

    def log_tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def ping(self):
        return ping_socket(self.socket)

    def docker(self, *args, check=True, timeout=60):
        p = subprocess.run(["docker", "-H", "unix://" + self.socket, *args],
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise DockerError("docker %s: %s" % (" ".join(args), p.stderr.strip()))
        if args and args[0] in ("run", "create") and p.returncode == 0:
            self.created.add(p.stdout.strip().splitlines()[-1])
        return p.stdout.strip()

    def ensure_image(self):
        if self.docker("images", "-q", IMAGE):
            return
        root = tempfile.mkdtemp(prefix="ckroot-")
        try:
            os.makedirs(os.path.join(root, "bin"))
            shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
            for applet in ("sh", "sleep", "cat", "ls", "ps", "kill", "true"):
                os.symlink("busybox", os.path.join(root, "bin", applet))
            tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
            p = subprocess.run(["docker", "-H", "unix://" + self.socket, "import",
                                "-c", 'CMD ["/bin/sleep","3600"]', "-", IMAGE],
                               stdin=tar.stdout, capture_output=True, text=True)
            tar.wait()
            if p.returncode != 0:
                raise DockerError("docker import: " + p.stderr)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def run(self, name, labels=None, network="none", cpus=None, cmd=None,
            cgroup_parent=None):
        args = ["run", "-d", "--name", name, "--network", network]
        for k, v in (labels or {}).items():
            args += ["--label", "%s=%s" % (k, v)]
        if cpus is not None:
            args += ["--cpus", str(cpus)]
        if cgroup_parent is not None:
            args += ["--cgroup-parent", cgroup_parent]
        args.append(IMAGE)
        if cmd:
            args += cmd
        return self.docker(*args)

    def inspect(self, ref):
        return json.loads(self.docker("inspect", ref))[0]

    def state(self, ref):
        return self.inspect(ref)["State"]["Status"]

    def remove_all(self):
        ids = self.docker("ps", "-aq", check=False).split()
        if ids:
            self.docker("rm", "-f", *ids, check=False)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.remove_all()
            except (DockerError, subprocess.TimeoutExpired):
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reap_leftovers()
        shutil.rmtree(self.dir, ignore_errors=True)

    def reap_leftovers(self):
        """After an engine died without cleaning up (a test may SIGKILL it):
        kill the processes of its containers and its containerd shims, and
        unmount what it mounted under our directory."""
        ids = set(container_ids(os.path.join(self.dir, "data")))
        # A paused container ignores SIGKILL until it is thawed.
        thaw(ids)
        me = {os.getpid(), os.getppid()}
        for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in me]:
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read().decode(errors="replace")
                with open("/proc/%s/cgroup" % pid) as f:
                    cg = f.read()
            except OSError:
                continue
            if self.dir in cmd or any(i in cg for i in ids):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f
                      if line.split()[1].startswith(self.dir + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        # a container removed while the engine was down or killed keeps its
        # cgroups too: try every container this engine ran
        remove_cgroups(ids | self.created)

    def task(self, family, containers=("app",), awsvpc=True, cluster="demo",
             revision="1", task_id=None, cpus=None, cgroup_parent=None):
        """Run one ECS-like task: for awsvpc, a pause container owning the
        network namespace plus app containers sharing it. Returns
        {"arn": ..., "pause": id or None, <container name>: id, ...}.
        cgroup_parent: the containers' parent cgroup (ECS uses /ecs/TASK on
        cgroup v1 hosts for task-level limits)."""
        task_id = task_id or os.urandom(8).hex()
        arn = "arn:aws:ecs:us-east-1:123456789012:task/%s/%s" % (cluster, task_id)
        base = {
            ECS_CLUSTER: "arn:aws:ecs:us-east-1:123456789012:cluster/" + cluster,
            ECS_TASK_ARN: arn,
            ECS_FAMILY: family,
            ECS_REVISION: revision,
        }
        out = {"arn": arn, "id": task_id, "pause": None}
        network = "none"
        if awsvpc:
            pause = self.run("ecs-%s-%s-internalecspause" % (family, task_id[:8]),
                             dict(base, **{ECS_CONTAINER: ECS_PAUSE}),
                             cgroup_parent=cgroup_parent)
            out["pause"] = pause
            network = "container:" + pause
        for c in containers:
            out[c] = self.run("ecs-%s-%s-%s" % (family, task_id[:8], c),
                              dict(base, **{ECS_CONTAINER: c}), network=network, cpus=cpus,
                              cgroup_parent=cgroup_parent)
        return out
