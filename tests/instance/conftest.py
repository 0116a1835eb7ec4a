"""Fixtures of the instance layer: one container-instance VM for the
session (tests/lib/vm.py Instance, the image from build-image.sh) with the
ECS-like tasks of workload.py inside, and the host's real chaosctl talking
to the packaged agent.

Guest-side measurements run with the guest's own tools in a container's
network namespace (`nsenter --net=/proc/PID/ns/net`): ping, tc, and
probe.py. Docker is asked through its API with curl: the docker CLI costs
tens of seconds per call under emulation.

Measurements worth reporting go through the `record` fixture into
build/instance/measurements.json.
"""
import datetime
import json
import os
import re
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import vm  # noqa: E402
import workload as W  # noqa: E402
from procs import wait_for  # noqa: E402

CTL = os.path.join(ROOT, "bin", "chaosctl")
MEASUREMENTS = os.path.join(vm.INSTANCE_DIR, "measurements.json")


class Tasks:
    """The tasks' containers as Docker sees them now: name -> inspect
    document (pids change when Docker restarts a container)."""

    def __init__(self, inst):
        self.inst = inst
        self.c = {}

    def docker_api(self, method, path, doc=None, check=True):
        """One Docker Engine API call in the guest, with doc as its JSON
        body if given; the parsed answer."""
        cmd = "curl -sS --fail-with-body --unix-socket /run/docker.sock -X " + method
        if doc is not None:
            cmd += " -H 'Content-Type: application/json' --data-binary @-"
        out = self.inst.ssh("%s 'http://docker%s'" % (cmd, path), check=check,
                            input=None if doc is None else json.dumps(doc)).stdout
        return json.loads(out) if out.strip() else None

    def events(self, name, event, since, until):
        """Docker's events of one container between two guest times."""
        from urllib.parse import urlencode
        q = urlencode({"since": since, "until": until,
                       "filters": json.dumps({"container": [name], "event": [event]})})
        out = self.inst.ssh("curl -sS --fail-with-body --unix-socket /run/docker.sock "
                            "'http://docker/events?%s'" % q).stdout
        return [json.loads(line) for line in out.split("\n") if line.strip()]

    def inspect(self, name):
        return self.docker_api("GET", "/containers/%s/json" % name)

    def refresh(self):
        self.c = {n: self.inspect(n) for n in W.CONTAINERS}
        return self

    def running(self):
        self.refresh()
        return all(d["State"]["Running"] and not d["State"]["Paused"] for d in self.c.values())

    def start_stopped(self):
        """Start what is not running, pause containers first (their app
        containers join their namespace), and unpause what is paused: what
        the ECS agent's replacement of a stopped task amounts to here.
        Docker's restart policy does not apply to a container stopped by
        the kill API."""
        self.refresh()
        for name in W.CONTAINERS:
            st = self.c[name]["State"]
            if st["Paused"]:
                self.docker_api("POST", "/containers/%s/unpause" % name, check=False)
            elif not st["Running"] and not st["Restarting"]:
                self.docker_api("POST", "/containers/%s/start" % name, check=False)

    def ensure(self, timeout=300):
        """Wait until every task container runs and the probe servers serve."""
        def up():
            if self.running():
                return True
            self.start_stopped()
            return False
        wait_for(up, timeout, interval=2, what="the tasks' containers to run")
        wait_for(lambda: self.inst.ssh("systemctl is-active chaos-vm-probe", check=False)
                 .returncode == 0, 60, interval=1, what="the probe servers")
        return self

    def pid(self, name):
        return self.c[name]["State"]["Pid"]

    def ip(self, name):
        if name == W.WEB_A:
            name = W.PAUSE_A
        return self.c[name]["NetworkSettings"]["IPAddress"]

    def netns(self, name, command, check=True, timeout=120):
        """command (a shell command line) in the network namespace of a
        container; name "host" is the instance's own namespace."""
        if name == "host":
            return self.inst.ssh(command, check=check, timeout=timeout)
        return self.inst.ssh("nsenter --net=/proc/%d/ns/net %s" % (self.pid(name), command),
                             check=check, timeout=timeout)

    def probe(self, name, *args, timeout=180):
        out = self.netns(name, "python3 %s %s" % (W.PROBE, " ".join(str(a) for a in args)),
                         timeout=timeout).stdout
        return json.loads(out.strip().split("\n")[-1])

    def ping(self, name, dest, count, interval):
        """(sent, received, average RTT in ms or None) of count pings."""
        out = self.netns(name, "ping -n -q -c %d -i %s -W 2 %s" % (count, interval, dest),
                         check=False, timeout=count * interval + 60).stdout
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        assert m, "ping printed no summary:\n" + out
        avg = re.search(r"= [0-9.]+/([0-9.]+)/", out)
        return int(m.group(1)), int(m.group(2)), float(avg.group(1)) if avg else None

    def qdiscs(self, name, dev="eth0"):
        return self.netns(name, "tc qdisc show dev " + dev).stdout

    def cgroup(self, name):
        """The container's cgroup, relative to /sys/fs/cgroup."""
        line = self.inst.ssh("cat /proc/%d/cgroup" % self.pid(name)).stdout.strip()
        assert line.startswith("0::"), "not a cgroup v2 process: " + line
        return line[3:]


