"""Task mode: the agent as a sidecar of an ECS task, its network faults
made through the ECS agent's fault injection endpoints.

The ECS agent cannot run here; tests/lib/ecs_endpoints.py stands in for
its endpoints, in contract mode (request and answer fields, 400, 404,
409, 429, 500, the rate limit; faults kept in memory) and, for the port
blackhole, in apply mode: real iptables rules in a network namespace that
plays the task's, measured with real TCP connections. Real netem (latency,
loss) needs a kernel with sch_netem, which this machine lacks, and the VM
of tests/vm has no Python to run the stand-in: no test applies the
endpoints' netem yet (tests/bench/task_bench.py measures the rest).

What is asserted: the exact start body for each fault and the 400 that
names a parameter the endpoints cannot honour; every way a fault ends
(deadline within 1 s, DELETE, SIGTERM, a SIGKILLed agent restarted on the
same state directory) calls /stop; 409 is said plainly and never followed
by a /stop that would end another fault; 429 is retried until the window
reopens, and reported as 503 when it does not.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import (ROOT, assert_load, parse_ts, proc_children, proc_comm, run_ctl,
                      wait_for)

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from ecs_endpoints import EcsEndpoints  # noqa: E402

CID = "0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6-1234567890"
ARN = "arn:aws:ecs:us-east-1:123456789012:task/chaos/0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6"
CONTROL = ["169.254.170.2/32", "169.254.169.254/32", "fd00:ec2::254/128", "127.0.0.1/32"]
NETWORK = ("latency", "loss", "blackhole")


@pytest.fixture
def ecs():
    ep = EcsEndpoints(interval=5.0).start()
    ep.add_task(CID, ARN)
    yield ep
    ep.stop()


def sidecar(session, ecs, cid=CID, sets=None, **kw):
    env = dict(os.environ, ECS_AGENT_URI=ecs.uri(cid))
    return session.agent(sets=dict({"mode": "task"}, **(sets or {})), env=env, **kw)


@pytest.fixture
def task_agent(session, ecs):
    return sidecar(session, ecs)


def create(agent, typ, duration=30, **params):
    return agent.client.create(typ=typ, duration=duration, params=params)


def start_body(ecs, endpoint):
    calls = ecs.calls(endpoint, "start", 200)
    assert calls, ecs.requests
    return json.loads(calls[-1]["body"])


def wait_stop(ecs, endpoint, n=1, timeout=5.0):
    return wait_for(lambda: len(ecs.calls(endpoint, "stop", 200)) >= n and
                    ecs.calls(endpoint, "stop", 200), timeout,
                    desc="%s/stop to reach the ECS agent" % endpoint)


# ------------------------------------------------------------ what task mode offers


def test_info_lists_task_mode_faults_and_why_not_the_others(task_agent):
    r = task_agent.client.get("/v1/info")
    assert r.status == 200, r
    info = r.json()
    assert info["mode"] == "task"
    assert info["task"]["endpoints"] == "available", info["task"]
    assert info["task"]["latency_or_loss"] == "not-running"
    assert info["task"]["uri"].endswith("/api/" + CID)
    caps = {c["type"]: c for c in info["capabilities"]}
    offered = sorted(t for t, c in caps.items() if c["available"])
    assert offered == ["blackhole", "burn-cpu", "kill-process", "latency", "loss"], caps
    for t in ("kill-container", "stop-container", "restart-container", "pause-container"):
        assert "no Docker socket" in caps[t]["reason"], caps[t]
    for t in ("corrupt", "duplicate", "reorder", "rate"):
        assert "latency, packet loss and port blackhole only" in caps[t]["reason"], caps[t]
    assert "no Docker socket" in info["docker"]["reason"]


def test_fault_injection_not_enabled_is_said_plainly(session, ecs):
    ecs.tasks[CID].enabled = False
    a = sidecar(session, ecs)
    info = a.client.get("/v1/info").json()
    assert info["task"]["endpoints"] == "refused"
    caps = {c["type"]: c for c in info["capabilities"]}
    for t in NETWORK:
        assert caps[t]["available"] is False
        assert "enableFaultInjection is not enabled for task: " + ARN in caps[t]["reason"]
    r = create(a, "latency")
    assert r.status == 422, r
    assert "enableFaultInjection" in r.json()["error"]["message"]
    assert not ecs.calls(op="start")
    # burn-cpu and kill-process do not need the endpoints.
    assert caps["burn-cpu"]["available"] and caps["kill-process"]["available"]


def test_without_ecs_agent_uri_network_faults_are_unavailable(session, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ECS_AGENT_URI"}
    a = session.agent(sets={"mode": "task"}, env=env)
    caps = {c["type"]: c for c in a.client.get("/v1/info").json()["capabilities"]}
    for t in NETWORK:
        assert caps[t]["available"] is False
        assert "ECS_AGENT_URI is not set" in caps[t]["reason"], caps[t]
    r = create(a, "loss", percent=20)
    assert r.status == 422 and "ECS_AGENT_URI" in r.json()["error"]["message"], r


def test_a_bad_ecs_agent_uri_is_named(session, ecs):
    env = dict(os.environ, ECS_AGENT_URI="http://ecs-agent.internal/api/x")
    a = session.agent(sets={"mode": "task"}, env=env)
    caps = {c["type"]: c for c in a.client.get("/v1/info").json()["capabilities"]}
    assert "numeric IPv4 or [IPv6] address" in caps["latency"]["reason"], caps["latency"]


# ------------------------------------------------------------ bodies and refusals


def test_latency_start_body(task_agent, ecs):
    r = create(task_agent, "latency", delay=200, jitter=20, dest="10.0.0.0/16,192.0.2.7")
    assert r.status == 201, r
    f = r.json()
    assert f["state"] == "active"
    assert f["detail"]["endpoint"] == "network-latency"
    body = start_body(ecs, "network-latency")
    assert body == {"DelayMilliseconds": 200, "JitterMilliseconds": 20,
                    "Sources": ["10.0.0.0/16", "192.0.2.7/32"],
                    "SourcesToFilter": CONTROL}, body
    assert ecs.running(CID)["tc"] == "latency"
    assert f["detail"]["request"] == body


def test_loss_and_blackhole_bodies(task_agent, ecs):
    r = create(task_agent, "loss", percent=35)
    assert r.status == 201, r
    assert start_body(ecs, "network-packet-loss") == {
        "LossPercent": 35, "Sources": ["0.0.0.0/0"], "SourcesToFilter": CONTROL}
    r = create(task_agent, "blackhole", dest_port="5432", protocol="tcp")
    assert r.status == 201, r
    assert start_body(ecs, "network-blackhole-port") == {
        "Port": 5432, "Protocol": "tcp", "TrafficType": "egress", "SourcesToFilter": CONTROL}
    assert ecs.running(CID) == {"tc": "loss", "chains": ["egress-tcp-5432"]}


@pytest.mark.parametrize("typ,params,named", [
    ("latency", {"dest_port": "3306"}, "params.dest_port"),
    ("latency", {"interface": "eth0"}, "params.interface"),
    ("latency", {"jitter": 10, "distribution": "pareto"}, "params.distribution"),
    ("loss", {"correlation": 25}, "params.correlation"),
    ("loss", {"protocol": "tcp"}, "params.protocol"),
    ("blackhole", {}, "params.dest_port"),
    ("blackhole", {"dest_port": "80", "protocol": "icmp"}, "params.protocol"),
    ("blackhole", {"dest_port": "80", "protocol": "tcp", "dest": "10.0.0.1"}, "params.dest"),
])
def test_what_the_endpoints_cannot_do_is_a_400_naming_it(task_agent, ecs, typ, params, named):
    r = create(task_agent, typ, **params)
    assert r.status == 400, r
    assert r.json()["error"]["message"].startswith(named + ":"), r.json()
    assert not ecs.calls(op="start")


def test_container_selectors_are_refused(task_agent, keyfile):
    r = run_ctl("inject", "burn-cpu", "--family", "web", "--duration", "5",
                agents=[task_agent.url], keyfile=keyfile)
    assert r.returncode == 1, r
    assert "in task mode the agent acts on its own task" in r.stdout + r.stderr
    # a container fault needs its selectors: it is refused for what it is
    r = run_ctl("inject", "pause-container", "--container", "app", "--duration", "5",
                "--output", "json", agents=[task_agent.url], keyfile=keyfile)
    err = json.loads(r.stdout)["results"][0]
    assert r.returncode == 1 and err["status"] == 422, r
    assert "pause-container is unavailable in this task" in err["body"]["error"]["message"]
    assert "no Docker socket" in err["body"]["error"]["message"], err
    r = task_agent.client.get("/v1/targets")
    assert r.status == 422 and "no Docker socket" in r.json()["error"]["message"], r


# ------------------------------------------------------------ every way a fault ends


def test_deadline_calls_stop_within_a_second(task_agent, ecs, keyfile):
    t0 = time.time()
    r = run_ctl("inject", "latency", "--delay", "100ms", "--duration", "2", "--output",
                "json", agents=[task_agent.url], keyfile=keyfile)
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)["results"][0]["body"]
    start = ecs.calls("network-latency", "start", 200)[0]
    inject_ms = (start["wall"] - t0) * 1000
    stop = wait_stop(ecs, "network-latency", timeout=6)[0]
    late_ms = (stop["wall"] - parse_ts(f["expires_at"])) * 1000
    print("chaosctl inject to the ECS agent's /start: %.0f ms; /stop %.0f ms after the "
          "deadline" % (inject_ms, late_ms))
    assert 0 <= late_ms < 1000, late_ms
    assert ecs.running(CID)["tc"] is None
    end = wait_for(lambda: task_agent.client.fault(f["id"])["state"] == "expired" and
                   task_agent.client.fault(f["id"]), 3, desc="the fault to be expired")
    assert end["end_reason"] == "deadline"


def test_delete_calls_stop(task_agent, ecs):
    f = create(task_agent, "blackhole", dest_port="53", protocol="udp").json()
    r = task_agent.client.delete("/v1/faults/" + f["id"])
    assert r.status == 200 and r.json()["state"] == "reverted", r
    assert json.loads(ecs.calls("network-blackhole-port", "stop", 200)[0]["body"])["Port"] == 53
    assert ecs.running(CID)["chains"] == []


def test_sigterm_stops_every_fault(task_agent, ecs):
    create(task_agent, "latency", delay=50)
    create(task_agent, "blackhole", dest_port="6379", protocol="tcp")
    task_agent.signal(signal.SIGTERM)
    assert task_agent.wait(20) == 0
    assert ecs.running(CID) == {"tc": None, "chains": []}
    assert task_agent.messages("ended: reverted (shutdown)")


def test_sigkilled_sidecar_restarted_stops_what_it_left(session, ecs, tmp_path):
    """The container restart policy brings the sidecar back with its state
    volume: the new one calls /stop before it serves."""
    state = tmp_path / "task-volume"
    a = sidecar(session, ecs, state_dir=state, name="first")
    f = create(a, "loss", duration=300, percent=50).json()
    assert ecs.running(CID)["tc"] == "loss"
    a.kill()
    assert ecs.running(CID)["tc"] == "loss"        # nothing ends a fault by itself
    t0 = time.monotonic()
    b = sidecar(session, ecs, state_dir=state, name="restarted")
    stop = wait_stop(ecs, "network-packet-loss")[0]
    print("restarted sidecar: /stop %.0f ms after its start" % ((stop["t"] - t0) * 1000))
    assert ecs.running(CID)["tc"] is None
    old = b.client.fault(f["id"])
    assert old["state"] == "reverted" and old["end_reason"] == "reverted_at_startup", old
    # The restarted agent can start the next fault at once.
    assert create(b, "latency", delay=10).status == 201


def test_revert_all_offline_stops_the_endpoints_fault(session, ecs, tmp_path):
    """chaos-agent --revert-all (what a host unit runs on stop) works on an
    ECS record too, whatever mode the command is given."""
    state = tmp_path / "vol"
    a = sidecar(session, ecs, state_dir=state)
    create(a, "latency", duration=300, delay=30)
    a.kill()
    env = dict(os.environ, ECS_AGENT_URI=ecs.uri(CID))
    r = subprocess.run([a.binary, "--state-dir", str(state), "--revert-all"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert ecs.running(CID)["tc"] is None
    assert len(ecs.calls("network-latency", "stop", 200)) == 1


# ------------------------------------------------------------ 409, 429, 500


def test_conflict_with_a_fault_someone_else_started(task_agent, ecs):
    """Another client of the endpoints (FIS, say) holds packet loss: 409 said
    plainly, and the failed fault's clean-up leaves the other one alone."""
    t = ecs.tasks[CID]
    t.tc = ("loss", {"LossPercent": 5, "Sources": ["0.0.0.0/0"]})
    r = create(task_agent, "latency", delay=100)
    assert r.status == 409, r
    msg = r.json()["error"]["message"]
    assert "There is already one network packet loss fault running" in msg, msg
    assert "one latency or packet loss fault at a time" in msg, msg
    time.sleep(0.3)
    assert ecs.running(CID)["tc"] == "loss"
    assert not ecs.calls(op="stop")


