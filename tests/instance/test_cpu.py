"""burn-cpu inside tasks on cgroup v2, read back from the cgroups' own
cpu.stat: the burn counts against the task, at the requested share of the
limit that binds it, and not against the agent's service."""
import workload as W
from conftest import body
from procs import wait_for

AGENT_CG = "/system.slice/chaos-agent.service"


def burn_and_measure(inst, tasks, task, container, task_cg, record_key, record):
    cg = tasks.cgroup(container)
    f = body(inst, "inject", "burn-cpu", "--task", task, "--load", "50", "--duration", "40")
    pids = f["detail"]["burner_pids"]
    assert len(pids) == 1, f["detail"]
    # The burner lives in the container's cgroup, inside the task's.
    assert inst.ssh("cat /proc/%d/cgroup" % pids[0]).stdout.strip() == "0::" + cg
    # Past the start: the window below sees only the steady burn.
    wait_for(lambda: tasks.probe("host", "cpu", 0.5, task_cg)["cpus"][task_cg] > 0.3,
             20, interval=0.2, what="the burn to show in the task's cpu.stat")
    m = tasks.probe("host", "cpu", 6, task_cg, AGENT_CG)
    share, agent_share = m["cpus"][task_cg], m["cpus"][AGENT_CG]
    body(inst, "revert", f["id"])
    record(record_key, {"task_cpus": round(share, 3), "agent_service_cpus":
                        round(agent_share, 4)})
    print("burn-cpu 50%% of a 1-CPU limit in %s: task used %.3f CPU over %.1f s; "
          "the agent's service %.4f CPU" % (task_cg, share, m["seconds"], agent_share))
    # The burner holds its share of wall time by its own thread CPU clock,
    # so the share is what it asked for; 5 points either way as the issue
    # asks (the task's other processes sleep).
    assert 0.45 <= share <= 0.55, share
    assert agent_share < 0.03, agent_share


def test_burn_in_an_awsvpc_task_against_its_task_limit(inst, tasks, record):
    # Task A's 1-CPU limit is on its slice, not on the container: the agent
    # must find it there, or it burns both cores at 50 % (the slice would
    # then cap the task at 100 %).
    slice_cg = "/ecstasks.slice/ecstasks-%s.slice" % W.TASK_A
    assert inst.ssh("cat /sys/fs/cgroup%s/cpu.max" % slice_cg).stdout.split() == [
        "100000", "100000"]
    assert inst.ssh("cat /sys/fs/cgroup%s/cpu.max" % tasks.cgroup(W.WEB_A)).stdout.split()[
        0] == "max"
    burn_and_measure(inst, tasks, W.TASK_A, W.WEB_A, slice_cg, "burn_task_limit", record)


def test_burn_in_a_bridge_task_against_its_container_limit(inst, tasks, record):
    cg = tasks.cgroup(W.API_B)
    assert inst.ssh("cat /sys/fs/cgroup%s/cpu.max" % cg).stdout.split() == [
        "100000", "100000"]
    burn_and_measure(inst, tasks, W.TASK_B, W.API_B, cg, "burn_container_limit", record)
