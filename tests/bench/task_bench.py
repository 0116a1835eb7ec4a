"""Task mode through the ECS fault injection endpoints: the numbers issue
15's closing note reports. Needs root (a network namespace, iptables).

The ECS agent cannot run here: the stand-in of tests/lib/ecs_endpoints.py
takes its place, with the real agent in task mode and the real chaosctl.

  - latency and loss: chaosctl inject to the stand-in's /start (contract
    mode, nothing applied: this machine's kernel has no sch_netem, so the
    netem effect itself is not measured here), and how late /stop comes
    after the fault's expires_at;
  - blackhole (apply mode: the ECS agent's iptables commands in a network
    namespace that plays the task's): chaosctl inject to the first connect
    from the namespace that fails, and the deadline to the first that
    succeeds again, probing every 5 ms;
  - the faults /v1/info lists as available in task mode and in host mode.

Each measurement runs BENCH_TASK_RUNS times (default 10), 5.2 s apart
(the endpoints allow one call per 5 s per route and caller).

    sudo /usr/bin/python3 tests/bench/task_bench.py
"""
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import CTL, ROOT, Agent, parse_ts  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from ecs_endpoints import EcsEndpoints  # noqa: E402

RUNS = int(os.environ.get("BENCH_TASK_RUNS", "10"))
CID = "0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6-1234567890"
ARN = "arn:aws:ecs:us-east-1:123456789012:task/chaos/0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6"
NS = "chaos-bench-%d" % os.getpid()
VETH = "vb-%d" % os.getpid()
PORT = 15433
GAP = 5.2

# Runs in the namespace: connects to PORT every 5 ms and prints the wall
# time at which each attempt that changed the outcome started.
PROBE = r"""
import socket, sys, time
last = None
while True:
    t = time.time()
    try:
        socket.create_connection(("10.232.0.1", %d), timeout=0.05).close()
        ok = True
    except OSError:
        ok = False
    if ok != last:
        print("%%.6f %%d" %% (t, ok), flush=True)
        last = ok
    time.sleep(0.005)
""" % PORT


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def stats(name, xs):
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    print("  %-52s n=%d median %.1f ms, min %.1f, p90 %.1f, max %.1f" % (
        name, len(xs), statistics.median(xs), xs[0], p90, xs[-1]))


def netns_up():
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", VETH, "type", "veth", "peer", "name", "eth0", "netns", NS)
    sh("ip", "addr", "add", "10.232.0.1/24", "dev", VETH)
    sh("ip", "link", "set", VETH, "up")
    for argv in (("ip", "addr", "add", "10.232.0.2/24", "dev", "eth0"),
                 ("ip", "link", "set", "eth0", "up"), ("ip", "link", "set", "lo", "up")):
        sh("ip", "netns", "exec", NS, *argv)


def netns_down():
    sh("ip", "netns", "del", NS, check=False)
    sh("ip", "link", "del", VETH, check=False)


def listener():
    import socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.232.0.1", PORT))
    s.listen(128)

    def loop():
        while True:
            try:
                c, _ = s.accept()
                c.close()
            except OSError:
                return
    threading.Thread(target=loop, daemon=True).start()
    return s


