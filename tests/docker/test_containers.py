"""Container and process faults against a real Docker engine: every test
reads the effect back from the engine (or /proc), not from the agent."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import Agent, wait_for
from procs import burn_held, proc_children, proc_comm, sched_ns
from dockerd import Dockerd, ECS_PAUSE


def fault_of(res):
    assert res["ok"], res
    return res["body"]


def test_targets_show_ecs_tasks_and_netns_owner(agent, docker):
    t = docker.task("web", containers=("app", "sidecar"))
    docker.run("ecs-agent", {"purpose": "agent"})
    body = agent.result("targets")["body"]
    by_id = {c["id"]: c for c in body["targets"]}
    app, pause = by_id[t["app"]], by_id[t["pause"]]
    assert app["ecs"]["family"] == "web"
    assert app["ecs"]["task_arn"] == t["arn"]
    assert app["ecs"]["container_name"] == "app"
    assert app["state"] == "running" and app["pid"] > 1
    # awsvpc: the app joined the pause container's namespace.
    assert app["netns_owner"] == t["pause"]
    assert os.stat(app["netns"]).st_ino == os.stat(pause["netns"]).st_ino
    assert "protected" in pause and "pause" in pause["protected"]
    agent_c = [c for c in body["targets"] if c["name"] == "ecs-agent"][0]
    assert "ECS agent" in agent_c["protected"]
    assert app["cgroup"], app


def test_kill_container_kills_only_the_named_container(agent, docker):
    t = docker.task("web", containers=("app", "sidecar"))
    f = fault_of(agent.result("inject", "kill-container", "--task", t["arn"],
                              "--container", "app"))
    assert f["state"] == "completed"
    assert [c["id"] for c in f["detail"]["containers"]] == [t["app"]]
    st = docker.inspect(t["app"])["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 137  # SIGKILL
    assert docker.state(t["sidecar"]) == "running"
    assert docker.state(t["pause"]) == "running"


def test_kill_container_by_task_id_with_signal(agent, docker):
    t = docker.task("web", containers=("app",), awsvpc=False)
    # The short task id selects like the full ARN; the exit code the engine
    # records (128 + signal) shows which signal ended the container.
    fault_of(agent.result("inject", "kill-container", "--task", t["id"],
                          "--signal", "KILL"))
    st = docker.inspect(t["app"])["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 128 + signal.SIGKILL


def test_stop_and_restart_container(agent, docker):
    t = docker.task("api", containers=("app",), awsvpc=False)
    started = docker.inspect(t["app"])["State"]["StartedAt"]
    f = fault_of(agent.result("inject", "restart-container", "--family", "api",
                              "--grace", "0"))
    assert f["state"] == "completed"
    st = docker.inspect(t["app"])["State"]
    assert st["Status"] == "running" and st["StartedAt"] != started
    t0 = time.monotonic()
    fault_of(agent.result("inject", "stop-container", "--container-id", t["app"],
                          "--grace", "1"))
    # sleep as pid 1 ignores SIGTERM: the engine kills it after the grace.
    assert time.monotonic() - t0 >= 1.0
    assert docker.state(t["app"]) == "exited"


def test_pause_is_undone_at_the_deadline(agent, docker):
    t = docker.task("web")
    f = fault_of(agent.result("inject", "pause-container", "--task", t["arn"],
                              "--container", "app", "--duration", "2"))
    assert f["state"] == "active"
    assert docker.state(t["app"]) == "paused"
    assert docker.state(t["pause"]) == "running"
    wait_for(lambda: docker.state(t["app"]) == "running", 5, what="unpause")
    f = agent.result("faults")["body"]["faults"][0]
    assert f["state"] == "expired" and f["end_reason"] == "deadline"


def test_pause_delete_and_kill_switch(agent, docker):
    t = docker.task("web", containers=("a", "b"))
    f = fault_of(agent.result("inject", "pause-container", "--container", "a",
                              "--duration", "60"))
    g = fault_of(agent.result("inject", "pause-container", "--container", "b",
                              "--duration", "60"))
    assert docker.state(t["a"]) == "paused" and docker.state(t["b"]) == "paused"
    r = agent.result("revert", f["id"])
    assert r["body"]["state"] == "reverted"
    assert docker.state(t["a"]) == "running" and docker.state(t["b"]) == "paused"
    r = agent.result("revert", "--all")
    assert g["id"] in r["body"]["reverted"]
    assert docker.state(t["b"]) == "running"


def test_pause_undone_on_sigterm(agent, docker):
    t = docker.task("web")
    fault_of(agent.result("inject", "pause-container", "--family", "web",
                          "--duration", "60"))
    assert docker.state(t["app"]) == "paused"
    agent.stop(signal.SIGTERM)
    assert agent.proc.returncode == 0
    assert docker.state(t["app"]) == "running"


def test_pause_recovered_after_agent_sigkill(agent, docker):
    t = docker.task("web")
    fault_of(agent.result("inject", "pause-container", "--family", "web",
                          "--duration", "60"))
    agent.stop(signal.SIGKILL)
    # Nothing undid it: the container stays frozen while no agent runs ...
    assert docker.state(t["app"]) == "paused"
    # ... until the next start reverts what the state file lists.
    agent.start()
    # Recovery runs before the worker serves (the port is already bound).
    wait_for(lambda: "a previous run left 1 fault(s): 1 reverted" in agent.log(), 30,
             what="the recovery to finish")
    assert docker.state(t["app"]) == "running"


def test_revert_all_offline_unpauses(agent, docker):
    t = docker.task("web")
    fault_of(agent.result("inject", "pause-container", "--family", "web",
                          "--duration", "60"))
    agent.stop(signal.SIGKILL)
    p = subprocess.run([agent.proc.args[0], "--revert-all", "--state-dir", agent.state,
                        "--key-file", agent.key, "--set", agent.sets[0]],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert docker.state(t["app"]) == "running"


def test_a_failed_revert_is_kept_reported_and_retried(agent_factory, docker, tmp_path):
    """Pause, kill -9 the agent, take the Docker socket away: neither a
    restart nor --revert-all may drop the record; the fault is listed as
    revert_failed with the error, and reverted once Docker answers again."""
    link = str(tmp_path / "docker.sock")
    os.symlink(docker.socket, link)
    t = docker.task("web")
    a = agent_factory(socket=link)
    f = fault_of(a.result("inject", "pause-container", "--family", "web",
                          "--duration", "60"))
    a.stop(signal.SIGKILL)
    os.unlink(link)

    # Offline: --revert-all fails, says what is left, keeps the record.
    p = subprocess.run([a.proc.args[0], "--revert-all", "--state-dir", a.state,
                        "--key-file", a.key, "--set", a.sets[0]],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert "1 could not be reverted and stay in the state file" in p.stderr
    with open(os.path.join(a.state, "state.json")) as fp:
        (entry,) = json.load(fp)["faults"]
    assert entry["id"] == f["id"] and entry["state"] == "revert_failed"
    assert link in entry["error"]
    assert docker.state(t["app"]) == "paused"

    # A restart: the fault is reported, with the error, and retried.
    a.start()
    g = [x for x in a.result("faults")["body"]["faults"] if x["id"] == f["id"]][0]
    assert g["state"] == "revert_failed" and link in g["error"], g
    revert_failed = [e for e in a.events("audit") if e["action"] == "fault_revert_failed"]
    assert [e["fault_id"] for e in revert_failed] == [f["id"]]
    # chaosctl says it failed.
    code, doc = a.ctl("revert", f["id"])
    assert code == 1 and "revert failed" in json.dumps(doc)
    assert docker.state(t["app"]) == "paused"

    # Docker is back: the next retry unpauses.
    os.symlink(docker.socket, link)
    t0 = time.monotonic()
    wait_for(lambda: docker.state(t["app"]) == "running", 70, what="the retry")
    print("unpaused %.1f s after the socket came back" % (time.monotonic() - t0))

    def ended():
        g = [x for x in a.result("faults")["body"]["faults"] if x["id"] == f["id"]][0]
        return g if g["state"] != "revert_failed" else None
    g = wait_for(ended, 10, what="the fault to be listed as reverted")
    assert (g["state"], g["end_reason"]) == ("reverted", "reverted_at_startup"), g
    assert g["revert_attempts"] >= 2 and g["error"] is None
    with open(os.path.join(a.state, "state.json")) as fp:
        assert json.load(fp)["faults"] == []
    ends = [e for e in a.events("audit") if e["action"] == "fault_end"]
    assert [e["fault_id"] for e in ends] == [f["id"]]


def test_percent_and_count_choose_exactly(agent, docker):
    ids = [docker.task("batch", containers=("worker",), awsvpc=False)["worker"]
           for _ in range(4)]
    f = fault_of(agent.result("inject", "kill-container", "--family", "batch",
                              "--percent", "50"))
    hit = {c["id"] for c in f["detail"]["containers"]}
    assert len(hit) == 2
    for i in ids:
        assert docker.state(i) == ("exited" if i in hit else "running")
    f = fault_of(agent.result("inject", "kill-container", "--family", "batch",
                              "--count", "1"))
    assert len(f["detail"]["containers"]) == 1
    assert sum(docker.state(i) == "running" for i in ids) == 1


def test_protected_containers_are_skipped_unless_named(agent, docker):
    t = docker.task("web")
    docker.run("ecs-agent", {"com.amazonaws.ecs.cluster": "x"})
    # A label selector every container of the task matches, pause included.
    body = agent.result("inject", "kill-container", "--family", "web",
                        "--dry-run")["body"]
    assert [c["id"] for c in body["targets"]] == [t["app"]]
    assert [s["id"] for s in body["skipped"]] == [t["pause"]]
    assert docker.state(t["app"]) == "running"  # dry run: nothing happened
    # The real fault says what it spared, too (one-shot and revertible).
    for fault in ("kill-container", "pause-container"):
        f = fault_of(agent.result("inject", fault, "--family", "web", "--duration", "5",
                                  "--signal", "CONT") if fault == "kill-container" else
                     agent.result("inject", fault, "--family", "web", "--duration", "5"))
        assert [s["id"] for s in f["skipped"]] == [t["pause"]], f
        assert [c["id"] for c in f["detail"]["containers"]] == [t["app"]], f
    agent.result("revert", "--all")
    r = agent.result("inject", "kill-container", "--container-id", "ecs-agent",
                     "--dry-run")["body"]
    assert [c["name"] for c in r["targets"]] == ["ecs-agent"]
    # Only protected containers match: refused with the reason.
    rc, doc = agent.ctl("inject", "pause-container", "--container", ECS_PAUSE,
                        "--ecs-cluster", "nosuch", "--duration", "5")
    assert rc == 1 and doc["results"][0]["status"] == 404
    # Named explicitly, the pause container is hit.
    fault_of(agent.result("inject", "pause-container", "--container-id", t["pause"],
                          "--duration", "60"))
    assert docker.state(t["pause"]) == "paused"


def test_unknown_targets_say_what_was_searched(agent, docker):
    docker.task("web")
    rc, doc = agent.ctl("inject", "kill-container", "--task", "nosuchtask")
    r = doc["results"][0]
    assert rc == 1 and r["status"] == 404
    assert "task=nosuchtask" in r["error"] and "searched" in r["error"]
    rc, doc = agent.ctl("inject", "kill-container", "--container-id", "nosuch")
    assert doc["results"][0]["status"] == 404
    # Not even a request for a selector-less container fault.
    p = subprocess.run([agent.proc.args[0].replace("chaos-agent", "chaosctl"),
                        "--agent", agent.url, "--key-file", agent.key, "inject",
                        "kill-container"], capture_output=True, text=True)
    assert p.returncode == 2 and "--family" in p.stderr


def test_unreachable_socket_is_422_with_the_reason(agent_factory, docker):
    a = agent_factory(socket="/nonexistent/docker.sock")
    rc, doc = a.ctl("inject", "pause-container", "--family", "web", "--duration", "5")
    r = doc["results"][0]
    assert rc == 1 and r["status"] == 422
    assert "/nonexistent/docker.sock" in r["error"]
    info = a.result("info")["body"]
    assert info["docker"]["available"] is False
    assert "/nonexistent/docker.sock" in info["docker"]["reason"]
    # Host faults still work.
    assert a.result("inject", "kill-process", "--name", "no-such-process-x",
                    check=1)["status"] == 404


def test_info_reports_the_engine(agent, docker):
    d = agent.result("info")["body"]["docker"]
    assert d["available"] is True and d["api_version"].startswith("1.")


def test_engine_stopped_mid_pause_fails_the_fault_and_agent_keeps_serving(
        agent_factory, docker):
    other = Dockerd(prefix="ckd2").start()
    try:
        other.ensure_image()
        t = other.task("web")
        a = agent_factory(socket=other.socket)
        f = fault_of(a.result("inject", "pause-container", "--family", "web",
                              "--duration", "2"))
        assert other.state(t["app"]) == "paused"
        other.proc.send_signal(signal.SIGKILL)
        other.proc.wait()

        def ended():
            g = a.result("faults")["body"]["faults"]
            g = [x for x in g if x["id"] == f["id"]][0]
            return g if g["state"] != "active" else None
        g = wait_for(ended, 60, what="the fault to end")
        # Its revert failed: it may still hold, so it stays, and is retried.
        assert g["state"] == "revert_failed", g
        assert "revert failed" in g["error"] and other.socket in g["error"]
        assert g["revert_attempts"] >= 1 and g["ended_at"] is None
        # The agent keeps serving, and other faults still work.
        assert a.result("info")["body"]["docker"]["available"] is False
        assert a.result("inject", "burn-cpu", "--duration", "1", "--load", "5",
                        "--cores", "1")["status"] == 201
    finally:
        other.stop()


def test_slow_docker_call_does_not_delay_other_requests_or_reverts(agent, docker):
    """A stop with a long grace period runs in a job: meanwhile the agent
    answers, and a CPU burn is reverted at its deadline."""
    t = docker.task("slow", awsvpc=False)
    stop = subprocess.Popen([agent.proc.args[0].replace("chaos-agent", "chaosctl"),
                             "--agent", agent.url, "--key-file", agent.key,
                             "--timeout", "60", "inject", "stop-container",
                             "--family", "slow", "--grace", "6"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The stop is under way once the agent runs its job (a chaos-job child).
        wait_for(lambda: [k for k in proc_children(agent.proc.pid)
                          if proc_comm(k) == "chaos-job"], 10, what="the stop's job")
        t0 = time.monotonic()
        b = fault_of(agent.result("inject", "burn-cpu", "--duration", "1", "--load",
                                  "10", "--cores", "1"))
        answered = time.monotonic() - t0
        wait_for(lambda: [x for x in agent.result("faults")["body"]["faults"]
                          if x["id"] == b["id"] and x["state"] == "expired"], 3,
                 what="the burn to expire")
        ended = time.monotonic() - t0
        assert stop.poll() is None, "the stop should still be waiting for its grace"
        assert answered < 1.0, answered
        assert ended < 2.5, ended
    finally:
        out, err = stop.communicate(timeout=60)
    assert stop.returncode == 0, (out, err)
    assert docker.state(t["app"]) == "exited"


def test_kill_process_by_name_and_pid(agent, docker, tmp_path):
    exe = tmp_path / "chaos-victim"
    shutil.copy("/bin/sleep", exe)
    victims = [subprocess.Popen([str(exe), "300"]) for _ in range(2)]
    try:
        f = fault_of(agent.result("inject", "kill-process", "--name", "chaos-victim"))
        assert [v["pid"] for v in f["detail"]["victims"]] == [victims[0].pid]  # oldest
        assert victims[0].wait(timeout=5) == -signal.SIGKILL
        assert victims[1].poll() is None
        fault_of(agent.result("inject", "kill-process", "--pid", str(victims[1].pid),
                              "--signal", "TERM"))
        assert victims[1].wait(timeout=5) == -signal.SIGTERM
    finally:
        for v in victims:
            if v.poll() is None:
                v.kill()
                v.wait()


def test_kill_process_refuses_init_and_the_agent(agent, docker):
    r = agent.result("inject", "kill-process", "--pid", "1", check=1)
    assert r["status"] == 400 and "pid 1" in r["error"]
    r = agent.result("inject", "kill-process", "--pid", str(agent.proc.pid), check=1)
    assert r["status"] == 400 and "chaos-agent itself" in r["error"]
    assert agent.proc.poll() is None


def cgroup_usage_ns(cg):
    """CPU time of a container's cgroup: cpuacct (v1) or cpu.stat (v2)."""
    if "cpuacct" in cg:
        for mnt in ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct"):
            p = mnt + cg["cpuacct"] + "/cpuacct.usage"
            if os.path.exists(p):
                return int(open(p).read())
    p = "/sys/fs/cgroup" + cg["unified"] + "/cpu.stat"
    for line in open(p):
        k, v = line.split()
        if k == "usage_usec":
            return int(v) * 1000
    raise AssertionError("no CPU accounting for %r" % cg)