def test_conflict_between_own_faults_never_reaches_the_ecs_agent(task_agent, ecs):
    a = create(task_agent, "latency", delay=100).json()
    r = create(task_agent, "loss", percent=10)
    assert r.status == 409, r
    assert a["id"] in r.json()["error"]["message"]
    assert len(ecs.calls(op="start")) == 1
    # Blackholes of other ports coexist; the same port does not.
    assert create(task_agent, "blackhole", dest_port="80", protocol="tcp").status == 201
    assert create(task_agent, "blackhole", dest_port="80", protocol="udp").status == 201
    assert create(task_agent, "blackhole", dest_port="80", protocol="tcp").status == 409


def take_window(ecs, endpoint, op):
    """Spend the rate limiter's token of endpoint/op for 127.0.0.1 (the
    limiter counts every call of a route from an address, before it looks
    at the container), with a call that changes nothing."""
    host, port = ecs.server.server_address[:2]
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(("POST /api/no-such-container/fault/v1/%s/%s HTTP/1.1\r\nHost: x\r\n"
               "Content-Length: 2\r\nConnection: close\r\n\r\n{}" % (endpoint, op)).encode())
    head = s.recv(4096)
    assert b" 404 " in head or b" 400 " in head, head
    s.close()


def test_throttled_start_is_retried_until_the_window_reopens(session, ecs):
    ecs.interval = 2.0
    a = sidecar(session, ecs)
    take_window(ecs, "network-latency", "start")
    t0 = time.monotonic()
    r = create(a, "latency", delay=100)
    took = time.monotonic() - t0
    assert r.status == 201, r
    throttled = ecs.calls("network-latency", "start", 429)
    print("start throttled %d times, answered after %.1f s" % (len(throttled), took))
    assert throttled and 1.0 <= took < 4.0, (len(throttled), took)
    assert ecs.running(CID)["tc"] == "latency"


