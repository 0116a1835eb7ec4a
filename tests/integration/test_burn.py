"""burn-cpu's effect, measured from /proc: the load really burns, on the
right cores, as the unprivileged user, and really stops at the deadline or
on DELETE.
"""

import os
import signal
import time

import pytest

from conftest import (assert_load, cpu_percent, our_burners, parse_ts, proc_alive,
                      proc_cpu_ticks, proc_status, proc_uids, wait_for, wait_no_burners)

NCPU = len(os.sched_getaffinity(0))


def cpus_allowed(pid):
    st = proc_status(pid)
    spec = st["Cpus_allowed_list"]
    out = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def test_half_load_on_one_core(agent, nobody_uid):
    f = agent.inject(duration=8, load=50, cores=1)
    pids = f["detail"]["burner_pids"]
    assert len(pids) == 1 and set(our_burners()) == set(pids)
    pid = pids[0]
    time.sleep(0.3)  # let the duty cycle settle
    assert_load(pids, 50, seconds=2.0)
    # Pinned to the core the agent reports, as nobody, with no privileges.
    assert cpus_allowed(pid) == set(f["detail"]["cpus"])
    uids = proc_uids(pid)
    assert uids[:3] == [nobody_uid] * 3, uids
    st = proc_status(pid)
    assert st["NoNewPrivs"] == "1"
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
    assert int(st["PPid"]) == agent.pid


@pytest.mark.parametrize("load", [20, 80])
def test_other_loads_on_one_core(agent, load):
    f = agent.inject(duration=6, load=load, cores=1)
    time.sleep(0.3)
    assert_load(f["detail"]["burner_pids"], load)


def test_full_load_on_every_core(agent, nobody_uid):
    f = agent.inject(duration=6, load=100, cores=0)
    pids = f["detail"]["burner_pids"]
    assert len(pids) == NCPU
    assert set(our_burners()) == set(pids)
    # One burner per online CPU, each pinned to its own.
    assert sorted(f["detail"]["cpus"]) == sorted(os.sched_getaffinity(0))
    pinned = [cpus_allowed(p) for p in pids]
    assert all(len(s) == 1 for s in pinned)
    assert set().union(*pinned) == set(os.sched_getaffinity(0))
    for p in pids:
        assert proc_uids(p)[:3] == [nobody_uid] * 3
    time.sleep(0.2)
    assert_load(pids, 100, tolerance=15.0)


def test_fault_ends_at_its_deadline(agent):
    c = agent.client
    f = agent.inject(duration=3, load=30, cores=1)
    pids = f["detail"]["burner_pids"]
    deadline = parse_ts(f["expires_at"])
    # Still burning shortly before the deadline.
    time.sleep(max(0.0, deadline - time.time() - 0.7))
    assert all(proc_alive(p) for p in pids)
    assert c.fault(f["id"])["state"] == "active"
    c0 = {p: proc_cpu_ticks(p) for p in pids}
    gone = wait_for(lambda: not any(proc_alive(p) for p in pids) and time.time(), 4.0,
                    interval=0.005, desc="burners to stop at the deadline")
    late = gone - deadline
    print("burners gone %.3f s after the deadline" % late)
    assert -0.15 <= late <= 1.0, late
    # The agent agrees: expired at the deadline, and logs it.
    g = wait_for(lambda: (lambda x: x if x["state"] != "active" else None)(c.fault(f["id"])),
                 1.0, desc="fault state to change")
    assert g["state"] == "expired" and g["end_reason"] == "deadline", g
    ended = parse_ts(g["ended_at"])
    assert -0.1 <= ended - deadline <= 1.0, ended - deadline
    ev = [e for e in agent.events("audit", action="fault_end") if e["fault_id"] == f["id"]]
    assert len(ev) == 1 and ev[0]["state"] == "expired"
    assert c.faults("expired")[0]["id"] == f["id"]
    assert c.faults("active") == []
    m = c.metrics()
    assert m["chaos_agent_revert_lateness_seconds_count"] == 1
    assert m["chaos_agent_revert_lateness_seconds_sum"] < 1.0
    assert m['chaos_agent_faults_ended_total{type="burn-cpu",state="expired"}'] == 1
    # No CPU is burned after the end (the processes are gone, not just idle).
    assert our_burners() == {}
    assert all(proc_cpu_ticks(p) is None or proc_cpu_ticks(p) == c0[p] for p in pids)


def test_delete_reverts_immediately(agent):
    c = agent.client
    f = agent.inject(duration=30, load=60, cores=1)
    pids = f["detail"]["burner_pids"]
    time.sleep(0.5)
    assert cpu_percent(pids, 0.5)[pids[0]] > 20
    t0 = time.monotonic()
    r = c.delete("/v1/faults/" + f["id"])
    assert r.status == 200 and r.json()["state"] == "reverted"
    wait_for(lambda: not any(proc_alive(p) for p in pids), 1.0, interval=0.005,
             desc="burners to die on DELETE")
    print("burners gone %.3f s after DELETE" % (time.monotonic() - t0))
    assert c.fault(f["id"])["state"] == "reverted"
    assert c.fault(f["id"])["end_reason"] == "delete"
    assert our_burners() == {}


