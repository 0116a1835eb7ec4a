"""Task mode with real netem: chaos-agent as a sidecar of the awsvpc task A,
the ECS agent's fault injection endpoints played by tests/lib/ecs_endpoints.py
with --apply (the same tc and iptables commands the ECS agent runs, in the
task's network namespace), and the packaged chaosctl calling the sidecar.

The layout, as close to a Fargate task as this VM allows:
  - the stand-in serves at 169.254.170.2:80, the ECS agent's address, which
    the task reaches through its default route (the address sits on the
    instance's loopback, where the ECS agent's ecs-bridge would be);
  - the sidecar is a container of task A (the pause container's network and
    PID namespaces, the task's slice, a read-only root, no capability added
    but SYS_PTRACE, no Docker socket, restart policy "always"), started with
    the command line of packaging/sidecar/task-definition.json, its key in
    an environment variable as a task secret would be, its state on a
    directory standing for the task volume. The image is the VM's busybox
    with the packaged agent, glibc and /etc/passwd bind-mounted read-only:
    the agent image proper is tested by tests/images;
  - chaosctl (the binary of the chaosctl DEB) runs in task B's network
    namespace: the sidecar keeps its caller out of every fault, so the
    caller must not be the peer whose traffic is measured (the instance at
    docker0's address).
What differs from Fargate: the ECS agent itself (see the stand-in's header
for what it does not reproduce), an ENI (here a veth on docker0), the
rate limit of the real TMDS, Firecracker.

Each test asserts the effect inside task A's namespace (ping round trips,
TCP connects) against a baseline taken in the same test, and that task B
and the instance are untouched.
"""
import json
import os
import re
import subprocess
import time

import pytest

import workload as W
from conftest import ROOT, body as host_body, parse_ms
from procs import wait_for

ECS_IP = "169.254.170.2"
CONTAINER_ID = "chaos-agent-a1"         # the sidecar's id in ECS_AGENT_URI
SIDECAR = "ecs-web-1-chaos-agent-a1"
ARN = W.ARN_PREFIX + W.TASK_A
STATE = "/var/lib/chaos-vm/sidecar-state"
ENDPOINTS_LOG = "/run/chaos-vm/ecs-endpoints.log"
ENDPOINTS_PY = "/run/chaos-vm/ecs_endpoints.py"
GUEST_CTL = "/usr/local/bin/chaosctl"
GUEST_KEY = "/etc/chaos-agent/agent.key"
PEER = W.PEER_IP
PORT = 8421
# Seconds the stand-in's commands may take for one request: the ECS agent
# gives its tc and iptables 5; under emulation each of the eight to sixteen
# processes of a start costs about half a second, and the sidecar waits 10.
BUDGET = 9


def _chaosctl_from_deb():
    deb = os.path.join(ROOT, "build", "packages", "chaosctl_%s-1_amd64.deb" % _version())
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True)
    assert tar.returncode == 0, (deb, tar.stderr)
    p = subprocess.run(["tar", "-xO", "./usr/bin/chaosctl"], input=tar.stdout,
                       capture_output=True)
    assert p.returncode == 0 and p.stdout[:4] == b"\x7fELF", (deb, p.stderr)
    return p.stdout


def _version():
    with open(os.path.join(ROOT, "VERSION")) as f:
        return f.read().strip()