def test_throttled_beyond_the_retries_is_503_and_changes_nothing(session, ecs):
    ecs.interval = 60.0
    a = sidecar(session, ecs)
    take_window(ecs, "network-packet-loss", "start")
    t0 = time.monotonic()
    r = create(a, "loss", percent=10)
    took = time.monotonic() - t0
    assert r.status == 503, r
    assert r.json()["error"]["code"] == "busy"
    assert "throttled" in r.json()["error"]["message"]
    assert 6.5 <= took < 10, took
    time.sleep(0.3)
    # The start was refused outright: nothing to stop.
    assert not ecs.calls(op="stop")
    assert ecs.running(CID)["tc"] is None


def test_throttled_stop_at_the_deadline_is_retried(session, ecs):
    ecs.interval = 2.0
    a = sidecar(session, ecs)
    f = create(a, "latency", duration=3, delay=10).json()
    time.sleep(2.2)
    take_window(ecs, "network-latency", "stop")
    stop = wait_stop(ecs, "network-latency", timeout=8)[0]
    late_ms = (stop["wall"] - parse_ts(f["expires_at"])) * 1000
    print("a throttled /stop got through %.0f ms after the deadline" % late_ms)
    assert ecs.calls("network-latency", "stop", 429)
    assert late_ms < 2000 + 1000, late_ms
    wait_for(lambda: a.client.fault(f["id"])["state"] == "expired", 3,
             desc="the fault to end expired")