def test_burner_killed_from_outside_fails_the_fault(agent):
    """If every stressor dies early, the fault is failed, not silently active."""
    c = agent.client
    f = agent.inject(duration=20, load=10, cores=1)
    pid = f["detail"]["burner_pids"][0]
    os.kill(pid, 9)
    g = wait_for(lambda: (lambda x: x if x["state"] != "active" else None)(c.fault(f["id"])),
                 2.0, desc="fault to end after its burner died")
    assert g["state"] == "failed" and g["end_reason"] == "stressors_exited", g
    assert "stressor" in g["error"]


@pytest.mark.skipif(NCPU < 2, reason="needs two CPUs")
def test_two_one_core_faults_spread_over_two_cores(session):
    """cores=1 takes the CPU with the fewest burners, of any agent on the
    host: two 1-core faults (here of two agents) burn two cores."""
    a, b = session.agent(name="a"), session.agent(name="b")
    f1 = a.inject(duration=8, load=70, cores=1)
    f2 = b.inject(duration=8, load=70, cores=1)
    assert f1["detail"]["cpus"] != f2["detail"]["cpus"], (f1["detail"], f2["detail"])
    pids = f1["detail"]["burner_pids"] + f2["detail"]["burner_pids"]
    # Each is pinned where its fault says.
    for pid, cpu in zip(pids, f1["detail"]["cpus"] + f2["detail"]["cpus"]):
        assert proc_status(pid)["Cpus_allowed_list"] == str(cpu)
    res = assert_load(pids, 70)
    print("two 1-core faults on CPUs %s and %s burn %.0f %% of a core together" % (
        f1["detail"]["cpus"], f2["detail"]["cpus"], sum(x[0] for x in res.values())))
    a.client.delete("/v1/faults")
    b.client.delete("/v1/faults")
    wait_no_burners(1.0)


def test_two_faults_on_one_core_each_hold_their_load(agent):
    """Where two burners share a CPU (more faults than cores), each still
    holds its own load."""
    faults = [agent.inject(duration=6, load=30, cores=1) for _ in range(NCPU + 1)]
    cpus = [f["detail"]["cpus"][0] for f in faults]
    shared = [c for c in set(cpus) if cpus.count(c) > 1]
    assert shared, cpus
    pids = [f["detail"]["burner_pids"][0] for f in faults if f["detail"]["cpus"][0] == shared[0]]
    time.sleep(0.3)
    assert_load(pids, 30)
    agent.client.delete("/v1/faults")
    wait_no_burners(1.0)


def test_parent_timer_ends_a_fault_whose_burner_is_frozen(agent):
    """The deadline is enforced twice. Freeze the burner (SIGSTOP) so its
    own clock cannot end it: the agent's timer must still revert the fault
    at the deadline (SIGKILL ends a stopped process)."""
    c = agent.client
    f = agent.inject(duration=2, load=30, cores=1)
    pid = f["detail"]["burner_pids"][0]
    deadline = parse_ts(f["expires_at"])
    os.kill(pid, signal.SIGSTOP)
    try:
        gone = wait_for(lambda: not proc_alive(pid) and time.time(), 4.0, interval=0.005,
                        desc="the frozen burner to be killed at the deadline")
    finally:
        if proc_alive(pid):
            os.kill(pid, signal.SIGCONT)
    print("frozen burner killed %.3f s after the deadline" % (gone - deadline))
    assert -0.15 <= gone - deadline <= 1.0
    g = c.fault(f["id"])
    assert g["state"] == "expired" and g["end_reason"] == "deadline", g


def test_burner_stops_by_itself_when_the_agent_is_frozen(agent):
    """...and the other way round: with the agent frozen (SIGSTOP), the
    burner stops at its own absolute deadline."""
    f = agent.inject(duration=2, load=30, cores=1)
    pid = f["detail"]["burner_pids"][0]
    deadline = parse_ts(f["expires_at"])
    os.kill(agent.pid, signal.SIGSTOP)
    try:
        # A burner that exited is a zombie until the frozen agent reaps it.
        gone = wait_for(lambda: not proc_alive(pid) and time.time(), 4.0, interval=0.005,
                        desc="the burner to stop by itself")
        assert agent.alive()
    finally:
        os.kill(agent.pid, signal.SIGCONT)
    print("burner of a frozen agent stopped %.3f s after the deadline" % (gone - deadline))
    assert -0.15 <= gone - deadline <= 1.0
    g = wait_for(lambda: (lambda x: x if x["state"] != "active" else None)(
        agent.client.fault(f["id"])), 2.0, desc="the fault to end after SIGCONT")
    assert g["state"] == "expired" and g["end_reason"] == "deadline", g
