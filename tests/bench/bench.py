"""Benchmarks of chaos-agent and chaosctl: programs that print numbers.

Measures, against a real agent on 127.0.0.1:
  - idle RSS of the parent and the worker
  - stripped sizes of both binaries
  - wall time of `chaosctl inject` (median and p90 of N runs)
  - how late deadline reverts are, seen from outside (burner gone minus
    the fault's expires_at) and from the agent's own histogram
  - requested vs measured CPU load of burn-cpu at 25, 50, 75 %
  - a soak: signed requests at a constant rate (200/s for 30 s by
    default; BENCH_SOAK_SECONDS), with latency, errors, and the memory of both processes
    before and after
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

from memory import children, rollup

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AGENT = os.path.join(ROOT, "bin", "chaos-agent")
CTL = os.path.join(ROOT, "bin", "chaosctl")
HZ = os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def mem_kib(pid):
    """RSS, and the part of it private to the process (not shared libraries)."""
    vals = rollup(pid)
    return (f"RSS {vals['Rss']} KiB (PSS {vals['Pss']}, private "
            f"{vals['Private_Clean'] + vals['Private_Dirty']})")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def parse_ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=__import__("datetime").timezone.utc).timestamp()


class Agent:
    def __init__(self, tmp, *extra):
        self.tmp = tmp
        self.key = os.path.join(tmp, "agent.key")
        subprocess.run([CTL, "keygen", "--out", self.key, "--force"], check=True,
                       stderr=subprocess.DEVNULL)
        self.log = open(os.path.join(tmp, "agent.log"), "w+")
        self.proc = subprocess.Popen(
            [AGENT, "--listen", "127.0.0.1:0", "--key-file", self.key,
             "--state-dir", os.path.join(tmp, "state"), *extra],
            stderr=self.log)
        deadline = time.time() + 5
        self.port = None
        while time.time() < deadline and self.port is None:
            self.log.seek(0)
            for line in self.log:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("event") == "listening":
                    self.port = ev["port"]
            time.sleep(0.02)
        if self.port is None:
            raise SystemExit("agent did not start")
        self.url = f"http://127.0.0.1:{self.port}"

    def ctl(self, *args):
        r = subprocess.run([CTL, "--agent", self.url, "--key-file", self.key,
                            "--output", "json", *args],
                           capture_output=True, text=True)
        return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def soak(a, rate, seconds):
    """Signed GET /v1/faults at a constant rate (an open model: requests are
    sent on schedule whether or not earlier ones are done), from a few
    threads; returns (latencies in ms, errors)."""
    import threading
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import chaos_client as cc
    kid, key = cc.load_keys(a.key)[0]
    c = cc.Client(a.port, kid, key)
    lat, errors, lock = [], [], threading.Lock()
    t0 = time.monotonic()
    total = int(rate * seconds)
    nthreads = 8
    state = {"next": 0}

    def run():
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= total:
                return
            due = t0 + i / rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            s0 = time.monotonic()
            try:
                r = c.get("/v1/faults")
                ok = r.status == 200
            except OSError as e:
                ok, r = False, e
            with lock:
                lat.append((time.monotonic() - s0) * 1000)
                if not ok:
                    errors.append(repr(r)[:120])
    threads = [threading.Thread(target=run) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors, time.monotonic() - t0


def stripped_size(path, tmp):
    dst = os.path.join(tmp, os.path.basename(path) + ".stripped")
    shutil.copy(path, dst)
    subprocess.run(["strip", dst], check=True)
    return os.path.getsize(dst)


def main():
    n_inject = int(os.environ.get("BENCH_INJECTS", "30"))
    n_revert = int(os.environ.get("BENCH_REVERTS", "24"))
    tmp = tempfile.mkdtemp(prefix="chaos-bench.")
    a = Agent(tmp, "--set", "max_faults=64")
    try:
        time.sleep(0.5)
        worker = children(a.proc.pid)
        print("== footprint")
        print(f"agent idle, parent: {mem_kib(a.proc.pid)}")
        print(f"agent idle, worker: {mem_kib(worker[0]) if worker else '-'}")
        print(f"stripped size: chaos-agent {stripped_size(AGENT, tmp)} B, "
              f"chaosctl {stripped_size(CTL, tmp)} B")

        rate = int(os.environ.get("BENCH_SOAK_RATE", "200"))
        secs = int(os.environ.get("BENCH_SOAK_SECONDS", "30"))
        print(f"== soak: signed GET /v1/faults at {rate}/s for {secs} s")
        lat, errors, took = soak(a, rate, secs)
        lat.sort()
        worker = children(a.proc.pid)
        print(f"{len(lat)} requests in {took:.1f} s ({len(lat) / took:.0f}/s), "
              f"{len(errors)} errors{': ' + errors[0] if errors else ''}; latency "
              f"median {statistics.median(lat):.2f} ms, p99 "
              f"{lat[int(len(lat) * 0.99) - 1]:.2f} ms, max {lat[-1]:.2f} ms")
        print(f"after the soak, parent: {mem_kib(a.proc.pid)}")
        print(f"after the soak, worker: {mem_kib(worker[0]) if worker else '-'}")
        journal = os.path.join(tmp, "state", "nonces")
        print(f"replay journal: {os.path.getsize(journal)} B")

        print("== chaosctl inject wall time against a local agent")
        times = []
        for _ in range(n_inject):
            t0 = time.perf_counter()
            rc, doc = a.ctl("inject", "burn-cpu", "--duration", "30", "--load", "1",
                            "--cores", "1")
            times.append((time.perf_counter() - t0) * 1000)
            assert rc == 0, doc
            a.ctl("revert", "--all")
        times.sort()
        print(f"inject: median {statistics.median(times):.2f} ms, "
              f"p90 {times[int(len(times) * 0.9) - 1]:.2f} ms, "
              f"min {times[0]:.2f} ms over {n_inject} runs "
              "(process start, key file, sign, POST, fork of the burner)")

        print(f"== deadline revert lateness over {n_revert} faults")
        faults = []
        for i in range(n_revert):
            rc, doc = a.ctl("inject", "burn-cpu", "--duration", str(2 + i % 3),
                            "--load", "1", "--cores", "1")
            body = doc["results"][0]["body"]
            faults.append((parse_ts(body["expires_at"]), body["detail"]["burner_pids"][0],
                           body["id"]))
        gone = {}
        end = time.time() + 10
        while len(gone) < len(faults) and time.time() < end:
            for exp, pid, fid in faults:
                if fid not in gone and not os.path.exists(f"/proc/{pid}"):
                    gone[fid] = time.time() - exp
            time.sleep(0.001)
        late = sorted(v * 1000 for v in gone.values())
        print(f"burner gone after expires_at: median {statistics.median(late):.1f} ms, "
              f"max {max(late):.1f} ms, min {min(late):.1f} ms (n={len(late)}; "
              "1 ms polling, includes wall/monotonic clock offset)")
        rc, doc = a.ctl("faults")
        states = [f["state"] for f in doc["results"][0]["body"]["faults"]
                  if f["id"] in gone]
        print(f"fault states after the deadline: "
              f"{ {s: states.count(s) for s in set(states)} }")

        print("== burn-cpu load accuracy (one core, 4 s window from /proc)")
        for load in (25, 50, 75):
            rc, doc = a.ctl("inject", "burn-cpu", "--duration", "7", "--load", str(load),
                            "--cores", "1")
            pid = doc["results"][0]["body"]["detail"]["burner_pids"][0]
            time.sleep(1.0)
            t0, c0 = time.time(), cpu_ticks(pid)
            time.sleep(4.0)
            t1, c1 = time.time(), cpu_ticks(pid)
            measured = 100.0 * (c1 - c0) / HZ / (t1 - t0)
            print(f"requested {load} %: measured {measured:.1f} % "
                  f"(error {measured - load:+.1f} points)")
            a.ctl("revert", "--all")
    finally:
        a.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    bench_containers()


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cgroup_usage_ns(cg):
    if "cpuacct" in cg:
        for mnt in ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct"):
            p = mnt + cg["cpuacct"] + "/cpuacct.usage"
            if os.path.exists(p):
                return int(open(p).read())
    for line in open("/sys/fs/cgroup" + cg["unified"] + "/cpu.stat"):
        k, v = line.split()
        if k == "usage_usec":
            return int(v) * 1000
    raise RuntimeError("no CPU accounting for %r" % cg)


def bench_containers():
    """Container faults against a private Docker engine (tests/lib/dockerd.py)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    from dockerd import Dockerd

    n_kill = int(os.environ.get("BENCH_KILLS", "10"))
    d = Dockerd(prefix="ckbench")
    tmp = tempfile.mkdtemp(prefix="chaos-bench.")
    a = None
    try:
        d.start()
        d.ensure_image()
        a = Agent(tmp, "--set", "docker_socket=" + d.socket)
        print(f"== kill-container: chaosctl inject to the container's process gone "
              f"({n_kill} runs)")
        dead, ctl_ms = [], []
        for i in range(n_kill):
            cid = d.run("bench-%d" % i, {"com.amazonaws.ecs.container-name": "app"})
            pid = d.inspect(cid)["State"]["Pid"]
            t0 = time.perf_counter()
            rc, doc = a.ctl("inject", "kill-container", "--container-id", cid)
            ctl_ms.append((time.perf_counter() - t0) * 1000)
            assert rc == 0, doc
            while alive(pid):
                time.sleep(0.0005)
            dead.append((time.perf_counter() - t0) * 1000)
            d.docker("rm", "-f", cid)
        dead.sort()
        print(f"container dead after: median {statistics.median(dead):.1f} ms, "
              f"min {dead[0]:.1f} ms, max {dead[-1]:.1f} ms; chaosctl returned after "
              f"median {statistics.median(ctl_ms):.1f} ms (includes resolving the target "
              "and the Docker API version in a job)")
        print("== burn-cpu inside a container limited to 1 CPU, load 50 % (4 s window, "
              "cgroup CPU accounting)")
        cid = d.run("bench-burn", {"com.amazonaws.ecs.container-name": "hot"}, cpus=1)
        rc, doc = a.ctl("targets")
        cg = [t for t in doc["results"][0]["body"]["targets"] if t["id"] == cid][0]["cgroup"]
        rc, doc = a.ctl("inject", "burn-cpu", "--container-id", cid, "--load", "50",
                        "--duration", "7")
        assert rc == 0, doc
        time.sleep(1.0)
        t0, u0 = time.time(), cgroup_usage_ns(cg)
        time.sleep(4.0)
        t1, u1 = time.time(), cgroup_usage_ns(cg)
        measured = (u1 - u0) / 1e9 / (t1 - t0) * 100
        print(f"requested 50 % of 1 CPU: measured {measured:.1f} % "
              f"(error {measured - 50:+.1f} points)")
        a.ctl("revert", "--all")
    finally:
        if a is not None:
            a.stop()
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