class Probe:
    def __init__(self):
        self.events = []
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, "-c", PROBE],
                                     stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            t, ok = line.split()
            self.events.append((float(t), ok == "1"))

    def first(self, ok, after):
        for t, o in list(self.events):
            if o == ok and t >= after:
                return t
        return None

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def wait(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise SystemExit("timed out")


def inject(agent, *args):
    t0 = time.time()
    rc, out = agent.ctl("inject", *args)
    if rc != 0:
        raise SystemExit("inject %s: %s" % (args, out))
    return t0, out["results"][0]["body"]


def bench_contract(tmp):
    os.makedirs(tmp)
    ep = EcsEndpoints(interval=5.0).start()
    ep.add_task(CID, ARN)
    os.environ["ECS_AGENT_URI"] = ep.uri(CID)
    a = Agent(tmp, "--set", "mode=task")
    print("latency and loss through the endpoints (stand-in in contract mode):")
    try:
        for typ, endpoint, args in (
                ("latency", "network-latency", ("--delay", "100ms", "--dest", "10.0.0.0/8")),
                ("loss", "network-packet-loss", ("--percent", "30", "--dest", "10.0.0.0/8"))):
            to_start, late = [], []
            for i in range(RUNS):
                t0, f = inject(a, typ, "--duration", "2", *args)
                start = ep.calls(endpoint, "start", 200)[i]
                to_start.append((start["wall"] - t0) * 1000)
                stop = wait(lambda: len(ep.calls(endpoint, "stop", 200)) > i and
                            ep.calls(endpoint, "stop", 200)[i], 10)
                late.append((stop["wall"] - parse_ts(f["expires_at"])) * 1000)
                time.sleep(max(0.0, t0 + GAP - time.time()))
            stats("%s: chaosctl inject to /start" % typ, to_start)
            stats("%s: /stop after expires_at" % typ, late)
    finally:
        a.stop()
        ep.stop()


def bench_blackhole(tmp):
    os.makedirs(tmp)
    netns_up()
    srv = listener()
    ep = EcsEndpoints(interval=5.0, apply=True).start()
    probe = None
    try:
        ep.add_task(CID, ARN, netns="/run/netns/" + NS)
        os.environ["ECS_AGENT_URI"] = ep.uri(CID)
        a = Agent(tmp, "--set", "mode=task")
        probe = Probe()
        wait(lambda: probe.first(True, 0), 5)
        effect, late, to_start = [], [], []
        print("blackhole through the endpoints (stand-in applying iptables in a namespace):")
        try:
            for i in range(RUNS):
                t0, f = inject(a, "blackhole", "--dest-port", str(PORT), "--protocol", "tcp",
                               "--duration", "2")
                to_start.append((ep.calls("network-blackhole-port", "start", 200)[i]["wall"] -
                                 t0) * 1000)
                t_fail = wait(lambda: probe.first(False, t0), 5)
                effect.append((t_fail - t0) * 1000)
                exp = parse_ts(f["expires_at"])
                t_ok = wait(lambda: probe.first(True, t_fail), 10)
                late.append((t_ok - exp) * 1000)
                time.sleep(max(0.0, t0 + GAP - time.time()))
        finally:
            a.stop()
        stats("blackhole: chaosctl inject to /start", to_start)
        stats("blackhole: chaosctl inject to the first dropped connect", effect)
        stats("blackhole: expires_at to the first connect that passes", late)
    finally:
        if probe is not None:
            probe.stop()
        ep.stop()
        srv.close()
        netns_down()


def availability(tmp):
    print("faults available (chaosctl info, the agent's GET /v1/info):")
    ep = EcsEndpoints(interval=5.0).start()
    ep.add_task(CID, ARN)
    os.environ["ECS_AGENT_URI"] = ep.uri(CID)
    try:
        for mode, extra in (("host", ()), ("task", ("--set", "mode=task"))):
            d = os.path.join(tmp, mode)
            os.makedirs(d)
            a = Agent(d, *extra)
            try:
                rc, out = a.ctl("info")
            finally:
                a.stop()
            caps = out["results"][0]["body"]["capabilities"]
            print("  %s mode: %s" % (mode, ", ".join(sorted(
                c["type"] for c in caps if c["available"]))))
            for c in sorted(caps, key=lambda c: c["type"]):
                if not c["available"]:
                    print("    not %s: %s" % (c["type"], c.get("reason", "")))
    finally:
        ep.stop()


def main():
    if os.geteuid() != 0:
        raise SystemExit("task_bench.py needs root (a network namespace, iptables)")
    print("chaos-kit %s, %s runs each" % (
        subprocess.run([CTL, "version"], capture_output=True, text=True).stdout.split("\n")[0],
        RUNS))
    tmp = tempfile.mkdtemp(prefix="task-bench-")
    availability(os.path.join(tmp, "info"))
    bench_contract(os.path.join(tmp, "contract"))
    bench_blackhole(os.path.join(tmp, "blackhole"))


if __name__ == "__main__":
    main()