@pytest.fixture(scope="session")
def inst():
    if os.geteuid() != 0:
        pytest.fail("the instance layer needs root (build-image.sh chroots)", pytrace=False)
    r = subprocess.run([vm.INSTANCE_BUILD], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("tests/instance/build-image.sh failed:\n" + r.stdout + r.stderr,
                    pytrace=False)
    i = vm.Instance()
    try:
        i.boot()
    except vm.VMError as e:
        i.stop()
        pytest.fail("the instance did not boot: %s\n%s" % (e, e.output), pytrace=False)
    yield i
    i.stop()


@pytest.fixture
def tasks(inst):
    """The tasks, running; no fault is left active after the test."""
    t = Tasks(inst).ensure()
    yield t
    ctl(inst, "revert", "--all")


def ctl(inst, *args, check=0, timeout=120):
    """chaosctl --output json against the instance's agent: (exit code,
    document)."""
    p = subprocess.run([CTL, "--agent", inst.agent_url, "--key-file", inst.key_file,
                        "--output", "json", *args], capture_output=True, text=True,
                       timeout=timeout)
    doc = json.loads(p.stdout) if p.stdout.strip() else None
    if check is not None:
        assert p.returncode == check, (args, p.returncode, p.stdout, p.stderr)
    return p.returncode, doc


def result(inst, *args, check=0):
    """The one agent's result of a chaosctl command: {"ok", "status",
    "body", ...}."""
    return ctl(inst, *args, check=check)[1]["results"][0]


def body(inst, *args):
    """The body of a successful answer (a fault, a list, info)."""
    r = result(inst, *args)
    assert r["ok"], r
    return r["body"]


@pytest.fixture(scope="session")
def record():
    """record(key, value): keep a measurement for the closing numbers."""
    data = {}

    def put(key, value):
        data[key] = value
    yield put
    os.makedirs(os.path.dirname(MEASUREMENTS), exist_ok=True)
    with open(MEASUREMENTS, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)


def fault_state(inst, fid):
    for f in body(inst, "faults")["faults"]:
        if f.get("id") == fid:
            return f
    return None


def wait_fault_ended(inst, fid, timeout):
    def ended():
        f = fault_state(inst, fid)
        return f if f is not None and f["state"] not in ("pending", "active") else None
    return wait_for(ended, timeout, interval=0.3, what="fault %s to end" % fid)


def parse_ms(stamp):
    """Milliseconds since the epoch of an agent's time stamp."""
    d = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def now():
    return time.monotonic()
