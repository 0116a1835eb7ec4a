"""Container and process faults on the instance, read back from the Docker
Engine API and from cgroup v2's own files."""
import time

import workload as W
from conftest import body, ctl
from procs import wait_for


def frozen(inst, cg):
    events = inst.ssh("cat /sys/fs/cgroup%s/cgroup.events" % cg).stdout
    return dict(line.split() for line in events.strip().split("\n"))["frozen"] == "1"


def test_pause_freezes_the_task_app_not_its_pause_container(inst, tasks):
    web_cg = tasks.cgroup(W.WEB_A)
    f = body(inst, "inject", "pause-container", "--task", W.TASK_A, "--duration", "60")
    assert [c["name"] for c in f["detail"]["containers"]] == [W.WEB_A], f["detail"]
    # The pause container owns the task's namespace: spared, and said so.
    assert [s["name"] for s in f["skipped"]] == [W.PAUSE_A], f
    assert tasks.inspect(W.WEB_A)["State"]["Paused"] is True
    assert frozen(inst, web_cg)
    assert tasks.inspect(W.PAUSE_A)["State"]["Paused"] is False
    r = body(inst, "revert", f["id"])
    assert r["state"] == "reverted", r
    assert tasks.inspect(W.WEB_A)["State"]["Paused"] is False
    assert not frozen(inst, web_cg)


def test_kill_container_of_a_bridge_task(inst, tasks):
    before = tasks.inspect(W.API_B)
    since = int(inst.ssh("date +%s").stdout)
    f = body(inst, "inject", "kill-container", "--task", W.TASK_B)
    assert [c["name"] for c in f["detail"]["containers"]] == [W.API_B], f["detail"]
    # Docker saw it die of SIGKILL. Its restart policy does not apply to a
    # kill through the API; on ECS the service scheduler replaces the task.
    after = wait_for(lambda: (lambda d: d if not d["State"]["Running"] else None)(
        tasks.inspect(W.API_B)), 60, interval=1, what="the container to be dead")
    assert after["State"]["ExitCode"] == 137, after["State"]
    until = int(inst.ssh("date +%s").stdout) + 1
    died = tasks.events(W.API_B, "die", since, until)
    assert [e["Actor"]["Attributes"]["exitCode"] for e in died] == ["137"], died
    # The other task was not touched.
    assert tasks.inspect(W.WEB_A)["State"]["Pid"] == tasks.pid(W.WEB_A)
    assert before["State"]["Running"] is True
    tasks.ensure()


def test_kill_dockerd_systemd_restarts_it_and_the_agent_follows(inst, tasks, record):
    def docker_available():
        r = ctl(inst, "info", check=None, timeout=30)[1]
        return r["results"][0]["body"]["docker"]["available"]
    assert docker_available() is True
    pid0 = inst.ssh("systemctl show -p MainPID --value docker").stdout.strip()
    agent_pid = inst.ssh("systemctl show -p MainPID --value chaos-agent").stdout.strip()
    f = body(inst, "inject", "kill-process", "--name", "dockerd")
    assert [v["pid"] for v in f["detail"]["victims"]] == [int(pid0)], f["detail"]
    t0 = time.monotonic()
    seen = []
    # systemd restarts docker.service (Restart=always, RestartSec=2): the
    # agent says Docker is unavailable, then available again, without a
    # restart of its own.
    while time.monotonic() < t0 + 240:
        seen.append(docker_available())
        if False in seen and seen[-1] is True:
            break
        time.sleep(0.3)
    back = time.monotonic() - t0
    assert False in seen and seen[-1] is True, seen
    pid1 = inst.ssh("systemctl show -p MainPID --value docker").stdout.strip()
    assert pid1 not in ("0", pid0)
    assert inst.ssh("systemctl show -p MainPID --value chaos-agent").stdout.strip() == agent_pid
    record("dockerd_kill_to_available_s", round(back, 1))
    print("dockerd killed: the agent reported Docker unavailable, then available "
          "after %.1f s" % back)
