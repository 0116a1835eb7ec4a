"""The real chaosctl against real agents: commands, output formats, exit
codes (0 ok, 1 agent error, 2 usage, 3 unreachable/unauthenticated, 130
interrupted), fan-out to several agents, --wait and Ctrl-C.
"""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import (CTL_BIN, catches_signal, make_keyfile, our_burners, proc_alive, proc_ppid,
                      run_ctl, wait_for, wait_no_burners, wait_our_burners)

NCPU = len(os.sched_getaffinity(0))


def as_json(r):
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise AssertionError("not JSON (rc %d): %r / %r" % (r.returncode, r.stdout, r.stderr))


class Listener:
    """A TCP port that accepts connections into its backlog and never answers:
    tells whether chaosctl connected at all, and hangs a request forever."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port

    def connections(self):
        self.sock.settimeout(0.2)
        n = 0
        try:
            while True:
                c, _ = self.sock.accept()
                c.close()
                n += 1
        except (socket.timeout, BlockingIOError):
            return n

    def close(self):
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


# ------------------------------------------------------------ help, version


def test_help_texts():
    r = run_ctl("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: chaosctl")
    for cmd in ("inject", "faults", "revert", "info", "keygen", "version", "help"):
        assert re.search(r"^  %s " % cmd, r.stdout, re.M), cmd
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert "\n  %s" % code in r.stdout
    assert "CHAOS_AGENTS" in r.stdout and "CHAOS_AGENT_KEY_FILE" in r.stdout
    assert run_ctl("help").stdout == r.stdout
    for cmd in ("inject", "faults", "revert", "info", "keygen"):
        h = run_ctl("help", cmd)
        assert h.returncode == 0 and h.stdout.startswith("usage: chaosctl %s" % cmd), cmd
        # '<command> --help' needs neither agents nor a key.
        h2 = run_ctl(cmd, "--help")
        assert h2.returncode == 0 and h2.stdout == h.stdout, cmd
    fh = run_ctl("inject", "burn-cpu", "--help")
    assert fh.returncode == 0
    assert re.search(r"--load VALUE.*\n.*integer 1\.\.100 %; default 100", fh.stdout)
    assert re.search(r"--cores VALUE.*\n.*integer 0\.\.1024 cores; default 0", fh.stdout)
    r = run_ctl()
    assert r.returncode == 2 and "usage: chaosctl" in r.stderr and r.stdout == ""
    r = run_ctl("help", "nosuch")
    assert r.returncode == 2 and "'nosuch' is not a command" in r.stderr
    r = run_ctl("frobnicate")
    assert r.returncode == 2 and "'frobnicate' is not a command" in r.stderr
    with open(os.path.join(os.path.dirname(CTL_BIN), "..", "VERSION")) as f:
        version = f.read().strip()
    r = run_ctl("version")
    assert r.returncode == 0 and r.stdout.startswith("chaosctl %s (libcurl " % version)
    assert json.loads(run_ctl("--output", "json", "version").stdout)["version"] == version


# ------------------------------------------------------------ keygen


def test_keygen(tmp_path):
    out = tmp_path / "k1"
    r = run_ctl("keygen", "--out", out)
    assert r.returncode == 0, r.stderr
    assert (os.stat(out).st_mode & 0o777) == 0o600
    line = out.read_text()
    m = re.fullmatch(r"([0-9a-f]{8}) ([0-9a-f]{64})\n", line)
    assert m, line
    # The default id is the first 8 hex digits of the key's SHA-256.
    assert m.group(1) == hashlib.sha256(bytes.fromhex(m.group(2))).hexdigest()[:8]
    assert "wrote key '%s'" % m.group(1) in r.stderr
    assert m.group(2) not in r.stderr + r.stdout   # never echoes the key
    # Never overwrites without --force.
    r = run_ctl("keygen", "--out", out)
    assert r.returncode == 2 and "exists" in r.stderr and out.read_text() == line
    r = run_ctl("keygen", "--out", out, "--force", "--key-id", "ops-2.b")
    assert r.returncode == 0
    assert out.read_text().startswith("ops-2.b ") and out.read_text() != line
    assert (os.stat(out).st_mode & 0o777) == 0o600
    # To stdout, and two keys are never the same.
    a, b = run_ctl("keygen", "--out", "-"), run_ctl("keygen", "--out", "-")
    assert a.returncode == 0 and re.fullmatch(r"[0-9a-f]{8} [0-9a-f]{64}\n", a.stdout)
    assert a.stdout != b.stdout
    assert run_ctl("keygen").returncode == 2
    r = run_ctl("keygen", "--out", tmp_path / "k3", "--key-id", "bad id!")
    assert r.returncode == 2 and "--key-id" in r.stderr
    assert not (tmp_path / "k3").exists()
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


# ------------------------------------------------------------ basic commands


def test_info(chaosctl, agent):
    r = chaosctl("info")
    assert r.returncode == 0, r.stderr
    assert agent.url in r.stdout and "burn-cpu" in r.stdout
    assert "max_duration=3600s max_faults=16" in r.stdout
    r = chaosctl("--output", "json", "info")
    assert r.returncode == 0
    doc = as_json(r)
    assert doc["command"] == "info"
    assert doc["summary"] == {"targets": 1, "ok": 1, "failed": 0}
    res = doc["results"][0]
    assert res["agent"] == agent.url and res["ok"] is True and res["status"] == 200
    assert res["elapsed_ms"] >= 0 and "error" not in res
    assert res["body"]["limits"]["max_duration"] == 3600
    assert res["body"]["capabilities"][0]["type"] == "burn-cpu"


def test_inject_list_revert(chaosctl, agent):
    c = agent.client
    r = chaosctl("--output", "json", "inject", "burn-cpu", "--duration", "20", "--load", "15",
                 "--cores", "1", "--fault-label", "exp=ctl-test", "--client-id", "ctl-1")
    assert r.returncode == 0, r.stderr
    doc = as_json(r)
    assert doc["command"] == "inject" and doc["summary"]["ok"] == 1
    body = doc["results"][0]["body"]
    assert doc["results"][0]["status"] == 201
    fid = body["id"]
    # The agent really has it, as requested, and it really burns.
    f = c.fault(fid)
    assert f["state"] == "active" and f["params"] == {"load": 15, "cores": 1}
    assert f["labels"] == {"exp": "ctl-test"} and f["client_id"] == "ctl-1"
    assert f["duration"] == 20
    assert set(our_burners()) == set(f["detail"]["burner_pids"])
    ev = agent.events("audit", action="fault_start")
    assert ev[-1]["fault_id"] == fid and ev[-1]["key_id"] == agent.keyid

    # Text listing, filtered listing, JSON listing.
    r = chaosctl("faults")
    assert r.returncode == 0
    assert re.search(r"%s\s+%s\s+burn-cpu\s+active\s+\S+\s+load=15 cores=1" %
                     (re.escape(agent.url), fid), r.stdout), r.stdout
    r = chaosctl("faults", "--state", "expired")
    assert r.returncode == 0 and "(no faults)" in r.stdout and fid not in r.stdout
    doc = as_json(chaosctl("--output", "json", "faults", "--state", "active"))
    assert [x["id"] for x in doc["results"][0]["body"]["faults"]] == [fid]

    # The same client id again: the same fault, nothing new.
    r = chaosctl("--output", "json", "inject", "burn-cpu", "--duration", "20", "--load", "15",
                 "--cores", "1", "--client-id", "ctl-1")
    assert r.returncode == 0 and as_json(r)["results"][0]["status"] == 200
    assert as_json(r)["results"][0]["body"]["id"] == fid
    wait_our_burners(1)

    r = chaosctl("revert", fid)
    assert r.returncode == 0, r.stderr
    assert re.search(r"%s\s+reverted" % fid, r.stdout)
    wait_no_burners(1.0)
    assert c.fault(fid)["state"] == "reverted"
    # Reverting an ended fault is not an error.
    assert chaosctl("revert", fid).returncode == 0
    # An id nobody knows is.
    r = chaosctl("revert", "f-0123456789abcdef")
    assert r.returncode == 1 and "no target agent knows fault 'f-0123456789abcdef'" in r.stderr


def test_revert_all(chaosctl, agent):
    ids = {agent.inject(duration=20, load=5, cores=1)["id"] for _ in range(2)}
    r = chaosctl("revert", "--all")
    assert r.returncode == 0, r.stderr
    assert "reverted 2 fault(s)" in r.stdout
    for fid in ids:
        assert fid in r.stdout
        assert agent.client.fault(fid)["state"] == "reverted"
    wait_no_burners(1.0)
    doc = as_json(chaosctl("--output", "json", "revert", "--all"))
    assert doc["results"][0]["body"] == {"reverted": []}
    assert chaosctl("revert").returncode == 2
    assert chaosctl("revert", "--all", "f-0123456789abcdef").returncode == 2


def test_revert_and_list_by_label_touch_only_that_experiment(chaosctl, agent):
    mine = agent.inject(duration=20, load=5, cores=1,
                        labels={"experiment": "a", "run": "1"})["id"]
    other = agent.inject(duration=20, load=5, cores=1, labels={"experiment": "b"})["id"]
    bare = agent.inject(duration=20, load=5, cores=1)["id"]
    doc = as_json(chaosctl("--output", "json", "faults", "--label", "experiment=a"))
    assert [f["id"] for f in doc["results"][0]["body"]["faults"]] == [mine]
    r = chaosctl("faults", "--label", "experiment=a", "--label", "run=2")
    assert r.returncode == 0 and "(no faults)" in r.stdout, r.stdout
    r = chaosctl("revert", "--label", "experiment=a")
    assert r.returncode == 0, r.stderr
    assert mine in r.stdout and "reverted" in r.stdout
    assert agent.client.fault(mine)["state"] == "reverted"
    assert agent.client.fault(other)["state"] == "active"
    assert agent.client.fault(bare)["state"] == "active"
    # again: nothing left to revert, which is not an error
    doc = as_json(chaosctl("--output", "json", "revert", "--label", "experiment=a"))
    assert doc["results"] == []
    r = chaosctl("revert", "--label", "experiment=b")
    assert r.returncode == 0 and other in r.stdout
    assert agent.client.fault(bare)["state"] == "active"
    assert chaosctl("revert", "--all").returncode == 0
    for args in (["--label", "experiment"], ["--label", "a=b", "--all"],
                 ["--label", "a=b", "f-0123456789abcdef"]):
        r = chaosctl("revert", *args)
        assert r.returncode == 2 and ("--label" in r.stderr or "one of them" in r.stderr), r


# ------------------------------------------------------------ exit codes


@pytest.mark.parametrize("args,words", [
    (["inject", "burn-cpu", "--duration", "5", "--load", "101"], ["--load", "101", "1..100"]),
    (["inject", "burn-cpu", "--duration", "5", "--load", "0"], ["--load"]),
    (["inject", "burn-cpu", "--duration", "5", "--load", "abc"], ["--load"]),
    (["inject", "burn-cpu", "--duration", "5", "--cores", "1025"], ["--cores", "0..1024"]),
    (["inject", "burn-cpu", "--duration", "5", "--load", "5", "--load", "6"], ["--load", "twice"]),
    (["inject", "burn-cpu", "--load", "50"], ["--duration is required"]),
    (["inject", "burn-cpu", "--duration", "0"], ["--duration"]),
    (["inject", "burn-cpu", "--duration", "1.5s"], ["--duration"]),
    (["inject", "burn-cpu", "--duration", "13h"], ["--duration"]),
    (["inject", "burn-cpu", "--duration", "5", "--turbo"], ["unknown option '--turbo'"]),
    (["inject", "burn-cpu", "--duration", "5", "--fault-label", "novalue"], ["--fault-label"]),
    (["inject", "burn-cpu", "--duration", "5", "--fault-label", "bad key=v"], ["labels"]),
    (["inject", "burn-cpu", "--duration", "5", "--label", "novalue"], ["--label"]),
    (["inject", "burn-cpu", "--duration", "5", "--count", "0", "--family", "x"],
     ["--container-count", "1..1000"]),
    (["inject", "kill-container"], ["--family", "--task"]),
    (["inject", "burn-cpu", "--duration", "5", "--client-id", "a b"], ["client_id"]),
    (["inject", "melt-cpu", "--duration", "5"], ["unknown fault 'melt-cpu'"]),
    (["inject"], ["name a fault"]),
    (["inject", "burn-cpu", "--duration", "5", "extra"], ["unexpected argument 'extra'"]),
    (["faults", "--state", "sleeping"], ["--state", "sleeping"]),
    (["--output", "xml", "info"], ["--output", "xml"]),
    (["--timeout", "0", "info"], ["--timeout"]),
    (["info", "extra"], ["unexpected argument"]),
])
def test_usage_errors_exit_2_and_send_nothing(listener, keyfile, args, words):
    r = run_ctl(*args, agents=[listener.url], keyfile=keyfile)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert listener.connections() == 0, "chaosctl sent a request despite a usage error"


def test_target_and_key_usage_errors(listener, keyfile, tmp_path):
    r = run_ctl("info", keyfile=keyfile)
    assert r.returncode == 2 and "no agents" in r.stderr
    r = run_ctl("info", agents=[listener.url])
    assert r.returncode == 2 and "no key" in r.stderr
    r = run_ctl("info", agents=["ftp://127.0.0.1:1"], keyfile=keyfile)
    assert r.returncode == 2 and "http://" in r.stderr
    r = run_ctl("info", agents=[listener.url + "/v1"], keyfile=keyfile)
    assert r.returncode == 2 and "only scheme, host and port" in r.stderr
    r = run_ctl("info", agents=[listener.url], keyfile=tmp_path / "missing.key")
    assert r.returncode == 2 and "cannot open key file" in r.stderr
    os.chmod(keyfile, 0o644)
    r = run_ctl("info", agents=[listener.url], keyfile=keyfile)
    os.chmod(keyfile, 0o600)
    assert r.returncode == 2 and "chmod 600" in r.stderr
    r = run_ctl("--key-id", "nope", "info", agents=[listener.url], keyfile=keyfile)
    assert r.returncode == 2 and "--key-id" in r.stderr
    assert listener.connections() == 0
    r = run_ctl("info", keyfile=keyfile, env={"CHAOS_AGENTS": "not-a-url"})
    assert r.returncode == 2 and "not-a-url" in r.stderr and "CHAOS_AGENTS" in r.stderr


def test_unreachable_agent_exits_3(keyfile):
    url = closed_port_url()
    r = run_ctl("--output", "json", "inject", "burn-cpu", "--duration", "5", "--load", "5",
                "--cores", "1", agents=[url], keyfile=keyfile)
    assert r.returncode == 3, r.stderr
    res = as_json(r)["results"][0]
    assert res["ok"] is False and res["status"] == 0 and res["agent"] == url
    assert "connect" in res["error"].lower() or "refused" in res["error"].lower()
    r = run_ctl("info", agents=[url], keyfile=keyfile)
    assert r.returncode == 3 and "error:" in r.stdout


def test_hanging_agent_times_out_with_3(listener, keyfile):
    t0 = time.monotonic()
    r = run_ctl("--timeout", "1", "--output", "json", "info", agents=[listener.url],
                keyfile=keyfile)
    took = time.monotonic() - t0
    assert r.returncode == 3, r.stderr
    assert "timeout" in as_json(r)["results"][0]["error"].lower()
    assert took < 4, took


def test_wrong_key_exits_3(agent, tmp_path):
    other = make_keyfile(tmp_path / "other.key")
    r = run_ctl("inject", "burn-cpu", "--duration", "5", "--load", "5", "--cores", "1",
                agents=[agent.url], keyfile=other)
    assert r.returncode == 3, r.stderr
    assert "401 unauthenticated" in r.stdout
    assert agent.events("auth_failure")[-1]["reason"] == "unknown_key_id"
    # Same key id, different key: also rejected.
    kid = agent.keyid
    same_id = tmp_path / "sameid.key"
    same_id.write_text("%s %s\n" % (kid, os.urandom(32).hex()))
    os.chmod(same_id, 0o600)
    r = run_ctl("--output", "json", "faults", agents=[agent.url], keyfile=same_id)
    assert r.returncode == 3
    assert as_json(r)["results"][0]["status"] == 401
    assert agent.events("auth_failure")[-1]["reason"] == "bad_signature"
    assert agent.client.faults() == [] and our_burners() == {}


def test_agent_side_errors_exit_1(session, keyfile):
    a = session.agent(sets={"max_duration": 5, "max_faults": 1})
    # Passes chaosctl's own checks, refused by this agent's max_duration.
    r = run_ctl("--output", "json", "inject", "burn-cpu", "--duration", "10", "--load", "5",
                "--cores", "1", agents=[a.url], keyfile=keyfile)
    assert r.returncode == 1, r.stderr
    res = as_json(r)["results"][0]
    assert res["status"] == 400 and res["ok"] is False and "duration" in res["error"]
    # More cores than the host has.
    r = run_ctl("inject", "burn-cpu", "--duration", "5", "--cores", str(NCPU + 1),
                agents=[a.url], keyfile=keyfile)
    assert r.returncode == 1 and "cores" in r.stdout
    # max_faults: the second fault is refused with 429.
    ok = run_ctl("inject", "burn-cpu", "--duration", "5", "--load", "5", "--cores", "1",
                 agents=[a.url], keyfile=keyfile)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    r = run_ctl("inject", "burn-cpu", "--duration", "5", "--load", "5", "--cores", "1",
                agents=[a.url], keyfile=keyfile)
    assert r.returncode == 1 and "429 too_many_faults" in r.stdout
    wait_our_burners(1)
    run_ctl("revert", "--all", agents=[a.url], keyfile=keyfile)


# ------------------------------------------------------------ several agents


def test_two_agents_both_get_the_fault(session, keyfile):
    a = session.agent(name="A")
    b = session.agent(name="B")
    r = run_ctl("--output", "json", "inject", "burn-cpu", "--duration", "20", "--load", "5",
                "--cores", "1", agents=[a.url, b.url], keyfile=keyfile)
    assert r.returncode == 0, r.stderr
    doc = as_json(r)
    assert doc["summary"] == {"targets": 2, "ok": 2, "failed": 0}
    by_agent = {x["agent"]: x["body"] for x in doc["results"]}
    assert set(by_agent) == {a.url, b.url}
    for ag in (a, b):
        f = ag.client.fault(by_agent[ag.url]["id"])
        assert f["state"] == "active"
        assert len(ag.client.faults("active")) == 1
        (pid,) = f["detail"]["burner_pids"]
        assert proc_alive(pid) and proc_ppid(pid) == ag.pid   # burned by that agent
    wait_our_burners(2)
    # One listing across both, then the kill switch on both.
    r = run_ctl("faults", agents=[a.url, b.url], keyfile=keyfile)
    assert r.stdout.count(" active ") == 2
    r = run_ctl("revert", "--all", agents=[a.url, b.url], keyfile=keyfile)
    assert r.returncode == 0 and r.stdout.count("reverted 1 fault(s)") == 2
    wait_no_burners(1.0)
    assert a.client.faults("active") == [] and b.client.faults("active") == []


def test_one_agent_down_exits_3_but_the_other_gets_the_fault(agent, keyfile):
    down = closed_port_url()
    r = run_ctl("--output", "json", "inject", "burn-cpu", "--duration", "20", "--load", "5",
                "--cores", "1", agents=[agent.url, down], keyfile=keyfile)
    assert r.returncode == 3
    doc = as_json(r)
    assert doc["summary"] == {"targets": 2, "ok": 1, "failed": 1}
    assert len(agent.client.faults("active")) == 1


def test_agents_from_environment_and_file(session, keyfile, tmp_path):
    a = session.agent(name="A")
    b = session.agent(name="B")
    env = {"CHAOS_AGENTS": " %s , %s/ " % (a.url, b.url), "CHAOS_AGENT_KEY_FILE": keyfile}
    r = run_ctl("--output", "json", "inject", "burn-cpu", "--duration", "20", "--load", "5",
                "--cores", "1", env=env)
    assert r.returncode == 0, r.stderr
    assert {x["agent"] for x in as_json(r)["results"]} == {a.url, b.url}
    assert len(a.client.faults("active")) == 1 and len(b.client.faults("active")) == 1
    # --agent wins over CHAOS_AGENTS; global options may follow the command.
    r = run_ctl("revert", "--all", "--agent", a.url, "--output", "json", env=env)
    assert r.returncode == 0
    assert [x["agent"] for x in as_json(r)["results"]] == [a.url]
    assert a.client.faults("active") == [] and len(b.client.faults("active")) == 1
    # An agents file with comments and blank lines.
    af = tmp_path / "agents"
    af.write_text("# fleet\n\n%s\n  %s  # not a comment: rejected\n" % (b.url, a.url))
    r = run_ctl("--agents-file", af, "faults", keyfile=keyfile)
    assert r.returncode == 2 and "agents" in r.stderr
    af.write_text("# fleet\n\n%s\n" % b.url)
    r = run_ctl("--agents-file", af, "revert", "--all", keyfile=keyfile)
    assert r.returncode == 0 and "reverted 1 fault(s)" in r.stdout
    wait_no_burners(1.0)


def test_proxy_environment_is_ignored(chaosctl, agent):
    env = {"http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "all_proxy": "http://127.0.0.1:9"}
    r = chaosctl("info", env=env)
    assert r.returncode == 0, r.stdout + r.stderr


# ------------------------------------------------------------ --wait and Ctrl-C


def test_inject_wait_returns_after_the_deadline(chaosctl, agent):
    t0 = time.monotonic()
    r = chaosctl("inject", "burn-cpu", "--duration", "2", "--load", "20", "--cores", "1",
                 "--wait", timeout=20)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"(f-[0-9a-f]{16})\s+ended: expired", r.stdout)
    assert m, r.stdout
    print("inject --wait of a 2 s fault took %.2f s" % took)
    assert 2.0 <= took <= 4.5, took
    f = agent.client.fault(m.group(1))
    assert f["state"] == "expired" and f["end_reason"] == "deadline"
    assert our_burners() == {}
    # JSON output carries the end states.
    r = chaosctl("--output", "json", "inject", "burn-cpu", "--duration", "1", "--load", "5",
                 "--cores", "1", "--wait", timeout=20)
    assert r.returncode == 0
    doc = as_json(r)
    assert doc["ended"] == [{"agent": agent.url, "id": doc["results"][0]["body"]["id"],
                             "state": "expired"}]


def test_ctrl_c_during_wait_reverts(agent, keyfile):
    env = dict(os.environ)
    env.pop("CHAOS_AGENTS", None)
    p = subprocess.Popen([CTL_BIN, "--agent", agent.url, "--key-file", keyfile, "inject",
                          "burn-cpu", "--duration", "30", "--load", "20", "--cores", "1",
                          "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        active = wait_for(lambda: agent.client.faults("active"), 5.0,
                          desc="the fault to be active")
        fid = active[0]["id"]
        pids = active[0]["detail"]["burner_pids"]
        # chaosctl follows the fault once it has its Ctrl-C handler in place.
        wait_for(lambda: catches_signal(p.pid, signal.SIGINT), 5.0,
                 desc="chaosctl to catch SIGINT")
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, (p.returncode, out, err)
    assert "interrupted; reverting the faults" in err
    assert "reverted %s on %s" % (fid, agent.url) in err
    assert re.search(r"%s\s+ended: reverted" % fid, out)
    assert took < 3, took
    f = agent.client.fault(fid)
    assert f["state"] == "reverted" and f["end_reason"] == "delete"
    # SIGKILL is asynchronous: the answer may come before the burners die.
    wait_for(lambda: not any(proc_alive(x) for x in pids), 1.0, interval=0.005,
             desc="burners to die on the revert")
    assert our_burners() == {}