class Sidecar:
    """The stand-in, the sidecar container and the caller in task B."""

    def __init__(self, inst, tasks):
        self.inst = inst
        self.tasks = tasks
        self.ip = tasks.ip(W.PAUSE_A)

    # -- set-up and tear-down
    def up(self):
        inst, t = self.inst, self.tasks
        inst.ssh("mkdir -p /run/chaos-vm")
        with open(os.path.join(ROOT, "tests", "lib", "ecs_endpoints.py"), "rb") as f:
            inst.put(ENDPOINTS_PY, f.read())
        inst.put(GUEST_CTL, _chaosctl_from_deb(), "0755")
        inst.ssh("ip -br addr show dev lo | grep -q %s || ip addr add %s/32 dev lo"
                 % (ECS_IP, ECS_IP))
        inst.ssh("systemd-run --unit chaos-ecs-endpoints --collect python3 %s "
                 "--listen %s:80 --apply --budget %g --log %s --task %s,arn=%s,netns=/proc/%d/ns/net,if=eth0"
                 % (ENDPOINTS_PY, ECS_IP, BUDGET, ENDPOINTS_LOG, CONTAINER_ID, ARN,
                    t.pid(W.PAUSE_A)))
        status = "curl -sS -m 5 -X POST http://%s/api/%s/fault/v1/network-latency/status" % (
            ECS_IP, CONTAINER_ID)
        wait_for(lambda: "not-running" in t.netns(W.PAUSE_A, status, check=False).stdout,
                 60, interval=1, what="the ECS endpoints stand-in to serve")
        with open(inst.key_file) as f:
            key = f.read()
        inst.ssh("rm -rf %s && mkdir -p %s" % (STATE, STATE))
        pause = "container:" + W.PAUSE_A
        t.docker_api("POST", "/containers/create?name=" + SIDECAR, {
            "Image": W.IMAGE,
            "Entrypoint": ["/usr/sbin/chaos-agent"],
            "Cmd": ["--set", "mode=task", "--set", "key_env=CHAOS_AGENT_KEY",
                    "--listen", "0.0.0.0:%d" % PORT, "--state-dir", "/var/lib/chaos-agent"],
            "Env": ["ECS_AGENT_URI=http://%s/api/%s" % (ECS_IP, CONTAINER_ID),
                    "CHAOS_AGENT_KEY=" + key],
            "Labels": {"com.amazonaws.ecs.task-arn": ARN,
                       "com.amazonaws.ecs.container-name": "chaos-agent"},
            "HostConfig": {
                "NetworkMode": pause, "PidMode": pause,
                "CgroupParent": "ecstasks-%s.slice" % W.TASK_A,
                "ReadonlyRootfs": True, "RestartPolicy": {"Name": "always"},
                "CapAdd": ["SYS_PTRACE"],
                "Binds": ["/usr/sbin/chaos-agent:/usr/sbin/chaos-agent:ro",
                          "/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro",
                          "/lib64:/lib64:ro", "/etc/passwd:/etc/passwd:ro",
                          "/etc/group:/etc/group:ro", STATE + ":/var/lib/chaos-agent"]}})
        t.docker_api("POST", "/containers/%s/start" % SIDECAR)
        self.wait_serving()
        return self

    def down(self):
        self.tasks.docker_api("DELETE", "/containers/%s?force=1" % SIDECAR, check=False)
        self.inst.ssh("systemctl stop chaos-ecs-endpoints; ip addr del %s/32 dev lo; rm -rf %s"
                      % (ECS_IP, STATE), check=False)

    def wait_serving(self, timeout=120):
        def serving():
            return self.ctl("--timeout", "5", "info", check=None)[0] == 0
        wait_for(serving, timeout, interval=1, what="the sidecar to serve")

    # -- the sidecar as a process
    def pid(self):
        return self.tasks.inspect(SIDECAR)["State"]["Pid"]

    # -- calls
    def ctl(self, *args, check=0, timeout=120):
        """The guest's chaosctl --output json from task B: (exit code, document)."""
        p = self.tasks.netns(W.API_B, "%s --agent http://%s:%d --key-file %s --output json %s"
                             % (GUEST_CTL, self.ip, PORT, GUEST_KEY, " ".join(args)),
                             check=False, timeout=timeout)
        doc = json.loads(p.stdout) if p.stdout.strip() else None
        if check is not None:
            assert p.returncode == check, (args, p.returncode, p.stdout, p.stderr)
        return p.returncode, doc

    def body(self, *args):
        r = self.ctl(*args)[1]["results"][0]
        assert r["ok"], r
        return r["body"]

    def inject(self, *args):
        f = self.body("inject", *args)
        assert f["state"] == "active", f
        return f

    def fault(self, fid):
        for f in self.body("faults")["faults"]:
            if f.get("id") == fid:
                return f
        return None

    def wait_ended(self, fid, timeout):
        def ended():
            f = self.fault(fid)
            return f if f is not None and f["state"] not in ("pending", "active") else None
        return wait_for(ended, timeout, interval=0.5, what="fault %s to end" % fid)

    # -- what the endpoints saw and what runs in the task
    def calls(self, op=None):
        out = self.inst.ssh("cat %s 2>/dev/null || true" % ENDPOINTS_LOG).stdout
        recs = [json.loads(line) for line in out.split("\n") if line.strip()]
        return [r for r in recs if op is None or r["op"] == op]

    def netem(self):
        return "netem" in self.tasks.qdiscs(W.WEB_A)

    def chains(self):
        return self.tasks.netns(W.WEB_A, "iptables -S OUTPUT").stdout


