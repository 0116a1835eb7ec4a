"""Network faults on this machine's own kernel. The build machine's kernel
may lack sch_netem (tests/vm measures the faults for real): then the agent
must say so in /v1/info and answer 422 with the reason, touching nothing."""
import os
import platform
import subprocess


def netem_present():
    try:
        with open("/proc/modules") as f:
            if any(line.startswith("sch_netem ") for line in f):
                return True
    except OSError:
        pass
    rel = platform.release()
    base = "/lib/modules/%s" % rel
    try:
        with open(base + "/modules.builtin") as f:
            if "sch_netem.ko" in f.read():
                return True
    except OSError:
        pass
    return any(os.path.exists(base + "/kernel/net/sched/sch_netem.ko" + e)
               for e in ("", ".xz", ".zst", ".gz"))


def root_qdiscs():
    out = subprocess.run(["tc", "qdisc", "show"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if " root " in l]


def test_network_faults_report_a_missing_netem(agent):
    info = agent.client.get("/v1/info").json()
    caps = {c["type"]: c for c in info["capabilities"]}
    for t in ("latency", "loss", "corrupt", "duplicate", "reorder", "rate", "blackhole"):
        assert t in caps, t
        if netem_present():
            assert caps[t]["available"] is True, caps[t]
        else:
            assert caps[t]["available"] is False
            assert "sch_netem" in caps[t]["reason"], caps[t]


def test_latency_without_netem_is_422_and_changes_nothing(agent):
    if netem_present():
        return  # this kernel can run it: tests/vm covers the effect
    before = root_qdiscs()
    r = agent.client.post("/v1/faults", {"type": "latency", "duration": 5,
                                         "params": {"delay": 100}})
    assert r.status == 422, r
    assert "sch_netem" in r.json()["error"]["message"]
    assert root_qdiscs() == before
    assert agent.client.get("/v1/faults").json()["faults"] == []


def test_network_params_are_validated_before_anything_runs(agent, chaosctl):
    r = agent.client.post("/v1/faults", {"type": "latency", "duration": 5,
                                         "params": {"dest": "10.0.0.0/33"}})
    assert r.status == 400 and "params.dest" in r.json()["error"]["message"]
    r = agent.client.post("/v1/faults", {"type": "loss", "duration": 5,
                                         "params": {"dest_port": "80-90"}})
    assert r.status == 400 and "params.dest_port" in r.json()["error"]["message"]
    p = chaosctl("inject", "latency", "--duration", "5", "--delay", "2min")
    assert p.returncode == 2 and "--delay" in p.stderr
    p = chaosctl("inject", "rate", "--duration", "5", "--rate", "10 mbit")
    assert p.returncode == 2 and "--rate" in p.stderr
    p = chaosctl("inject", "latency", "--duration", "5", "--dest", "not-an-ip")
    assert p.returncode == 2 and "dest" in p.stderr