def test_server_error_on_start_is_followed_by_a_stop(task_agent, ecs):
    """A 500 may leave half a fault behind (the ECS agent's tc ran in part):
    the failed start is cleaned up with /stop."""
    ecs.fail[("network-latency", "start")] = (500, "internal error")
    r = create(task_agent, "latency", delay=100)
    assert r.status == 500, r
    assert "the ECS agent failed network-latency/start (500): internal error" in \
        r.json()["error"]["message"]
    wait_stop(ecs, "network-latency")


def test_stop_that_fails_is_retried_until_it_succeeds(task_agent, ecs):
    f = create(task_agent, "latency", delay=100).json()
    ecs.fail[("network-latency", "stop")] = (500, "internal error")
    r = task_agent.client.delete("/v1/faults/" + f["id"])
    assert r.status == 500, r
    assert task_agent.client.fault(f["id"])["state"] == "revert_failed"
    # The agent tries again after 1 s; the stand-in answers this time.
    wait_stop(ecs, "network-latency", timeout=10)
    wait_for(lambda: task_agent.client.fault(f["id"])["state"] == "reverted", 5,
             desc="the retried revert to succeed")
    assert ecs.running(CID)["tc"] is None


# ------------------------------------------------------------ a real effect: iptables


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


@pytest.fixture
def task_netns():
    """A namespace that plays the task's: veth to the root namespace,
    10.231.0.2 inside, 10.231.0.1 outside with TCP listeners on two ports."""
    name = "chaos-task-%d" % os.getpid()
    sh("ip", "netns", "add", name)
    try:
        sh("ip", "link", "add", "vt-%d" % os.getpid(), "type", "veth", "peer", "name", "eth0",
           "netns", name)
        sh("ip", "addr", "add", "10.231.0.1/24", "dev", "vt-%d" % os.getpid())
        sh("ip", "link", "set", "vt-%d" % os.getpid(), "up")
        sh("ip", "netns", "exec", name, "ip", "addr", "add", "10.231.0.2/24", "dev", "eth0")
        sh("ip", "netns", "exec", name, "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        servers = []
        for port in (15432, 18080):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("10.231.0.1", port))
            s.listen(64)
            servers.append(s)
            threading.Thread(target=_accept, args=(s,), daemon=True).start()
        yield name, "/run/netns/" + name
    finally:
        sh("ip", "netns", "del", name, check=False)
        sh("ip", "link", "del", "vt-%d" % os.getpid(), check=False)


