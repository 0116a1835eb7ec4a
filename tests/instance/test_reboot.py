"""The last test of the layer (it resets the machine): a hard reset with
faults active. Nothing of them survives, and the agent that comes up
reports them as reverted at startup."""
import workload as W
from conftest import body


def test_reset_with_active_faults(inst, tasks, record):
    lat = body(inst, "inject", "latency", "--delay", "100ms", "--task", W.TASK_A,
               "--duration", "600")
    burn = body(inst, "inject", "burn-cpu", "--load", "20", "--cores", "1", "--duration", "600")
    assert "cafe:" in tasks.qdiscs(W.WEB_A)
    # The reset button: no service is stopped, no revert runs. What the
    # agent wrote to its state file before answering is on the disk.
    inst.reset()
    took = inst.wait_ready()
    record("reset_to_ready_s", round(took, 1))
    faults = {f["id"]: f for f in body(inst, "faults")["faults"]}
    for f in (lat, burn):
        got = faults.get(f["id"])
        assert got is not None, (f["id"], faults)
        assert got["state"] == "reverted" and got["end_reason"] == "reverted_at_startup", got
    # Nothing is left: no burner, no qdisc of ours on any interface, no
    # fault active.
    assert inst.ssh("pgrep -x chaos-burn", check=False).returncode == 1
    links = inst.ssh("ip -o link show").stdout
    for dev in [line.split(": ")[1].split("@")[0] for line in links.strip().split("\n")]:
        assert "cafe:" not in inst.ssh("tc qdisc show dev " + dev).stdout, dev
    assert body(inst, "faults", "--state", "active")["faults"] == []
    log = inst.ssh("journalctl -b -u chaos-agent --no-pager -o cat").stdout
    print("after the reset (ready in %.1f s), the agent's log:\n%s" % (took, log[-1500:]))
    assert "left 2 fault(s)" in log, log[-3000:]
