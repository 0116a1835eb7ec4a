"""make bench, side by side: each measure of the kit next to what a user
would otherwise reach for, in the same run, rounds interleaved, medians and
the ratio (kit / reference; below 1 the kit is faster or closer).

  - CPU load held with a hog on the same core: burn-cpu against
    stress-ng --cpu-load (Debian's stress-ng)
  - container kill, pause and unpause: chaosctl against the docker CLI on
    the same private engine (Pumba is not served by the Go module proxy
    here, so it is not in the run)
  - start-up: chaosctl version against a Python CLI importing boto3 (the
    project virtualenv's)
  - fan-out to 10, 100 and 300 loopback agents: info, inject --dry-run and
    revert --all

Prints numbers; asserts nothing. Needs root.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import AGENT, CTL, HZ, Agent, alive, cpu_ticks  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio(a, b):
    return "%.2fx" % (a / b) if b else "-"


def row(what, kit, ref, unit="ms", ref_name="reference"):
    print("%-44s kit %8.1f %s   %s %8.1f %s   ratio %s" % (
        what, med(kit), unit, ref_name, med(ref), unit, ratio(med(kit), med(ref))))


def hog(cpu):
    """A process spinning on one CPU: the contention both burners face."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"],
                            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))


def share(pid, seconds=3.0):
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    time.sleep(seconds)
    return 100.0 * (cpu_ticks(pid) - c0) / HZ / (time.monotonic() - t0)


def stress_ng_worker(parent):
    """The stress-ng child that burns (its parent only supervises)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                if int(st.rsplit(")", 1)[1].split()[1]) == parent:
                    return int(d)
        time.sleep(0.02)
    return None


def bench_cpu():
    if shutil.which("stress-ng") is None:
        print("== CPU load with a hog on the same core: skipped (stress-ng is not "
              "installed)")
        return
    cpu = max(os.sched_getaffinity(0))
    tmp = tempfile.mkdtemp(prefix="chaos-cmp.")
    print("== CPU load held on CPU %d while a hog spins there (3 s windows, %d rounds)"
          % (cpu, max(2, ROUNDS // 3)))
    h = hog(cpu)
    # The agent's affinity bounds where its burners go: this CPU only.
    a = Agent(tmp, "--set", "max_faults=64")
    os.sched_setaffinity(a.proc.pid, {cpu})
    try:
        for load in (25, 50, 75):
            kit, ref = [], []
            for _ in range(max(2, ROUNDS // 3)):
                rc, doc = a.ctl("inject", "burn-cpu", "--duration", "5", "--load",
                                str(load), "--cores", "1")
                pid = doc["results"][0]["body"]["detail"]["burner_pids"][0]
                time.sleep(0.5)
                kit.append(share(pid))
                a.ctl("revert", "--all")
                p = subprocess.Popen(["stress-ng", "--cpu", "1", "--cpu-load", str(load),
                                      "--taskset", str(cpu), "--timeout", "5s", "--quiet"])
                w = stress_ng_worker(p.pid)
                time.sleep(0.5)
                ref.append(share(w) if w else float("nan"))
                p.send_signal(signal.SIGINT)
                p.wait(10)
            print("requested %2d %%: burn-cpu %5.1f %% (error %+5.1f), stress-ng %5.1f %% "
                  "(error %+5.1f)" % (load, med(kit), med(kit) - load, med(ref),
                                     med(ref) - load))
    finally:
        a.stop()
        h.kill()
        h.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def frozen(cid):
    """Is the container's cgroup frozen (cgroupfs driver, v1 or v2)?"""
    for path, want in (("/sys/fs/cgroup/freezer/docker/%s/freezer.state" % cid, "FROZEN"),
                       ("/sys/fs/cgroup/docker/%s/cgroup.freeze" % cid, "1"),
                       ("/sys/fs/cgroup/system.slice/docker-%s.scope/cgroup.freeze" % cid,
                        "1")):
        try:
            with open(path) as f:
                return f.read().strip() == want
        except OSError:
            continue
    return False


def until(pred, timeout=10.0):
    t0 = time.perf_counter()
    while not pred():
        if time.perf_counter() - t0 > timeout:
            return float("nan")
        time.sleep(0.0002)
    return (time.perf_counter() - t0) * 1000