def test_container_burn_counts_in_its_cgroup_only(agent, docker):
    t = docker.task("burn", containers=("hot", "cold"), awsvpc=False, cpus=1)
    targets = {c["id"]: c for c in agent.result("targets")["body"]["targets"]}
    hot, cold = targets[t["hot"]]["cgroup"], targets[t["cold"]]["cgroup"]
    f = fault_of(agent.result("inject", "burn-cpu", "--family", "burn", "--container",
                              "hot", "--load", "50", "--duration", "5"))
    assert f["state"] == "active"
    # The burner runs in the container's cgroup once its usage moves.
    first = cgroup_usage_ns(hot)
    wait_for(lambda: cgroup_usage_ns(hot) > first + 50e6, 10, what="the burn to start")
    burner = f["detail"]["burner_pids"][0]
    h0, c0, s0, w0 = (cgroup_usage_ns(hot), cgroup_usage_ns(cold), sched_ns(burner),
                      time.monotonic())
    time.sleep(3)
    h1, c1, s1, w1 = (cgroup_usage_ns(hot), cgroup_usage_ns(cold), sched_ns(burner),
                      time.monotonic())
    hot_pct = (h1 - h0) / 1e9 / (w1 - w0) * 100
    cold_pct = (c1 - c0) / 1e9 / (w1 - w0) * 100
    waited = (s1[1] - s0[1]) / 1e9 / (w1 - w0) * 100
    print("container burn at 50%% of a 1-CPU limit: measured %.1f%% (%.1f%% waiting "
          "for a CPU)" % (hot_pct, waited))
    assert burn_held(hot_pct, waited, 50), (hot_pct, waited)
    assert cold_pct < 2, cold_pct