@pytest.fixture(scope="module")
def sidecar(inst):
    from conftest import Tasks
    t = Tasks(inst).ensure()
    s = Sidecar(inst, t)
    try:
        s.up()
    except BaseException:
        s.down()
        raise
    yield s
    s.down()


@pytest.fixture
def sc(sidecar, tasks):
    """The sidecar, serving, with no fault left behind by the test."""
    sidecar.tasks = tasks
    sidecar.wait_serving()
    yield sidecar
    sidecar.ctl("revert", "--all", check=None)
    wait_for(lambda: not sidecar.netem(), 30, interval=0.5, what="the qdisc to go")


def rtt(tasks, name, count=30):
    return tasks.ping(name, PEER, count, 0.1)[2]


def test_info_in_task_mode(sc, inst, record):
    info = sc.body("info")
    assert info["mode"] == "task", info
    task_faults = sorted(c["type"] for c in info["capabilities"] if c["available"])
    host = host_body(inst, "info")
    host_faults = sorted(c["type"] for c in host["capabilities"] if c["available"])
    record("task_mode_faults", task_faults)
    record("host_mode_faults", host_faults)
    print("task mode: %s\nhost mode: %s" % (task_faults, host_faults))
    assert {"latency", "loss", "blackhole", "burn-cpu", "kill-process"} <= set(task_faults)
    assert not {"rate", "corrupt", "kill-container"} & set(task_faults), task_faults
    assert set(task_faults) < set(host_faults)


def test_latency_through_the_endpoints(sc, record):
    t = sc.tasks
    base = {"A": rtt(t, W.WEB_A), "B": rtt(t, W.API_B)}
    f = sc.inject("latency", "--delay", "100ms", "--jitter", "20ms", "--duration", "120")
    start = sc.calls("start")[-1]
    req = json.loads(start["body"])
    assert start["status"] == 200 and start["endpoint"] == "network-latency", start
    assert req["DelayMilliseconds"] == 100 and req["JitterMilliseconds"] == 20, req
    assert sc.tasks.ip(W.API_B) in " ".join(req["SourcesToFilter"]), req
    assert sc.netem(), t.qdiscs(W.WEB_A)
    during = {"A": rtt(t, W.WEB_A), "B": rtt(t, W.API_B)}
    added = {k: during[k] - base[k] for k in base}
    record("task_latency_added_ms", {k: round(v, 1) for k, v in added.items()})
    print("latency 100ms+-20ms through the endpoints: added RTT %s (baseline %s)"
          % (added, base))
    # As in test_network: 30 pings, the mean's sd about 2 ms with the jitter.
    assert 90 <= added["A"] <= 110, added
    assert added["B"] < 10, added
    r = sc.body("revert", f["id"])
    assert r["state"] == "reverted", r
    assert sc.calls("stop")[-1]["status"] == 200
    assert not sc.netem(), t.qdiscs(W.WEB_A)
    assert rtt(t, W.WEB_A, 10) < base["A"] + 10


