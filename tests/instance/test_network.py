"""Network faults inside one awsvpc task's namespace, measured with real
traffic inside the VM: ICMP round trips with ping, TCP connects and bulk
transfers with probe.py, all against the peer: the instance itself, at
docker0's address, where probe.py serves. Every bound is
stated where it is asserted, with the statistics behind it."""
import time

import workload as W
from conftest import body, ctl, fault_state, parse_ms, wait_fault_ended
from procs import wait_for

WEB, API, TASK_A, PEER = W.WEB_A, W.API_B, W.TASK_A, W.PEER_IP


def ours(qdiscs):
    return "cafe:" in qdiscs or "netem" in qdiscs


def inject(inst, *args):
    f = body(inst, "inject", *args)
    assert f["state"] == "active", f
    return f


def rtts(tasks):
    """Average RTTs: task A and task B to the instance (their peer), and the
    instance to task B."""
    return {WEB: tasks.ping(WEB, PEER, 30, 0.1)[2], API: tasks.ping(API, PEER, 30, 0.1)[2],
            "host": tasks.ping("host", tasks.ip(API), 30, 0.1)[2]}


def test_latency_only_inside_the_task(inst, tasks, record):
    # 30 pings: with 20 ms of uniform jitter (sd 11.5 ms) the mean of 30
    # samples has an sd of 2.1 ms, so +-10 ms is more than 4 sd; the
    # baseline's own noise under emulation is a few ms.
    base = rtts(tasks)
    f = inject(inst, "latency", "--delay", "100ms", "--jitter", "20ms", "--task", TASK_A,
               "--duration", "120")
    assert ours(tasks.qdiscs(WEB)), tasks.qdiscs(WEB)
    during = rtts(tasks)
    # The agent answers while the task's traffic is delayed.
    t0 = time.monotonic()
    assert fault_state(inst, f["id"])["state"] == "active"
    agent_ms = (time.monotonic() - t0) * 1000
    added = {n: during[n] - base[n] for n in base}
    record("latency_added_ms", {n: round(v, 1) for n, v in added.items()})
    print("latency 100ms+-20ms: added RTT %s (baseline %s); a chaosctl call took %.0f ms"
          % (added, base, agent_ms))
    assert 90 <= added[WEB] <= 110, added
    assert added[API] < 10 and added["host"] < 10, added
    assert not ours(tasks.qdiscs(API))
    assert not ours(tasks.inst.ssh("tc qdisc show").stdout)
    r = body(inst, "revert", f["id"])
    assert r["state"] == "reverted", r
    assert not ours(tasks.qdiscs(WEB)), tasks.qdiscs(WEB)
    assert tasks.ping(WEB, PEER, 10, 0.1)[2] < base[WEB] + 10


def test_latency_gone_at_the_deadline(inst, tasks, record):
    f = inject(inst, "latency", "--delay", "50ms", "--task", TASK_A, "--duration", "5")
    assert ours(tasks.qdiscs(WEB))
    end = wait_fault_ended(inst, f["id"], 30)
    assert end["state"] == "expired", end
    assert not ours(tasks.qdiscs(WEB)), tasks.qdiscs(WEB)
    late = (parse_ms(end["ended_at"]) - parse_ms(end["expires_at"]))
    record("latency_deadline_late_ms", late)
    print("latency removed %d ms after its deadline" % late)
    assert 0 <= late < 1000, late


def test_agent_killed_the_unit_reverts(inst, tasks, record):
    # SIGKILL leaves the qdisc; the unit's ExecStopPost (chaos-agent
    # --revert-all) removes it, and Restart= brings the agent back.
    inject(inst, "latency", "--delay", "100ms", "--task", TASK_A, "--duration", "300")
    assert ours(tasks.qdiscs(WEB))
    pid0 = inst.ssh("systemctl show -p MainPID --value chaos-agent").stdout.strip()
    t0 = time.monotonic()
    inst.ssh("systemctl kill --signal=KILL chaos-agent")
    wait_for(lambda: not ours(tasks.qdiscs(WEB)), 30, interval=0.2,
             what="ExecStopPost to remove the qdisc")
    gone = time.monotonic() - t0

    def back():
        pid = inst.ssh("systemctl show -p MainPID --value chaos-agent").stdout.strip()
        return pid not in ("0", pid0) and inst._agent_health()
    wait_for(back, 60, interval=0.5, what="the agent to be restarted")
    record("sigkill_to_qdisc_gone_s", round(gone, 2))
    print("SIGKILL to qdisc removed: %.2f s (ExecStopPost)" % gone)
    assert "revert" in inst.ssh("journalctl -u chaos-agent -n 50 --no-pager").stdout