def _accept(s):
    while True:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            return


def connects(netns, port):
    r = sh("ip", "netns", "exec", netns, sys.executable, "-c",
           "import socket; socket.create_connection(('10.231.0.1', %d), timeout=0.5)"
           % port, check=False)
    return r.returncode == 0


def test_blackhole_drops_the_port_for_real(session, task_netns):
    """The stand-in in apply mode runs the ECS agent's iptables commands in
    the namespace: connections to the port fail while the fault holds, the
    other port is untouched, and the deadline restores it."""
    name, path = task_netns
    if sh("iptables", "-V", check=False).returncode != 0:
        pytest.skip("iptables is not installed")
    ep = EcsEndpoints(apply=True).start()
    try:
        ep.add_task(CID, ARN, netns=path)
        a = sidecar(session, ep)
        assert connects(name, 15432) and connects(name, 18080)
        t0 = time.monotonic()
        r = create(a, "blackhole", duration=3, dest_port="15432", protocol="tcp")
        assert r.status == 201, r
        effect_ms = (time.monotonic() - t0) * 1000
        assert not connects(name, 15432)
        assert connects(name, 18080)
        rules = sh("ip", "netns", "exec", name, "iptables", "-S").stdout
        assert "-A OUTPUT -j egress-tcp-15432" in rules, rules
        print("blackhole in effect %.0f ms after the request was sent" % effect_ms)
        f = r.json()
        wait_for(lambda: a.client.fault(f["id"])["state"] == "expired", 5,
                 desc="the blackhole to expire")
        assert connects(name, 15432)
        assert "egress-tcp-15432" not in sh("ip", "netns", "exec", name, "iptables",
                                            "-S").stdout
    finally:
        ep.stop()