def test_inject_to_effect(sc, record):
    """The time from starting chaosctl to the first echo request delayed,
    from a ping every 10 ms with timestamps, all in the guest's clock."""
    t = sc.tasks
    script = "\n".join([
        "nsenter --net=/proc/%d/ns/net ping -D -n -i 0.01 -c 400 -W 3 %s >/run/chaos-vm/ping.out"
        " 2>&1 &" % (t.pid(W.WEB_A), PEER),
        "sleep 1",
        "date +%s.%N",
        "nsenter --net=/proc/%d/ns/net %s --agent http://%s:%d --key-file %s --output json "
        "inject latency --delay 100ms --duration 60 >/dev/null" % (
            t.pid(W.API_B), GUEST_CTL, sc.ip, PORT, GUEST_KEY),
        "date +%s.%N",
        "wait",
        "cat /run/chaos-vm/ping.out"])
    out = sc.inst.ssh(script, timeout=180).stdout.split("\n")
    t0, t1 = float(out[0]), float(out[1])
    delayed = []
    for line in out[2:]:
        m = re.match(r"\[([0-9.]+)\].*time=([0-9.]+) ms", line)
        if m and float(m.group(2)) >= 60:
            delayed.append(float(m.group(1)) - float(m.group(2)) / 1000)
    assert delayed, "no echo request was delayed:\n" + "\n".join(out)
    start = [c for c in sc.calls("start") if c["endpoint"] == "network-latency"][-1]
    effect = (min(delayed) - t0) * 1000
    record("task_inject_to_effect_ms", {
        "chaosctl_to_first_delayed_request": round(effect, 1),
        "chaosctl_to_endpoint_start": round((start["wall"] - t0) * 1000, 1),
        "endpoint_start_handling": round(start["ms"], 1),
        "chaosctl_wall": round((t1 - t0) * 1000, 1)})
    print("inject to effect: first delayed echo request sent %.0f ms after chaosctl started "
          "(the /start call came at +%.0f ms and took %.0f ms to apply; chaosctl returned "
          "at +%.0f ms)" % (effect, (start["wall"] - t0) * 1000, start["ms"], (t1 - t0) * 1000))
    # A ping leaves every 10 ms: the first delayed one is at most one
    # interval after the qdisc exists, and the qdisc exists before chaosctl
    # hears back.
    assert 0 < effect <= (t1 - t0) * 1000 + 20, (effect, t0, t1)


def test_loss_through_the_endpoints(sc, record):
    t = sc.tasks
    sent, got, _ = t.ping(W.WEB_A, PEER, 100, 0.02)
    assert got >= sent - 1, (sent, got)
    sc.inject("loss", "--percent", "30", "--duration", "120")
    req = json.loads(sc.calls("start")[-1]["body"])
    assert req["LossPercent"] == 30, req
    # 400 requests each lost with p = 0.3: the share's sd is 2.3 points.
    sent, got, _ = t.ping(W.WEB_A, PEER, 400, 0.02)
    lost = 100.0 * (sent - got) / sent
    other = t.ping(W.API_B, PEER, 100, 0.02)
    record("task_loss_30_measured_pct", round(lost, 1))
    print("loss 30%% through the endpoints: %d of %d lost (%.1f %%); task B lost %d of %d"
          % (sent - got, sent, lost, other[0] - other[1], other[0]))
    assert 20 <= lost <= 40, lost
    assert other[1] >= other[0] - 1, other