def test_loss_30_percent(inst, tasks, record):
    peer = PEER
    sent, got, _ = tasks.ping(WEB, peer, 100, 0.02)
    assert got >= sent - 1, (sent, got)
    inject(inst, "loss", "--percent", "30", "--task", TASK_A, "--duration", "120")
    # 400 echo requests, each dropped with p = 0.3: the lost share has an sd
    # of 2.3 points, so 20..40 % is more than 4 sd either way.
    sent, got, _ = tasks.ping(WEB, peer, 400, 0.02)
    lost = 100.0 * (sent - got) / sent
    other = tasks.ping(API, peer, 100, 0.02)
    record("loss_30_measured_pct", round(lost, 1))
    print("loss 30%%: %d of %d lost (%.1f %%); the other task lost %d of %d"
          % (sent - got, sent, lost, other[0] - other[1], other[0]))
    assert 20 <= lost <= 40, lost
    assert other[1] >= other[0] - 1, other


def test_rate_limits_the_task_upload(inst, tasks, record):
    peer = PEER
    base = tasks.probe(WEB, "send", peer, 7100, 4 << 20)
    inject(inst, "rate", "--rate", "1mbit", "--task", TASK_A, "--duration", "120")
    lim = tasks.probe(WEB, "send", peer, 7100, 256 << 10)
    other = tasks.probe(API, "send", peer, 7100, 4 << 20)
    record("rate_1mbit_measured_kbit_s", round(lim["kbit_s"], 1))
    record("rate_baseline_kbit_s", round(base["kbit_s"]))
    print("rate 1mbit: payload %.0f kbit/s (baseline %.0f kbit/s, other task %.0f kbit/s)"
          % (lim["kbit_s"], base["kbit_s"], other["kbit_s"]))
    # netem counts whole packets, headers included: the payload rate is
    # 95-100 % of the configured rate (more when TSO packets are large),
    # plus one round trip at the start.
    assert 900 <= lim["kbit_s"] <= 1050, lim
    assert base["kbit_s"] > 10000 and other["kbit_s"] > 10000, (base, other)


def test_blackhole_one_destination_port(inst, tasks, record):
    peer = PEER
    assert tasks.probe(WEB, "connect", peer, 7000, 3)["ok"]
    f = inject(inst, "blackhole", "--dest-port", "7000", "--protocol", "tcp",
               "--task", TASK_A, "--duration", "120")
    blocked = tasks.probe(WEB, "connect", peer, 7000, 3)
    open_port = tasks.probe(WEB, "connect", peer, 7001, 3)
    other = tasks.probe(API, "connect", peer, 7000, 3)
    sent, got, _ = tasks.ping(WEB, peer, 10, 0.1)
    print("blackhole tcp/7000: 7000 %s, 7001 %s, other task 7000 %s, ping %d/%d"
          % (blocked, open_port, other, got, sent))
    assert not blocked["ok"] and blocked["seconds"] >= 2.5, blocked
    assert open_port["ok"] and other["ok"], (open_port, other)
    assert got == sent, (sent, got)
    body(inst, "revert", f["id"])
    assert tasks.probe(WEB, "connect", peer, 7000, 3)["ok"]
    record("blackhole_port_scope", "7000 dropped, 7001 open, ICMP untouched")


def test_no_fault_left(inst, tasks):
    _, doc = ctl(inst, "faults", "--state", "active")
    assert doc["results"][0]["body"]["faults"] == []
    assert not ours(tasks.qdiscs(WEB))