def remove_parent_cgroups(rel):
    """rmdir a parent cgroup docker made, what is left below it, and its
    parents once empty, in every hierarchy; its processes must be gone."""
    for base in os.listdir("/sys/fs/cgroup"):
        top = os.path.join("/sys/fs/cgroup", base)
        path = top + rel
        if not os.path.isdir(path):
            continue
        for d, _, _ in os.walk(path, topdown=False):
            wait_for(lambda: not os.path.exists(d) or _rmdir(d), 5,
                     what="cgroup %s to empty" % d)
        path = os.path.dirname(path)
        while path != top and _rmdir(path):
            path = os.path.dirname(path)


def _rmdir(path):
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def test_task_level_limit_binds_the_burn(agent, docker):
    # ECS puts a task's CPU limit on the task's cgroup (/ecs/TASK on v1),
    # above containers that have none: 50 % is half of that limit.
    task_id = os.urandom(8).hex()
    parent = "/ecs/" + task_id
    try:
        t = docker.task("tlim", containers=("app",), awsvpc=False, task_id=task_id,
                        cgroup_parent=parent)
        cpu_dir = None
        for mnt in ("/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup"):
            if os.path.exists(mnt + parent + "/cpu.cfs_quota_us"):
                cpu_dir = mnt + parent
                with open(cpu_dir + "/cpu.cfs_quota_us", "w") as f:
                    f.write("100000")
                break
            if os.path.exists(mnt + parent + "/cpu.max"):
                cpu_dir = mnt + parent
                with open(cpu_dir + "/cpu.max", "w") as f:
                    f.write("100000 100000")
                break
        assert cpu_dir is not None, "docker made no cgroup " + parent
        targets = {c["id"]: c for c in agent.result("targets")["body"]["targets"]}
        app = targets[t["app"]]
        assert app["cpu_limit"] == 1, app
        f = fault_of(agent.result("inject", "burn-cpu", "--task", task_id, "--load", "50",
                                  "--duration", "6"))
        assert len(f["detail"]["burner_pids"]) == 1, f["detail"]
        cg = app["cgroup"]
        first = cgroup_usage_ns(cg)
        wait_for(lambda: cgroup_usage_ns(cg) > first + 50e6, 10, what="the burn to start")
        burner = f["detail"]["burner_pids"][0]
        u0, s0, w0 = cgroup_usage_ns(cg), sched_ns(burner), time.monotonic()
        time.sleep(3)
        u1, s1, w1 = cgroup_usage_ns(cg), sched_ns(burner), time.monotonic()
        pct = (u1 - u0) / 1e9 / (w1 - w0) * 100
        waited = (s1[1] - s0[1]) / 1e9 / (w1 - w0) * 100
        print("burn at 50%% of a task-level 1-CPU limit: measured %.1f%% (%.1f%% waiting "
              "for a CPU)" % (pct, waited))
        # Without the task's limit it would burn both cores: 100 %.
        assert burn_held(pct, waited, 50), (pct, waited)
        agent.result("revert", f["id"])
    finally:
        docker.remove_all()
        remove_parent_cgroups(parent)


def test_label_selector_and_cluster(agent, docker):
    a = docker.run("plain-a", {"team": "payments", "tier": "web"})
    b = docker.run("plain-b", {"team": "payments", "tier": "db"})
    t = docker.task("web", cluster="prod", awsvpc=False)
    u = docker.task("web", cluster="staging", awsvpc=False)
    f = fault_of(agent.result("inject", "kill-container", "--label", "team=payments",
                              "--label", "tier=db"))
    assert [c["id"] for c in f["detail"]["containers"]] == [b]
    assert docker.state(a) == "running" and docker.state(b) == "exited"
    f = fault_of(agent.result("inject", "kill-container", "--ecs-cluster", "prod",
                              "--family", "web"))
    assert [c["id"] for c in f["detail"]["containers"]] == [t["app"]]
    assert docker.state(u["app"]) == "running"