def bench_containers():
    from dockerd import Dockerd

    d = Dockerd(prefix="ckcmp")
    tmp = tempfile.mkdtemp(prefix="chaos-cmp.")
    a = None
    dk = ["docker", "-H", "unix://"]
    try:
        d.start()
        d.ensure_image()
        dk = ["docker", "-H", "unix://" + d.socket]
        a = Agent(tmp, "--set", "docker_socket=" + d.socket)
        a.ctl("info")       # the agent learns the engine's API version once
        kill_k, kill_d, pause_k, pause_d, unp_k, unp_d = [], [], [], [], [], []
        for i in range(ROUNDS):
            for who in ("kit", "docker"):
                cid = d.run("cmp-%s-%d" % (who, i), {"com.amazonaws.ecs.container-name":
                                                     "app"})
                pid = d.inspect(cid)["State"]["Pid"]
                t0 = time.perf_counter()
                if who == "kit":
                    p = subprocess.Popen([CTL, "--agent", a.url, "--key-file", a.key,
                                          "inject", "pause-container", "--container-id",
                                          cid, "--duration", "60"],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                else:
                    p = subprocess.Popen(dk + ["pause", cid], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
                ms = until(lambda: frozen(cid))
                out, _ = p.communicate(timeout=30)
                (pause_k if who == "kit" else pause_d).append(ms)
                if who == "kit":
                    fid = json.loads(subprocess.run(
                        [CTL, "--agent", a.url, "--key-file", a.key, "--output", "json",
                         "faults", "--state", "active"], capture_output=True,
                        text=True).stdout)["results"][0]["body"]["faults"][0]["id"]
                    p = subprocess.Popen([CTL, "--agent", a.url, "--key-file", a.key,
                                          "revert", fid], stdout=subprocess.PIPE)
                else:
                    p = subprocess.Popen(dk + ["unpause", cid], stdout=subprocess.PIPE)
                ms = until(lambda: not frozen(cid))
                p.communicate(timeout=30)
                (unp_k if who == "kit" else unp_d).append(ms)
                if who == "kit":
                    p = subprocess.Popen([CTL, "--agent", a.url, "--key-file", a.key,
                                          "inject", "kill-container", "--container-id", cid],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                else:
                    p = subprocess.Popen(dk + ["kill", cid], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
                ms = until(lambda: not alive(pid))
                p.communicate(timeout=30)
                (kill_k if who == "kit" else kill_d).append(ms)
                d.docker("rm", "-f", cid)
        print("== container faults on a private engine, call to effect (%d rounds, "
              "interleaved)" % ROUNDS)
        row("kill-container: process gone", kill_k, kill_d, ref_name="docker kill")
        row("pause-container: cgroup frozen", pause_k, pause_d, ref_name="docker pause")
        row("revert (unpause): cgroup thawed", unp_k, unp_d, ref_name="docker unpause")
    except Exception as e:  # a bench reports what it could not measure
        print("== container faults: not measured (%s)" % e)
    finally:
        if a is not None:
            a.stop()
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def bench_startup():
    py = os.path.join(ROOT, ".venv", "bin", "python")
    if not os.access(py, os.X_OK):
        print("== start-up: skipped (no project virtualenv)")
        return
    kit, ref = [], []
    for _ in range(ROUNDS * 3):
        t0 = time.perf_counter()
        subprocess.run([CTL, "version"], stdout=subprocess.DEVNULL)
        kit.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        subprocess.run([py, "-c", "import boto3; boto3.__version__"],
                       stdout=subprocess.DEVNULL)
        ref.append((time.perf_counter() - t0) * 1000)
    print("== start-up of the controller (%d runs each, interleaved)" % len(kit))
    row("chaosctl version", kit, ref, ref_name="python + boto3")


def bench_fanout():
    sizes = [int(x) for x in os.environ.get("BENCH_FANOUT", "10,100,300").split(",")]
    tmp = tempfile.mkdtemp(prefix="chaos-fan.")
    key = os.path.join(tmp, "agent.key")
    subprocess.run([CTL, "keygen", "--out", key], check=True, stderr=subprocess.DEVNULL)
    agents = []
    print("== fan-out to loopback agents (one chaosctl call; median of 3)")
    try:
        for n in sizes:
            while len(agents) < n:
                i = len(agents)
                d = os.path.join(tmp, "a%d" % i)
                os.makedirs(d)
                log = open(os.path.join(d, "log"), "w+")
                p = subprocess.Popen([AGENT, "--listen", "127.0.0.1:0", "--key-file", key,
                                      "--state-dir", os.path.join(d, "st"), "--set",
                                      "docker_socket=/nonexistent"], stderr=log)
                agents.append((p, log, None))
            urls = []
            for k, (p, log, port) in enumerate(agents):
                while port is None:
                    log.seek(0)
                    for line in log:
                        if '"event":"listening"' in line:
                            port = json.loads(line)["port"]
                    if port is None:
                        time.sleep(0.01)
                agents[k] = (p, log, port)
                urls.append("http://127.0.0.1:%d" % port)
            urls = urls[:n]
            af = os.path.join(tmp, "agents-%d" % n)
            with open(af, "w") as f:
                f.write("\n".join(urls) + "\n")
            res = {}
            for what, args in (("info", ["info"]),
                               ("inject --dry-run", ["inject", "burn-cpu", "--duration",
                                                     "5", "--dry-run"]),
                               ("revert --all", ["revert", "--all"])):
                times, codes = [], set()
                for _ in range(3):
                    t0 = time.perf_counter()
                    r = subprocess.run([CTL, "--agents-file", af, "--key-file", key,
                                        "--output", "json"] + args, capture_output=True)
                    times.append((time.perf_counter() - t0) * 1000)
                    codes.add(r.returncode)
                res[what] = (med(times), codes)
            print("%4d agents: %s" % (n, ", ".join("%s %.0f ms (exit %s)" % (
                w, t, "/".join(str(c) for c in sorted(c_))) for w, (t, c_) in res.items())))
    finally:
        for p, log, _ in agents:
            p.terminate()
        for p, log, _ in agents:
            p.wait(10)
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    bench_startup()
    bench_cpu()
    bench_containers()
    bench_fanout()


if __name__ == "__main__":
    main()