# ------------------------------------------------------------ the task's CPU and processes


@pytest.fixture
def task_cgroup():
    """A cgroup that plays an ECS task's, with a 0.5-CPU limit, and a child
    without one for the sidecar (cgroup v1's cpu hierarchy, or v2)."""
    name = "chaos-task-%d" % os.getpid()
    v1 = os.path.isdir("/sys/fs/cgroup/cpu")
    base = "/sys/fs/cgroup/cpu" if v1 else "/sys/fs/cgroup"
    task = os.path.join(base, name)
    if not v1:
        with open(os.path.join(base, "cgroup.subtree_control"), "w") as f:
            f.write("+cpu")
    os.mkdir(task)
    try:
        if v1:
            with open(os.path.join(task, "cpu.cfs_period_us"), "w") as f:
                f.write("100000")
            with open(os.path.join(task, "cpu.cfs_quota_us"), "w") as f:
                f.write("50000")
        else:
            with open(os.path.join(task, "cpu.max"), "w") as f:
                f.write("50000 100000")
        os.mkdir(os.path.join(task, "sidecar"))
        yield os.path.join(task, "sidecar", "cgroup.procs")
    finally:
        for d in (os.path.join(task, "sidecar"), task):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)


def test_burn_cpu_load_is_a_share_of_the_tasks_cpu_limit(session, ecs, task_cgroup):
    """The sidecar in a task with a 0.5-CPU limit: load 100 is that half
    CPU (one burner at 50 %), and the burner's CPU time shows it (within
    the bounds conftest.assert_load holds on a busy machine)."""
    def join():
        with open(task_cgroup, "w") as f:
            f.write(str(os.getpid()))
    env = dict(os.environ, ECS_AGENT_URI=ecs.uri(CID))
    a = session.agent(sets={"mode": "task"}, env=env, start=False)
    orig = subprocess.Popen

    def popen(*args, **kw):
        return orig(*args, preexec_fn=join, **kw)
    subprocess.Popen = popen
    try:
        a.start()
    finally:
        subprocess.Popen = orig
    f = a.inject(duration=4, load=100, cores=0)
    assert f["detail"]["task"] == {"cpu_limit": 0.5, "burners": 1, "load_per_burner": 50}, f
    # Half a CPU: the burner's own duty cycle and the task's quota agree.
    assert_load(f["detail"]["burner_pids"], 50, seconds=1.0)


def test_burn_cpu_burns_in_the_sidecars_own_cgroup(task_agent):
    f = task_agent.inject(duration=3, load=40, cores=1)
    pids = f["detail"]["burner_pids"]
    with open("/proc/%d/cgroup" % task_agent.pid) as fh:
        mine = fh.read()
    for p in pids:
        with open("/proc/%d/cgroup" % p) as fh:
            assert fh.read() == mine
    assert all(p in proc_children(task_agent.pid) for p in pids)