def test_blackhole_through_the_endpoints(sc, record):
    t = sc.tasks
    assert t.probe(W.WEB_A, "connect", PEER, 7000, 3)["ok"]
    f = sc.inject("blackhole", "--dest-port", "7000", "--protocol", "tcp", "--duration", "120")
    assert "egress-tcp-7000" in sc.chains(), sc.chains()
    blocked = t.probe(W.WEB_A, "connect", PEER, 7000, 3)
    other_port = t.probe(W.WEB_A, "connect", PEER, 7001, 3)
    other_task = t.probe(W.API_B, "connect", PEER, 7000, 3)
    print("blackhole tcp/7000 through the endpoints: 7000 %s, 7001 %s, task B 7000 %s"
          % (blocked, other_port, other_task))
    assert not blocked["ok"] and blocked["seconds"] >= 2.5, blocked
    assert other_port["ok"] and other_task["ok"], (other_port, other_task)
    sc.body("revert", f["id"])
    assert "egress-tcp-7000" not in sc.chains()
    assert t.probe(W.WEB_A, "connect", PEER, 7000, 3)["ok"]
    record("task_blackhole", "7000 dropped, 7001 open, task B untouched")


def test_deadline_calls_stop(sc, record):
    f = sc.inject("latency", "--delay", "50ms", "--duration", "5")
    assert sc.netem()
    end = sc.wait_ended(f["id"], 60)
    assert end["state"] == "expired", end
    assert not sc.netem(), sc.tasks.qdiscs(W.WEB_A)
    expires = parse_ms(end["expires_at"])
    stop = [c for c in sc.calls("stop") if c["endpoint"] == "network-latency"][-1]
    stop_late = stop["wall"] * 1000 - expires
    late = parse_ms(end["ended_at"]) - expires
    record("task_deadline_late_ms", {"stop_call": round(stop_late, 1), "ended_at": late})
    print("deadline: /stop came %.0f ms after expires_at; the fault ended %d ms after it"
          % (stop_late, late))
    # The agent is due at the deadline: its /stop arrives within 1 s. The
    # fault ends when the ECS agent has run its commands (two tc processes,
    # about a second under emulation): the stand-in's own time is excused.
    assert 0 <= stop_late < 1000, stop_late
    assert 0 <= late < 1000 + stop["ms"], (late, stop["ms"])


def test_sidecar_killed_and_restarted_stops_the_fault(sc, record):
    f = sc.inject("latency", "--delay", "100ms", "--duration", "300")
    assert sc.netem()
    pid0 = sc.pid()
    t0 = time.monotonic()
    sc.inst.ssh("kill -KILL %d" % pid0)
    # Docker's restart policy brings the sidecar back (ECS's restartPolicy
    # on Fargate); the new agent reads the task volume and calls /stop.
    wait_for(lambda: not sc.netem(), 120, interval=0.3, what="the restarted sidecar to stop it")
    gone = time.monotonic() - t0
    sc.wait_serving()
    assert sc.pid() not in (0, pid0)
    after = sc.fault(f["id"])
    record("task_sigkill_to_fault_stopped_s", round(gone, 2))
    print("sidecar SIGKILLed with latency on: the restarted sidecar stopped it %.2f s later; "
          "its record: %s" % (gone, {k: after.get(k) for k in ("state", "end_reason")}))
    assert after["state"] == "reverted", after
    assert rtt(sc.tasks, W.WEB_A, 10) < 50


def test_sidecar_stopped_stops_the_fault(sc, record):
    """SIGTERM (docker stop, what ECS sends when it stops the task): the
    agent calls /stop before it exits."""
    sc.inject("blackhole", "--dest-port", "7000", "--protocol", "tcp", "--duration", "300")
    assert "egress-tcp-7000" in sc.chains()
    t0 = time.monotonic()
    sc.tasks.docker_api("POST", "/containers/%s/stop?t=30" % SIDECAR)
    took = time.monotonic() - t0
    record("task_sigterm_stop_s", round(took, 2))
    print("docker stop of the sidecar with a blackhole on: stopped in %.2f s" % took)
    assert "egress-tcp-7000" not in sc.chains(), sc.chains()
    assert sc.tasks.probe(W.WEB_A, "connect", PEER, 7000, 3)["ok"]
    sc.tasks.docker_api("POST", "/containers/%s/start" % SIDECAR)
