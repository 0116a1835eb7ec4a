"""Every experiment of library/ run end to end: real Chaos Toolkit through
`chaosctl run experiment.conf --context local` against the sandbox
(tests/sandbox/sandbox.py): container instances as namespaces with real
agents and Docker engines, a scheduler that keeps the service's desired
count, a health-checked load balancer, moto as AWS.

Each test reads the journal (status, the hypothesis before/during/after, each
activity's output), measures the fault's effect outside of the agent (CPU from
/proc and cgroups, container states and restarts from Docker, processes of the
instance's PID namespace, the tasks the scheduler runs), and checks that
nothing is left behind: no active fault on any agent, no burner, every
container running, the service answering. Every run prints what its SLO
probes and its users' traffic measured (vegeta: error rate, p99) and the
recovery or scaling times its method recorded.

Network faults need sch_netem. Where the kernel has none (as on the build
machine), the agents answer 422: the test asserts that the guard control
stopped the run right after the refused injection and that the rollback
played; with netem it asserts the fault was active.

moto evaluates neither alarms nor scaling policies: the sandbox plays both,
so the alarm and scaling experiments are tested against that stand-in (said
in each README); rds-instance-reboot only proves its calls. The experiments
that terminate instances get a fresh sandbox afterwards.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest

from conftest import ROOT, CTL_BIN, clean_env, describe, wait_for

sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))
import sandbox as sbx  # noqa: E402

LIBRARY = os.path.join(ROOT, "library")
SANDBOX = os.path.join(ROOT, "tests", "sandbox", "sandbox.py")
SERVICE = "http://%s:%d/users" % (sbx.HOST_IP, sbx.LB_PORT)
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Sandbox:
    def __init__(self, instances=2):
        self.dir = tempfile.mkdtemp(prefix="ckx-t-", dir="/tmp")
        self.instances = instances
        self.state = None

    def up(self):
        p = subprocess.run([sys.executable, SANDBOX, "--dir", self.dir, "up", "--instances",
                            str(self.instances)], capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            pytest.fail("sandbox up failed:\n" + p.stdout + p.stderr, pytrace=False)
        with open(os.path.join(self.dir, "state.json")) as f:
            self.state = json.load(f)

    def down(self):
        p = subprocess.run([sys.executable, SANDBOX, "--dir", self.dir, "down"],
                           capture_output=True, text=True, timeout=180)
        assert p.returncode == 0, p.stderr
        assert not os.path.exists(self.dir)

    def rebuild(self):
        self.down()
        os.makedirs(self.dir)
        self.up()

    def env(self, home):
        return clean_env(home, **sbx.sandbox_env(self.state))

    def tasks(self):
        """The API service's tasks as the sandbox's scheduler runs them now."""
        return sbx.read_tasks(self.dir)

    def settle(self, count=2, timeout=90):
        """Wait until the scheduler runs `count` tasks, each answering, and the
        balancer's health checks had time to take them in."""
        def ready():
            ts = self.tasks()
            return (len(ts) == count and moto_service(self)["desiredCount"] == count
                    and all(sbx.tcp_answers(t["ip"], 80) for t in ts))
        wait_for(ready, timeout, desc="%d running, answering tasks" % count)
        time.sleep(sbx.HEALTH_THRESHOLD * sbx.HEALTH_INTERVAL + 1.5)
        # and the alarms back to OK: an earlier run's errors age out of
        # their window
        wait_for(lambda: {alarm_state(self, a) for a in sbx.ALARM_RULES} == {"OK"},
                 sbx.ALARM_WINDOW + 4 * sbx.METRICS_PERIOD + 10, desc="every alarm OK")

    def engine(self, k):
        return sbx.Engine(self.dir, k)

    def log_tail(self, n=3000):
        """The end of the scheduler's and the balancer's log, for a failure."""
        try:
            with open(os.path.join(self.dir, "lb.log")) as f:
                return f.read()[-n:]
        except OSError as exc:
            return str(exc)

    def init_pid(self, k):
        return self.state["instances"][str(k)]["init_pid"]

    def ns_pids(self, k):
        """Root-namespace pids of the processes of instance k's own PID
        namespace (containers have theirs, nested)."""
        ns = os.readlink("/proc/%d/ns/pid" % self.init_pid(k))
        out = []
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    if os.readlink("/proc/%s/ns/pid" % p) == ns:
                        out.append(int(p))
                except OSError:
                    pass
        return out

    def ns_cpu(self, k):
        """{pid: CPU seconds} of instance k's processes."""
        out = {}
        for p in self.ns_pids(k):
            try:
                with open("/proc/%d/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[p] = (int(fields[11]) + int(fields[12])) / CLK_TCK
            except OSError:
                pass
        return out

    def comm_pids(self, k, name):
        out = []
        for p in self.ns_pids(k):
            try:
                with open("/proc/%d/comm" % p) as f:
                    if f.read().strip() == name:
                        out.append(p)
            except OSError:
                pass
        return out

    def containers(self, k):
        """{name: (status, restart marker)} of instance k's engine."""
        out = self.engine(k).docker("ps", "-a", "--format",
                                    "{{.Names}}\t{{.State}}\t{{.ID}}")
        return {n: s for n, s, _ in (line.split("\t") for line in out.splitlines())}

    def started_at(self, k, name):
        return self.engine(k).docker("inspect", "-f", "{{.State.StartedAt}}", name)

    def ctl(self, home, *args):
        return subprocess.run([CTL_BIN, "--cluster", sbx.CLUSTER, "--key-ssm-parameter",
                               sbx.KEY_PARAMETER, "--output", "json", *args],
                              env=self.env(home), capture_output=True, text=True, timeout=60)

    def netem(self):
        """Whether the agents can apply network faults (and if not, why)."""
        r = self.ctl(os.environ.get("HOME", "/root"), "info")
        caps = json.loads(r.stdout)["results"][0]["body"]["capabilities"]
        latency = [c for c in caps if c["type"] == "latency"][0]
        return latency["available"], latency.get("reason")


@pytest.fixture(scope="module")
def sandbox(venv):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root (network namespaces, dockerd)")
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd is not installed (scripts/install-deps.sh)")
    s = Sandbox()
    cgroups = docker_cgroups()
    try:
        s.up()
        yield s
    finally:
        subprocess.run([sys.executable, SANDBOX, "--dir", s.dir, "down"],
                       capture_output=True, timeout=180)
    for name in ["ckx-vpc", "ckx-rds"] + ["ckx-i%d" % k for k in range(1, 5)]:
        assert not os.path.exists("/run/netns/" + name), "sandbox down left " + name
    assert docker_cgroups() <= cgroups, "containers' cgroups left behind"


def docker_cgroups():
    """The container cgroups (cgroupfs driver) of every hierarchy."""
    out = set()
    for base in [""] + os.listdir("/sys/fs/cgroup"):
        d = os.path.join("/sys/fs/cgroup", base, "docker")
        if os.path.isdir(d) and not os.path.islink(os.path.join("/sys/fs/cgroup", base)):
            out |= {os.path.join(d, i) for i in os.listdir(d)
                    if os.path.isdir(os.path.join(d, i))}
    return out


class Sampler:
    """Calls fn() every interval seconds in a thread; .values are (t, value)."""

    def __init__(self, fn, interval=1.0):
        self.fn, self.interval = fn, interval
        self.values = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.values.append((time.monotonic(), self.fn()))
            except Exception as exc:  # keep sampling; the test looks at values
                self.values.append((time.monotonic(), exc))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def service_answer():
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(SERVICE, timeout=10) as r:
            return r.status, time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, time.monotonic() - t0
    except OSError:
        return None, time.monotonic() - t0


# ------------------------------------------------------------------ journal


class Run:
    def __init__(self, proc, journal, run_dir):
        self.proc, self.journal, self.dir = proc, journal, run_dir

    def activity(self, name, where="run"):
        found = [a for a in self.journal[where] if a["activity"]["name"] == name]
        assert found, "%s: no activity %s in the journal" % (where, name)
        return found[0]

    def ctl_output(self, name, where="run"):
        """The JSON chaosctl printed for a process activity."""
        a = self.activity(name, where)
        assert a["status"] == "succeeded", a
        return json.loads(a["output"]["stdout"])

    def before(self):
        return self.journal["steady_states"]["before"]

    def after(self):
        return self.journal["steady_states"]["after"]

    def failed_probes(self, phase):
        ss = self.journal["steady_states"][phase]
        return [p["activity"]["name"] for p in ss["probes"] if not p["tolerance_met"]]

    def during(self):
        return self.journal["steady_states"].get("during") or []

    def slo_windows(self):
        """(phase, summary, met) of every SLO probe of the hypothesis."""
        out = []
        states = [("before", self.before())] + [("during", d) for d in self.during()] + \
            [("after", self.after())]
        for phase, ss in states:
            for p in (ss or {}).get("probes", []):
                if p["activity"]["name"] == "users-are-served-within-the-slo":
                    out.append((phase, p.get("output"), p.get("tolerance_met")))
        return out

    def load(self):
        """The summary of the users' traffic the method ran (a background
        chaoskit.load action), or None."""
        for a in self.journal["run"]:
            if a["activity"]["provider"].get("func") == "constant_rate":
                return a.get("output")
        return None

    def measured(self, name):
        """One line per run for the test output: outcome, error rate and p99
        the probes and the load measured, recovery times."""
        def fmt(o):
            return ("%.1f%% errors, p99 %s ms over %s requests" % (
                100 * o["error_rate"], o["p99_ms"], o["requests"]) if isinstance(o, dict)
                and "error_rate" in o else "-")
        lines = ["%s: status %s, deviated %s" % (name, self.journal["status"],
                                                self.journal["deviated"])]
        if name in MOTO_LIMITS:
            lines.append("  (" + MOTO_LIMITS[name] + ")")
        load = self.load()
        if load:
            lines.append("  users during the method: " + fmt(load))
        for phase, out, met in self.slo_windows():
            lines.append("  SLO probe %-6s %s -> %s" % (phase, fmt(out), "met" if met else
                                                        "NOT met"))
        for a in self.journal["run"]:
            out = a.get("output")
            if isinstance(out, dict) and "seconds" in out:
                lines.append("  %s: %s s (desired %s, running %s)" % (
                    a["activity"]["name"], out["seconds"], out["desired"], out["running"]))
            if a.get("guard"):
                lines.append("  guard: " + a["guard"])
        return "\n".join(lines)

    def summary(self):
        return "status %s, deviated %s; run: %s; rollbacks: %s\n%s" % (
            self.journal["status"], self.journal["deviated"],
            [(a["activity"]["name"], a["status"]) for a in self.journal["run"]],
            [(a["activity"]["name"], a["status"]) for a in self.journal["rollbacks"]],
            self.proc.stderr[-3000:])


# What moto cannot evaluate, said with every run of these experiments.
MOTO_LIMITS = {
    "reliability/rds-instance-reboot":
        "proves its calls only: moto's RebootDBInstance changes nothing",
    "scalability/ecs-service-max-capacity-alarm":
        "moto evaluates no alarm and runs no alarm action: the sandbox plays both",
    "scalability/ecs-service-autoscaling":
        "moto evaluates no scaling policy: the sandbox plays request-count target tracking",
    "scalability/ecs-service-cpu-scaling":
        "moto evaluates no scaling policy and the sandbox plays no CPU policy: "
        "proves the fault and the calls",
    "scalability/ecs-service-scale-in":
        "moto evaluates no scaling policy: the sandbox plays request-count target tracking",
}


def run_experiment(sandbox, name, home, tmp_path, timeout=300, conf=None, context="local"):
    sandbox.settle()
    os.makedirs(str(tmp_path), exist_ok=True)
    conf = conf or os.path.join(LIBRARY, name, "experiment.conf")
    runs = tmp_path / "runs"
    p = subprocess.run([CTL_BIN, "run", conf, "--context", context, "--runs-dir", str(runs)],
                       env=sandbox.env(home), capture_output=True, text=True,
                       timeout=timeout)
    m = re.search(r"^chaosctl: run directory (.+)$", p.stderr, re.M)
    assert m, describe(p)
    with open(os.path.join(m.group(1), "journal.json")) as f:
        run = Run(p, json.load(f), m.group(1))
    print(run.measured(name))
    return run


def assert_held(run, rc=0):
    assert run.journal["status"] == "completed" and not run.journal["deviated"], run.summary()
    # before is None when the conf checks the hypothesis after the method only
    assert run.before() is None or run.before()["steady_state_met"], run.summary()
    assert run.after()["steady_state_met"], run.summary()
    assert all(d["steady_state_met"] for d in run.during()), run.summary()
    assert run.proc.returncode == rc, run.summary()
    for a in run.journal["rollbacks"]:
        assert a["status"] == "succeeded", run.summary()


def assert_nothing_left(sandbox, home):
    """No agent has an active fault, no burner runs, every container runs."""
    r = sandbox.ctl(home, "faults", "--state", "active")
    assert r.returncode == 0, describe(r)
    for res in json.loads(r.stdout)["results"]:
        assert res["body"]["faults"] == [], res
    for k in sandbox.state["instances"]:
        assert not sandbox.comm_pids(int(k), "chaos-burn"), "burner left on instance " + k
        states = sandbox.containers(int(k))
        assert all(s == "running" for s in states.values()), states
    # a task back from a fault is in rotation again after two health checks
    wait_for(lambda: service_answer()[0] == 200, 15, desc="the service to answer 200")


def results(out):
    return out["results"]


def only_statuses(out):
    return sorted(r["status"] for r in results(out))


def fault_ids(out):
    return [r["body"]["id"] for r in results(out) if r["status"] == 201]


def ended(sandbox, home, ids):
    """{fault id: state} for faults ids, from every agent."""
    r = sandbox.ctl(home, "faults")
    out = {}
    for res in json.loads(r.stdout)["results"]:
        for f in res["body"]["faults"]:
            if f["id"] in ids:
                out[f["id"]] = f["state"]
    return out


# ------------------------------------------------------------ the sandbox


def test_the_sandbox_is_what_moto_describes(sandbox, home):
    """Discovery through moto finds each API task on the instance whose agent
    and engine really run it, and every part answers."""
    p = subprocess.run([sys.executable, SANDBOX, "--dir", sandbox.dir, "status"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "DOWN" not in p.stdout, p.stdout + p.stderr
    r = sandbox.ctl(home, "--service", sbx.API_SERVICE, "targets")
    assert r.returncode == 0, describe(r)
    hosts = json.loads(r.stdout)["hosts"]
    assert len(hosts) == 2
    for h in hosts:
        k = [k for k, i in sandbox.state["instances"].items()
             if i["instance_id"] == h["instance_id"]][0]
        inst = sandbox.state["instances"][k]
        assert h["agent"] == "http://%s:%d" % (inst["ip"], sbx.AGENT_PORT)
        assert h["availability_zone"] == inst["az"]
        running = [t["arn"] for t in sandbox.tasks() if t["instance"] == int(k)]
        assert h["tasks"] == running, (h, running)
        labels = sandbox.engine(int(k)).docker(
            "ps", "--filter", "label=com.amazonaws.ecs.container-name=" + sbx.API_CONTAINER,
            "--format", '{{.Label "com.amazonaws.ecs.task-arn"}}')
        assert labels.split() == running
    # the service answers through the load balancer, from both tasks
    seen = set()
    for _ in range(4):
        with urllib.request.urlopen(SERVICE, timeout=10) as resp:
            assert resp.status == 200 and b"alice" in resp.read()
            seen.add(resp.headers["X-Target"])
    assert seen == {t["ip"] for t in sandbox.tasks()}
    # the names the experiments look up, published as the stack publishes them
    got = moto_call(sandbox, [("ssm", "get_parameter", {"Name": n}) for n in (
        "/local/app/comments/cluster_name", "/local/app/comments/web_url",
        "/local/chaos/agent_key_parameter")])
    assert [g["Parameter"]["Value"] for g in got] == [
        sbx.CLUSTER, "http://%s:%d" % (sbx.HOST_IP, sbx.LB_PORT), sbx.KEY_PARAMETER]


# ------------------------------------------------------- host-level faults


def test_burn_cpu_burns_one_instance_and_the_service_holds(sandbox, home, tmp_path):
    def sample():
        return dict({k: sandbox.ns_cpu(k) for k in (1, 2)}, burners=burner_samples())
    with Sampler(sample, 1.0) as s:
        run = run_experiment(sandbox, "reliability/ecs-instance-burn-cpu", home, tmp_path)
    assert_held(run)
    out = run.ctl_output("burn-instances-cpu")
    assert only_statuses(out) == [201], out          # host_percent 50 of 2 instances
    burned = out["results"][0]["agent"]
    k_burned = [int(k) for k, i in sandbox.state["instances"].items() if i["ip"] in burned][0]
    probe = run.activity("cpu-burn-is-active")
    assert re.search(r'"type":\s*"burn-cpu",\s*"state":\s*"active"', probe["output"]["stdout"])
    # What the fault controls, whatever else the machine runs: each burner
    # asked for its load (on a core, or waiting in the run queue for one,
    # since a starved burner spins through its period) and took no more.
    load = burner_load(out)
    rates = burner_rates(s.values)
    mine = {p: r for p, r in rates.items() if p in pids_of(s.values, sandbox, k_burned)}
    print("burn-cpu: instance %d's burners at %d %% each: %s" % (k_burned, load, fmt_rates(mine)))
    # one burner per core on that instance, none on the other (burners of
    # other work on the machine, outside the sandbox, are not looked at)
    assert len(mine) == os.cpu_count(), rates
    assert not pids_of(s.values, sandbox, 3 - k_burned), rates
    for pid, (used, demand, _, seconds) in mine.items():
        assert seconds >= 5, rates
        assert demand >= 0.85 * load / 100, (pid, rates)
        assert used <= 1.15 * load / 100 + 0.02, (pid, rates)
    # and the other instance's processes stayed quiet (its task and agent)
    vals = [(t, v) for t, v in s.values if isinstance(v, dict)]
    other = [sum(b[3 - k_burned][p] - a[3 - k_burned][p] for p in b[3 - k_burned]
                 if p in a[3 - k_burned]) / (t1 - t0)
             for (t0, a), (t1, b) in zip(vals, vals[1:])]
    print("burn-cpu: the other instance used at most %.2f CPUs" % max(other))
    assert max(other) < 0.1 * os.cpu_count(), other
    assert set(ended(sandbox, home, fault_ids(out)).values()) <= {"expired", "reverted"}
    assert_nothing_left(sandbox, home)


def test_kill_docker_kills_one_dockerd_and_the_tasks_survive(sandbox, home, tmp_path):
    before = {k: sandbox.comm_pids(k, "dockerd") for k in (1, 2)}
    tasks = {k: sandbox.containers(k) for k in (1, 2)}
    assert all(len(v) == 1 for v in before.values()), before
    with Sampler(service_answer, 0.5) as s:
        run = run_experiment(sandbox, "reliability/ecs-instance-kill-docker", home, tmp_path)
    assert_held(run)
    out = run.ctl_output("kill-docker-process")
    assert only_statuses(out) == [201], out
    victims = out["results"][0]["body"]["detail"]["victims"]
    assert [v["comm"] for v in victims] == ["dockerd"], victims
    after = {k: sandbox.comm_pids(k, "dockerd") for k in (1, 2)}
    changed = [k for k in (1, 2) if after[k] != before[k]]
    print("kill-docker: dockerd pids before %s, after %s" % (before, after))
    assert len(changed) == 1 and len(after[changed[0]]) == 1, (before, after)
    # live-restore: the restarted engine still runs the same containers
    assert sandbox.containers(changed[0]) == tasks[changed[0]]
    assert all(code == 200 for _, (code, _) in s.values), s.values
    assert_nothing_left(sandbox, home)


def test_kill_ecs_agent_kills_one_agent_container_and_ecs_init_restarts_it(
        sandbox, home, tmp_path):
    before = {k: sandbox.started_at(k, "ecs-agent") for k in (1, 2)}
    run = run_experiment(sandbox, "agent/ecs-instance-kill-ecs-agent", home, tmp_path)
    assert_held(run)
    out = run.ctl_output("kill-ecs-agent-container")
    assert only_statuses(out) == [201], out
    victims = out["results"][0]["body"]["detail"]["containers"]
    assert [c["name"] for c in victims] == ["ecs-agent"], victims
    after = {k: sandbox.started_at(k, "ecs-agent") for k in (1, 2)}
    assert sum(before[k] != after[k] for k in (1, 2)) == 1, (before, after)
    assert_nothing_left(sandbox, home)


# ------------------------------------------------------------ task faults


def test_pause_containers_freezes_one_task_and_its_users_see_it_until_health_checks_act(
        sandbox, home, tmp_path):
    def paused():
        return {k: sandbox.containers(k) for k in (1, 2)}
    # another experiment's fault, which this one's rollback must leave alone
    r = sandbox.ctl(home, "inject", "burn-cpu", "--duration", "120", "--load", "1",
                    "--cores", "1", "--fault-label", "experiment=someone-else")
    others = fault_ids(json.loads(r.stdout))
    assert len(others) == 2, describe(r)
    with Sampler(paused, 1.0) as s:
        run = run_experiment(sandbox, "agent/ecs-service-pause-containers", home, tmp_path)
    reverted = run.ctl_output("revert-experiment-faults", "rollbacks")
    assert [r["body"]["type"] for r in results(reverted)] == ["pause-container"], reverted
    assert set(ended(sandbox, home, others).values()) == {"active"}
    r = sandbox.ctl(home, "revert", "--label", "experiment=someone-else")
    assert r.returncode == 0 and len(results(json.loads(r.stdout))) == 2, describe(r)
    out = run.ctl_output("pause-service-containers")
    assert only_statuses(out) == [201], out
    assert run.activity("pause-container-is-active")["status"] == "succeeded"
    seen = [(k, n) for _, v in s.values if isinstance(v, dict)
            for k, c in v.items() for n, st in c.items() if st == "paused"]
    assert seen and {n for _, n in seen} == {n for _, n in seen if "comments-api" in n}, seen
    assert len({k for k, _ in seen}) == 1, seen      # one of the two instances
    # The balancer sends the frozen task requests until two health checks
    # failed (time-outs, 504), and none once the task is out of rotation, so
    # the users are back within the SLO by the end. How many requests the
    # frozen task got before that, whether a hypothesis window fell in that
    # burst and whether the 5xx alarm counted enough of it depend on timing:
    # the run holds, or fails fast on the SLO probe or the 5xx alarm.
    load = run.load()
    assert load["requests"] >= 5 * 10, load
    assert set(load["status_codes"]) <= {"200", "504"}, load
    unmet = [d for d in run.during() if not d["steady_state_met"]]
    if unmet:
        # the users' SLO, or the 5xx alarm that counted their time-outs
        assert unmet[0]["probes"][-1]["activity"]["name"] in (
            "users-are-served-within-the-slo", "error-alarm-not-firing"), run.summary()
    held = run.journal["status"] == "completed" and not run.journal["deviated"]
    assert run.proc.returncode == (0 if held and not unmet else 1), run.summary()
    assert [a["status"] for a in run.journal["rollbacks"]] == ["succeeded"]
    assert run.slo_windows()[-1][2], run.summary()      # after: within the SLO again
    assert_nothing_left(sandbox, home)


def test_slo_probe_fails_when_every_task_is_frozen_and_holds_when_none_is(
        sandbox, home, tmp_path):
    """The SLO probe can fail: the same experiment, every host's API
    container frozen, fails fast on it (every request times out or finds no
    healthy target), while a fault users cannot see (killing one ECS agent)
    keeps every window within the SLO."""
    src = os.path.join(LIBRARY, "agent", "ecs-service-pause-containers")
    copy = tmp_path / "pause-all"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("runs"))
    with open(copy / "experiment.conf", "a") as f:
        f.write("\n[local-all]\nhypothesis_frequency = 1\nvar_overrides =\n"
                "    environment = local\n    slo_window:int = 3\n"
                "    max_error_rate:float = 0.05\n    max_p99_ms:int = 1500\n"
                "    host_percent:int = 100\n    duration:int = 15\n"
                "    observation_time:int = 10\n")
    hurt = run_experiment(sandbox, "agent/ecs-service-pause-containers (every host)", home,
                          tmp_path / "hurt", conf=str(copy / "experiment.conf"),
                          context="local-all")
    # every request fails while the tasks are frozen: the first window of the
    # method misses the SLO (fail_fast marks the run failed; the after
    # window, still frozen, makes it deviate)
    assert hurt.journal["status"] in ("failed", "completed"), hurt.summary()
    assert hurt.journal["deviated"] or hurt.journal["status"] == "failed", hurt.summary()
    assert hurt.proc.returncode == 1
    missed = [(phase, out) for phase, out, met in hurt.slo_windows() if not met]
    assert missed and missed[0][0] == "during", hurt.slo_windows()
    assert missed[0][1]["error_rate"] > 0.05, missed
    assert all(a["status"] == "succeeded" for a in hurt.journal["rollbacks"])
    assert_nothing_left(sandbox, home)

    fine = run_experiment(sandbox, "agent/ecs-instance-kill-ecs-agent", home, tmp_path / "fine")
    assert_held(fine)
    windows = fine.slo_windows()
    assert len(windows) >= 3 and all(met for _, _, met in windows), windows
    assert all(out["error_rate"] <= 0.05 and out["p99_ms"] <= 1500 for _, out, _ in windows)


def burner_samples():
    """{root pid: (ns on a CPU, ns runnable but waiting for one, cpuacct
    cgroup)} of every burner (chaos-burn) on the machine, from
    /proc/<pid>/schedstat and /proc/<pid>/cgroup."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() != "chaos-burn":
                    continue
            with open("/proc/%s/schedstat" % p) as f:
                on_cpu, waiting = (int(x) for x in f.read().split()[:2])
            with open("/proc/%s/cgroup" % p) as f:
                # hierarchy id, controllers, path: v1's cpuacct, else v2's
                cgs = {c: path.strip() for _, ctl, path in
                       (line.split(":", 2) for line in f) for c in ctl.split(",")}
        except (OSError, ValueError, IndexError):
            continue
        out[int(p)] = (on_cpu, waiting, cgs.get("cpuacct", cgs.get("", "")))
    return out


def burner_rates(values):
    """{pid: (CPU per second, demand per second, cgroup, seconds)} of each
    burner over the samples it lived through (values of a Sampler whose
    dicts hold burner_samples() under "burners"). Demand is CPU plus the
    time it waited runnable for a core: a burner asks for its load whether
    or not other work lets it have it."""
    seen = {}
    for t, v in values:
        if not isinstance(v, dict):
            continue
        for pid, st in v["burners"].items():
            seen.setdefault(pid, []).append((t, st))
    out = {}
    for pid, pts in seen.items():
        (t0, (c0, w0, cg)), (t1, (c1, w1, _)) = pts[0], pts[-1]
        if t1 - t0 >= 1:
            out[pid] = ((c1 - c0) / 1e9 / (t1 - t0), (c1 + w1 - c0 - w0) / 1e9 / (t1 - t0),
                        cg, t1 - t0)
    return out


def pids_of(values, sandbox, k):
    """The burners of the samples that ran in instance k's PID namespace
    (the agent's burners live there: ns_cpu counts them)."""
    return {pid for _, v in values if isinstance(v, dict) for pid in v["burners"]
            if pid in v[k]}


def burner_load(out):
    """The load (percent of a core) each burner of a burn-cpu answer holds:
    the request's, or per burner in a container with a CPU limit."""
    loads = set()
    for r in results(out):
        body = r["body"]
        per = [c["load_per_burner"] for c in body.get("detail", {}).get("containers", [])
               if "load_per_burner" in c]
        loads |= set(per) if per else {body["params"]["load"]}
    assert len(loads) == 1, out
    return loads.pop()


def fmt_rates(rates):
    return ", ".join("%d: %.2f CPU, asked %.2f over %.0f s" % (p, u, d, sec)
                     for p, (u, d, _, sec) in sorted(rates.items()))


def test_cpu_scaling_burns_the_tasks_and_finds_no_cpu_policy(sandbox, home, tmp_path):
    name = "scalability/ecs-service-cpu-scaling"
    apps = [t["app"] for t in sandbox.tasks()]

    def usage():
        return dict({c: sbx.cpu_usage_ns(c) for c in apps}, burners=burner_samples())
    with Sampler(usage, 1.0) as s:
        run = run_experiment(sandbox, name, home, tmp_path)
    # The tasks burned, but nothing scales the service on CPU: moto
    # evaluates no scaling policy and the sandbox plays only the
    # request-count one, which is what this experiment finds on a service
    # without a CPU policy.
    assert run.journal["status"] == "completed" and run.journal["deviated"], run.summary()
    assert run.proc.returncode == 1
    assert run.failed_probes("after") == ["autoscaling-set-expected-task-count"], run.summary()
    took = run.activity("scaled-out-on-cpu")["output"]
    assert took["seconds"] is None and took["desired"] == 2, took
    out = run.ctl_output("burn-cpu-in-service-tasks")
    assert only_statuses(out) == [201, 201], out
    # Each burner ran in one of the API containers' cgroups, asked for its
    # load and took no more; the container's cgroup was charged for what
    # its burners used. None of it depends on what else the machine runs.
    load = burner_load(out)
    # the burners in the API containers' cgroups (other work on the machine
    # may run burners of its own), as many in each as the agent started
    per_task = {len(r["body"]["detail"]["burner_pids"]) for r in results(out)}
    assert len(per_task) == 1, out
    rates = {p: r for p, r in burner_rates(s.values).items()
             if any(r[2].endswith("/" + c) for c in apps)}
    print("%s: burners at %d %% each: %s" % (name, load, fmt_rates(rates)))
    charged = {c: 0.0 for c in apps}
    count = {c: 0 for c in apps}
    for pid, (used, demand, cg, seconds) in rates.items():
        owner = [c for c in apps if cg.endswith("/" + c)][0]
        assert seconds >= 5 and demand >= 0.85 * load / 100, (pid, rates)
        assert used <= 1.15 * load / 100 + 0.02, (pid, rates)
        charged[owner] += used * seconds
        count[owner] += 1
    assert set(count.values()) == per_task, (count, per_task)
    samples = [(t, v) for t, v in s.values if isinstance(v, dict)]
    for c in apps:
        billed = (samples[-1][1][c] - samples[0][1][c]) / 1e9
        print("%s: container %.12s billed %.1f CPU s, its burners used %.1f"
              % (name, c, billed, charged[c]))
        assert billed >= 0.95 * charged[c], (c, billed, charged)
    assert all(a["status"] == "succeeded" for a in run.journal["rollbacks"])
    assert_nothing_left(sandbox, home)


def test_autoscaling_scales_out_on_a_real_request_peak(sandbox, home, tmp_path):
    run = run_experiment(sandbox, "scalability/ecs-service-autoscaling", home, tmp_path)
    # the peak was real: vegeta's requests at the conf's rate, answered
    load = run.load()
    assert load["requests"] >= 0.9 * 80 * 30 and load["error_rate"] <= 0.05, load
    # the request-count policy (played by the sandbox) took the service to
    # its maximum, and no further
    assert_held(run)
    took = run.activity("scaled-to-the-maximum")["output"]
    assert took["seconds"] is not None and took["running"] == 4, took
    assert run.after()["probes"][0]["output"] == 4
    print("autoscaling: scaled to 4 tasks in %s s under %s requests/s" % (took["seconds"],
                                                                         load["rate"]))
    assert_nothing_left(sandbox, home)


def test_scale_out_starts_the_tasks_that_serve_and_the_rollback_stops_them(
        sandbox, home, tmp_path):
    sandbox.settle()
    before = {t["arn"] for t in sandbox.tasks()}
    seen = set()

    def targets():
        with urllib.request.urlopen(SERVICE, timeout=10) as r:
            seen.add(r.headers["X-Target"])
        return len(sandbox.tasks())
    with Sampler(targets, 0.3) as s:
        run = run_experiment(sandbox, "scalability/ecs-service-scale-out", home, tmp_path)
    assert_held(run)
    took = run.activity("scaled-out")["output"]
    assert took["seconds"] is not None and took["running"] == 4, took
    # four tasks ran, and the balancer sent users to the new ones
    assert max(v for _, v in s.values if isinstance(v, int)) == 4, s.values
    assert len(seen) == 4, (seen, sandbox.log_tail())
    assert moto_service(sandbox)["desiredCount"] == 2          # the rollback
    sandbox.settle()
    # the two tasks the rollback stopped were the new ones
    assert {t["arn"] for t in sandbox.tasks()} == before
    assert_nothing_left(sandbox, home)


def moto_call(sandbox, calls):
    return sbx.MotoServer.client(sandbox.state["moto"]["port"], sandbox.dir).call(calls)


def moto_service(sandbox, name=sbx.API_SERVICE):
    return moto_call(sandbox, [("ecs", "describe_services", {
        "cluster": sbx.CLUSTER, "services": [name]})])[0]["services"][0]


# ---------------------------------------------------------- network faults


NETWORK = [
    # experiment, its inject action, its "is active" probe, fault type
    ("reliability/ecs-service-fail-az", "fail-service-in-availability-zone",
     "az-blackhole-is-active", "blackhole", 1),
    ("reliability/ecs-service-slow-datasource", "introduce-datasource-latency",
     "datasource-latency-is-active", "latency", 2),
    ("reliability/ecs-service-slow-dependency", "introduce-dependency-latency",
     "dependency-latency-is-active", "latency", 2),
    ("agent/ecs-dependency-blackhole", "blackhole-dependency-from-tasks",
     "blackhole-is-active", "blackhole", 2),
    ("agent/ecs-task-network-loss", "inject-packet-loss-in-tasks", "loss-is-active",
     "loss", 2),
    # the sandbox's API tasks run on its instances: their host agents take it
    ("agent/ecs-fargate-api-latency", "delay-the-api-tasks-traffic", "latency-is-active",
     "latency", 2),
]


@pytest.mark.parametrize("name,action,probe,ftype,ntasks", NETWORK,
                         ids=[n[0].split("/")[1] for n in NETWORK])
def test_network_experiment(sandbox, home, tmp_path, name, action, probe, ftype, ntasks):
    netem, reason = sandbox.netem()
    with Sampler(service_answer, 0.5) as answers:
        run = run_experiment(sandbox, name, home, tmp_path)
    act = run.activity(action)
    out = run.ctl_output(action) if act["status"] == "succeeded" else None
    if not netem:
        # The agents refuse with the kernel's reason and chaosctl exits 1:
        # the guard (chaoskit.guard) interrupts the run right there, the
        # "is active" probe never runs, and the rollbacks play.
        assert act["output"]["status"] == 1, act
        assert act["guard"].startswith("method action '%s' exited 1" % action), act
        assert run.journal["status"] == "interrupted", run.summary()
        assert [a["activity"]["name"] for a in run.journal["run"]
                if a["activity"]["type"] == "probe"] == [], run.summary()
        assert [a["status"] for a in run.journal["rollbacks"]] == ["succeeded"]
        assert run.proc.returncode == 1
        out = json.loads(act["output"]["stdout"])
        assert only_statuses(out) == [422] * ntasks, out
        for r in results(out):
            assert r["body"]["error"]["code"] == "unavailable"
            assert r["body"]["error"]["message"].endswith(reason), r
        assert all(code == 200 for _, (code, _) in answers.values), answers.values
    else:
        assert only_statuses(out) == [201] * ntasks, out
        assert re.search(r'"type":\s*"%s",\s*"state":\s*"active"' % ftype,
                         run.activity(probe)["output"]["stdout"])
        if ftype == "latency":
            assert max(t for _, (c, t) in answers.values if c == 200) > 0.15, answers.values
    assert_nothing_left(sandbox, home)


# ------------------------------------------------------ AWS-API experiments


def alarm_state(sandbox, name):
    return moto_call(sandbox, [("cloudwatch", "describe_alarms", {"AlarmNames": [name]})]
                     )[0]["MetricAlarms"][0]["StateValue"]


def test_rds_reboot_runs_against_moto_which_only_records_the_call(sandbox, home, tmp_path):
    run = run_experiment(sandbox, "reliability/rds-instance-reboot", home, tmp_path)
    assert_held(run)
    assert run.activity("reboot-db-instance")["status"] == "succeeded"
    # moto's RebootDBInstance changes nothing: the instance never leaves
    # "available", so the probe that looks for "rebooting" can only record
    # that (Chaos Toolkit does not judge probes of the method)
    assert run.activity("instance-status-after-the-call")["output"] == "available"
    db = moto_call(sandbox, [("rds", "describe_db_instances", {
        "DBInstanceIdentifier": sbx.DB_INSTANCE})])[0]["DBInstances"][0]
    assert db["DBInstanceStatus"] == "available"
    assert_nothing_left(sandbox, home)


def test_max_capacity_alarm_notifies_the_sre_queue_and_clears_after_the_reset(
        sandbox, home, tmp_path):
    name = "Service-MaxCapacity/local/comments/api"
    assert alarm_state(sandbox, name) == "OK"
    with Sampler(lambda: len(sandbox.tasks()), 1.0) as s:
        run = run_experiment(sandbox, "scalability/ecs-service-max-capacity-alarm", home,
                             tmp_path)
    assert_held(run)
    # CloudWatch's message, delivered through the SRE topic to its queue
    note = run.after()["probes"][0]["output"]
    assert note["AlarmName"] == name and note["NewStateValue"] == "ALARM", note
    assert 4 in [v for _, v in s.values], s.values     # the scheduler ran the maximum
    wait_for(lambda: alarm_state(sandbox, name) == "OK", 30, desc="the alarm to clear")
    assert moto_service(sandbox)["desiredCount"] == 2
    sandbox.settle()
    assert_nothing_left(sandbox, home)


def desired_task_counts(sandbox, seconds):
    """The DesiredTaskCount data points of the API service of the last seconds."""
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    q = {"MetricDataQueries": [{"Id": "d", "MetricStat": {"Metric": {
        "Namespace": "ECS/ContainerInsights", "MetricName": "DesiredTaskCount",
        "Dimensions": [{"Name": "ClusterName", "Value": sbx.CLUSTER},
                       {"Name": "ServiceName", "Value": sbx.API_SERVICE}]},
        "Period": 1, "Stat": "Maximum"}}],
        "StartTime": (now - datetime.timedelta(seconds=seconds)).isoformat(),
        "EndTime": (now + datetime.timedelta(seconds=5)).isoformat()}
    return moto_call(sandbox, [("cloudwatch", "get_metric_data", q)]
                     )[0]["MetricDataResults"][0]["Values"]


def test_scale_in_runs_the_maximum_and_the_policies_bring_it_back(
        sandbox, home, tmp_path):
    run = run_experiment(sandbox, "scalability/ecs-service-scale-in", home, tmp_path)
    # before: the normal count; the method sets the maximum, which the
    # scheduler runs; with little traffic the policies (played by the
    # sandbox) bring it back, and the after-hypothesis finds the normal count
    assert_held(run)
    assert run.activity("scaled-out-by-hand")["output"]["running"] == 4
    back = run.activity("scaled-back-in")["output"]
    assert back["seconds"] is not None and back["running"] == 2, back
    print("scale-in: back to 2 tasks in %s s" % back["seconds"])
    assert moto_service(sandbox)["desiredCount"] == 2
    assert_nothing_left(sandbox, home)


def stopped_tasks(sandbox):
    return set(moto_call(sandbox, [("ecs", "list_tasks", {
        "cluster": sbx.CLUSTER, "desiredStatus": "STOPPED"})])[0]["taskArns"])


def test_tasks_failure_stops_one_task_and_the_scheduler_replaces_it(
        sandbox, home, tmp_path):
    sandbox.settle()
    before = {t["arn"] for t in sandbox.tasks()}
    was_stopped = stopped_tasks(sandbox)
    run = run_experiment(sandbox, "reliability/ecs-service-tasks-failure", home, tmp_path)
    assert_held(run)
    assert run.activity("fail-half-tasks")["status"] == "succeeded"
    stopped = sorted(stopped_tasks(sandbox) - was_stopped)
    assert len(stopped) == 1 and stopped[0] in before, (stopped, before)
    # the recovery time, measured: a new task runs in the stopped one's place
    rec = run.activity("service-recovered")["output"]
    assert rec["seconds"] and rec["running"] == 2, rec
    after = {t["arn"] for t in sandbox.tasks()}
    assert len(after) == 2 and len(after - before) == 1 and stopped[0] not in after
    # users: the stopped task's requests failed until the balancer noticed
    # (the after-hypothesis is back within the SLO)
    print("tasks-failure: recovered in %s s; users saw %s" % (rec["seconds"], run.load()))
    assert_nothing_left(sandbox, home)


def test_instance_termination_ends_one_instance_and_its_task_moves(
        sandbox, home, tmp_path):
    run = run_experiment(sandbox, "reliability/ecs-instance-termination", home, tmp_path)

    def dead_instances():
        return [k for k, i in sandbox.state["instances"].items()
                if not sbx.alive(i["init_pid"])]
    assert_held(run)
    assert run.activity("terminate-container-instances")["status"] == "succeeded"
    dead = dead_instances()
    assert len(dead) == 1, dead
    assert not sbx.tcp_answers(sandbox.state["instances"][dead[0]]["ip"], sbx.AGENT_PORT)
    rec = run.activity("service-recovered")["output"]
    assert rec["seconds"] and rec["lost"] == 1 and rec["running"] == 2, rec
    # both tasks now run on the instance that is left
    assert {t["instance"] for t in sandbox.tasks()} == {3 - int(dead[0])}
    print("instance-termination: the service recovered in %s s" % rec["seconds"])
    assert service_answer()[0] == 200
    sandbox.rebuild()


def test_asg_fail_az_ends_the_zone_and_restores_the_subnets(sandbox, home, tmp_path):
    asg = sbx.ASG_NAME

    def subnets():
        g = moto_call(sandbox, [("autoscaling", "describe_auto_scaling_groups", {
            "AutoScalingGroupNames": [asg]})])[0]["AutoScalingGroups"][0]
        return sorted(g["VPCZoneIdentifier"].split(","))
    everything = subnets()
    with Sampler(subnets, 1.0) as s:
        run = run_experiment(sandbox, "reliability/ecs-instance-asg-fail-az", home, tmp_path)
    assert_held(run)
    rec = run.activity("service-recovered")["output"]
    assert rec["seconds"] and rec["lost"] == 1 and rec["running"] == 2, rec
    assert {t["instance"] for t in sandbox.tasks()} == {1}
    seen = [v for _, v in s.values if isinstance(v, list)]
    assert [sandbox.state["subnets"]["us-east-1a"]] in seen, seen    # during the attack
    assert subnets() == everything                                  # the rollback
    # instance 2 (us-east-1b) is gone, instance 1 serves
    assert not sbx.alive(sandbox.state["instances"]["2"]["init_pid"])
    assert sbx.alive(sandbox.state["instances"]["1"]["init_pid"])
    assert service_answer()[0] == 200