def test_kill_process_within_the_task(task_agent):
    victim = subprocess.Popen(["sleep", "60"])
    try:
        r = task_agent.client.create(typ="kill-process", params={"pid": victim.pid})
        assert r.status == 201, r
        assert victim.wait(5) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
    r = task_agent.client.create(typ="kill-process", params={"name": "chaos-agent"})
    assert r.status == 400, r
    assert proc_comm(task_agent.pid) == "chaos-agent"


# ------------------------------------------------------------ the key as a container secret


def test_key_from_the_environment_is_used_and_wiped(session, ecs, keyfile):
    """ECS secrets hand a container its key in an environment variable:
    key_env reads it instead of a file, and its value is wiped from the
    agent's environment (/proc/PID/environ) once read."""
    with open(keyfile) as f:
        text = f.read()
    env = dict(os.environ, ECS_AGENT_URI=ecs.uri(CID), CHAOS_AGENT_KEY=text)
    a = session.agent(sets={"mode": "task", "key_env": "CHAOS_AGENT_KEY",
                            "key_file": "/nonexistent/agent.key"}, env=env)
    assert a.client.get("/v1/info").status == 200
    secret = text.split()[1].encode()
    with open("/proc/%d/environ" % a.pid, "rb") as f:
        environ = f.read()
    # The variable's bytes are wiped where the kernel shows them.
    assert secret not in environ and b"CHAOS_AGENT_KEY=\0" in environ


@pytest.mark.parametrize("env,want", [
    ({}, "key_env: the environment has no 'CHAOS_AGENT_KEY'"),
    ({"CHAOS_AGENT_KEY": "ops1 00"}, "key_env 'CHAOS_AGENT_KEY': "),
])
def test_key_env_problems_are_named(keyfile, tmp_path, env, want):
    e = {k: v for k, v in os.environ.items() if k != "CHAOS_AGENT_KEY"}
    e.update(env)
    r = subprocess.run([os.path.join(ROOT, "bin", "chaos-agent"), "-n", "--set",
                        "key_env=CHAOS_AGENT_KEY", "--state-dir", str(tmp_path / "s")],
                       env=e, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and want in r.stderr, r.stderr
    r = subprocess.run([os.path.join(ROOT, "bin", "chaos-agent"), "-n", "--set",
                        "key_env=1BAD", "--key-file", keyfile], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0 and "key_env: '1BAD' is not an environment variable" in \
        r.stderr, r.stderr


def test_the_sidecar_command_line_of_the_task_definition_starts_the_agent(ecs, keyfile,
                                                                          tmp_path):
    """packaging/sidecar/task-definition.json's command, as ECS would run
    it (the key in CHAOS_AGENT_KEY), with only the address and the state
    directory moved to this machine: the agent serves in task mode."""
    with open(os.path.join(ROOT, "packaging", "sidecar", "task-definition.json")) as f:
        c = next(c for c in json.load(f)["containerDefinitions"] if c["name"] == "chaos-agent")
    argv = [{"0.0.0.0:8421": "127.0.0.1:0", "/var/lib/chaos-agent": str(tmp_path / "st")}.get(
        a, a) for a in c["command"]]
    with open(keyfile) as f:
        env = dict(os.environ, CHAOS_AGENT_KEY=f.read(), ECS_AGENT_URI=ecs.uri(CID))
    log = open(tmp_path / "sidecar.log", "wb")
    p = subprocess.Popen([os.path.join(ROOT, "bin", "chaos-agent")] + argv, env=env,
                         stdout=log, stderr=log)
    try:
        def port():
            with open(tmp_path / "sidecar.log") as f:
                for line in f:
                    if '"listening"' in line:
                        return json.loads(line)["port"]
            return None
        import chaos_client
        kid, key = chaos_client.load_keys(keyfile)[0]
        client = chaos_client.Client(wait_for(port, 10, desc="the sidecar to listen"), kid, key)
        info = wait_for(lambda: client.get("/v1/info").json(), 10, desc="info")
        assert info["mode"] == "task" and info["task"]["endpoints"] == "available", info
    finally:
        p.terminate()
        assert p.wait(10) == 0
        log.close()
