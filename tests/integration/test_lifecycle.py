"""The agent's process life cycle: signals, crashes, crash recovery from the
state file, --revert-all, worker restarts, the seccomp sandbox, key file
checks and -n.
"""

import json
import os
import signal
import subprocess
import time

import pytest

import chaos_client as cc
from conftest import (AGENT_BIN, Agent, our_burners, proc_alive, proc_starttime, proc_status,
                      proc_uids, sanitizer_report, wait_api, wait_for, wait_no_burners)


def state_file(agent):
    with open(os.path.join(agent.state_dir, "state.json")) as f:
        return json.load(f)


def run_agent(*args, timeout=10):
    r = subprocess.run([AGENT_BIN] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=timeout)
    assert sanitizer_report(r.stderr) is None, r.stderr
    return r


def spawn_decoy():
    """A process standing in for a leftover burner: (Popen, starttime)."""
    p = subprocess.Popen(["sleep", "60"])
    wait_for(lambda: proc_starttime(p.pid) is not None, 2.0, desc="decoy to start")
    return p, proc_starttime(p.pid)


def write_state(state_dir, entries):
    """entries: list of (fault id, [(pid, start), ...])."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    doc = {"version": 1, "faults": [
        {"id": fid, "type": "burn-cpu", "expires_ms": int(time.time() * 1000) + 60000,
         "record": {"burners": [{"pid": p, "start": s} for p, s in procs],
                    "cpus": [0] * len(procs)}}
        for fid, procs in entries]}
    with open(os.path.join(state_dir, "state.json"), "w") as f:
        json.dump(doc, f)


# ------------------------------------------------------------ signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_reverts_every_fault(agent, sig):
    f1 = agent.inject(duration=20, load=20, cores=1)
    f2 = agent.inject(duration=20, load=10, cores=0)
    pids = f1["detail"]["burner_pids"] + f2["detail"]["burner_pids"]
    assert set(our_burners()) == set(pids)
    assert len(state_file(agent)["faults"]) == 2
    worker = agent.worker_pid()
    agent.signal(sig)
    assert agent.wait(10) == 0
    # Killed before the agent exited (SIGKILL completes asynchronously).
    wait_for(lambda: not any(proc_alive(p) for p in pids + [worker]), 0.5, interval=0.005,
             desc="burners and worker to be gone after the agent exited")
    ends = agent.events("audit", action="fault_end")
    assert sorted(e["fault_id"] for e in ends) == sorted([f1["id"], f2["id"]])
    assert all(e["state"] == "reverted" for e in ends)
    assert agent.messages("ended: reverted (shutdown)")
    assert agent.messages("signal %d: reverting every fault and stopping" % sig)
    assert agent.messages("stopped")
    assert state_file(agent)["faults"] == []


def test_sighup_is_ignored(agent):
    f = agent.inject(duration=10, load=10, cores=1)
    agent.signal(signal.SIGHUP)
    agent.wait_message("SIGHUP ignored")
    assert agent.alive()
    assert agent.client.fault(f["id"])["state"] == "active"
    assert set(our_burners()) == set(f["detail"]["burner_pids"])


# ------------------------------------------------------------ crashes


def test_sigkill_parent_burners_die_and_restart_recovers(session):
    a = session.agent(name="crashy")
    f = a.inject(duration=30, load=30, cores=0)
    pids = f["detail"]["burner_pids"]
    worker = a.worker_pid()
    a.signal(signal.SIGKILL)
    a.wait(5)
    t0 = time.monotonic()
    # PR_SET_PDEATHSIG: the burners and the worker die with the parent, long
    # before their 30 s deadline.
    wait_for(lambda: not any(proc_alive(p) for p in pids + [worker]), 1.0, interval=0.005,
             desc="burners and worker to die with the parent")
    print("burners gone %.3f s after SIGKILL" % (time.monotonic() - t0))
    # The state file still lists the fault: the crash left it behind.
    st = state_file(a)
    assert [x["id"] for x in st["faults"]] == [f["id"]]
    assert [b["pid"] for b in st["faults"][0]["record"]["burners"]] == pids

    b = session.agent(name="restarted", state_dir=a.state_dir)
    b.wait_message("a previous run left 1 fault(s): 1 reverted, 0 failed")
    assert state_file(b)["faults"] == []
    # The fault stays in the history, ended by this start, and audited so.
    (g,) = b.client.faults()
    assert (g["id"], g["state"], g["end_reason"]) == (f["id"], "reverted",
                                                      "reverted_at_startup")
    assert g["params"] == f["params"] and g["created_at"] == f["created_at"]
    ends = b.events("audit", action="fault_end", fault_id=f["id"])
    assert len(ends) == 1 and ends[0]["remote"] == "agent", ends
    assert our_burners() == {}


def test_startup_recovery_kills_what_the_state_file_lists(session):
    """Recovery acts on the state file: a listed live process is killed, a
    pid whose start time does not match (a recycled pid) is left alone."""
    victim, vstart = spawn_decoy()
    bystander, bstart = spawn_decoy()
    try:
        a = Agent(session.tmp, session.keyfile, name="recover")
        write_state(a.state_dir, [("f-00000000000000aa", [(victim.pid, vstart)]),
                                  ("f-00000000000000bb", [(bystander.pid, bstart + 1)])])
        session.agents.append(a)
        a.start()
        assert victim.wait(timeout=3) == -signal.SIGKILL
        assert bystander.poll() is None
        assert a.messages("a previous run left 2 fault(s): 2 reverted")
        # Entries without their request (an older state file) are listed too.
        assert {(g["id"], g["end_reason"]) for g in a.client.faults()} == {
            ("f-00000000000000aa", "reverted_at_startup"),
            ("f-00000000000000bb", "reverted_at_startup")}
        assert state_file(a)["faults"] == []
    finally:
        for p in (victim, bystander):
            if p.poll() is None:
                p.kill()
            p.wait()


def test_corrupt_state_file_is_kept_aside(session, tmp_path):
    """Nothing can be undone from an unreadable state file: it is kept for a
    person to read, said loudly, and the agent serves (under systemd a
    refusal to start would only loop)."""
    a = Agent(session.tmp, session.keyfile, name="corrupt")
    os.makedirs(a.state_dir, mode=0o700)
    with open(os.path.join(a.state_dir, "state.json"), "w") as f:
        f.write("{not json")
    session.agents.append(a)
    a.start()
    assert a.messages("unreadable") and a.messages("state.json.corrupt")
    with open(os.path.join(a.state_dir, "state.json.corrupt")) as f:
        assert f.read() == "{not json"
    assert a.client.get("/v1/info").status == 200


# ------------------------------------------------------------ --revert-all


def test_revert_all_offline(session):
    victim, vstart = spawn_decoy()
    try:
        state_dir = str(session.tmp / "offline-state")
        write_state(state_dir, [("f-00000000000000cc", [(victim.pid, vstart)])])
        r = run_agent("--revert-all", "--state-dir", state_dir,
                      "--key-file", session.keyfile)
        assert r.returncode == 0, r.stderr
        assert victim.wait(timeout=3) == -signal.SIGKILL
        assert "reverted 1 fault(s) listed in the state file" in r.stderr
        assert "f-00000000000000cc" in r.stderr
        with open(os.path.join(state_dir, "state.json")) as f:
            assert json.load(f)["faults"] == []
        # Idempotent: a second run has nothing to do.
        r = run_agent("--revert-all", "--state-dir", state_dir,
                      "--key-file", session.keyfile)
        assert r.returncode == 0 and "reverted 0 fault(s)" in r.stderr
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.wait()


def test_revert_all_after_sigkill(session):
    a = session.agent(name="killed")
    f = a.inject(duration=30, load=10, cores=1)
    a.signal(signal.SIGKILL)
    a.wait(5)
    wait_no_burners(1.0)
    r = run_agent("--revert-all", "--state-dir", a.state_dir, "--key-file", session.keyfile)
    assert r.returncode == 0, r.stderr
    assert "reverted 1 fault(s) listed in the state file" in r.stderr
    assert f["id"] in r.stderr
    assert state_file(a)["faults"] == []


def test_revert_all_refuses_while_an_agent_runs(agent, keyfile):
    f = agent.inject(duration=10, load=10, cores=1)
    r = run_agent("--revert-all", "--state-dir", agent.state_dir, "--key-file", keyfile)
    assert r.returncode != 0
    assert "in use by another chaos-agent" in r.stderr and "lock" in r.stderr
    # Nothing was touched.
    assert agent.client.fault(f["id"])["state"] == "active"
    assert set(our_burners()) == set(f["detail"]["burner_pids"])
    assert len(state_file(agent)["faults"]) == 1


def test_second_agent_on_the_same_state_dir_refuses(agent, keyfile):
    r = run_agent("--listen", "127.0.0.1:0", "--key-file", keyfile,
                  "--state-dir", agent.state_dir)
    assert r.returncode != 0
    assert "in use by another chaos-agent" in r.stderr
    assert agent.client.get("/v1/info").status == 200


# ------------------------------------------------------------ the worker


def wait_new_worker(agent, old, timeout=5.0):
    return wait_for(lambda: (lambda w: w if w and w != old else None)(agent.worker_pid()),
                    timeout, desc="a new worker")


def test_worker_is_sandboxed(agent, nobody_uid):
    w = agent.worker_pid()
    st = proc_status(w)
    assert proc_uids(w)[:3] == [nobody_uid] * 3
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"            # filter mode
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
    # The parent stays root and unfiltered.
    assert proc_uids(agent.pid)[0] == 0
    assert proc_status(agent.pid)["Seccomp"] == "0"


def test_killed_worker_is_restarted(agent, nobody_uid):
    agent.expect_worker_deaths = True
    f = agent.inject(duration=15, load=10, cores=1)
    old = agent.worker_pid()
    os.kill(old, signal.SIGKILL)
    new = wait_new_worker(agent, old)
    agent.wait_message("worker %d killed by signal 9 (KILL)" % old)
    agent.wait_message("worker %d started" % new)
    wait_api(agent)
    assert proc_uids(new)[:3] == [nobody_uid] * 3
    assert proc_status(new)["Seccomp"] == "2"
    # The fault kept running through the restart.
    g = agent.client.fault(f["id"])
    assert g["state"] == "active"
    assert set(our_burners()) == set(f["detail"]["burner_pids"])
    assert agent.client.metrics()["chaos_agent_worker_restarts_total"] == 1
    # And the API still mutates state.
    assert agent.client.delete("/v1/faults/" + f["id"]).json()["state"] == "reverted"
    wait_no_burners(1.0)


def test_worker_restart_keeps_the_replay_cache(agent):
    """The parent keeps the nonces, so a new worker refuses a request the old
    one accepted, and accepts one signed earlier that nobody used yet."""
    agent.expect_worker_deaths = True
    c = agent.client
    used = c.authorization("GET", "/v1/info", ts=int(time.time()) - 2)
    fresh = c.authorization("GET", "/v1/info", ts=int(time.time()) - 2)
    assert c.request("GET", "/v1/info", authorization=used).status == 200
    old = agent.worker_pid()
    os.kill(old, signal.SIGKILL)
    wait_new_worker(agent, old)
    wait_api(agent)
    r = c.request("GET", "/v1/info", authorization=used)
    assert r.status == 401
    ev = agent.events("auth_failure")
    assert ev and ev[-1]["reason"] == "replayed_nonce"
    assert c.request("GET", "/v1/info", authorization=fresh).status == 200


def test_seccomp_kills_worker_on_forbidden_syscall(session):
    a = session.agent(hooks=True, name="hooks")
    a.expect_worker_deaths = True
    f = a.inject(duration=15, load=10, cores=1)
    old = a.worker_pid()
    hook = {"X-Chaos-Test-Hook": "forbidden-syscall"}
    # Unsigned, the hook is never reached.
    r = cc.send_raw(a.port, "GET", "/v1/info", headers=hook)
    assert r.status == 401
    assert a.worker_pid() == old
    # Signed: the worker calls socket(2) and the filter kills it.
    with pytest.raises((ConnectionError, OSError)) as ei:
        r = a.client.get("/v1/info", headers=hook)
        pytest.fail("the worker answered %r after a forbidden syscall" % r)
    print("client saw: %r" % ei.value)
    a.wait_message("worker %d killed by signal 31 (SYS)" % old)
    assert a.messages("test hook: calling socket(2)")
    assert not a.messages("socket(2) returned"), "the sandbox let socket(2) through"
    # Generous on a busy machine: that it restarts is tested here, not how fast.
    new = wait_new_worker(a, old, timeout=30)
    a.wait_message("worker %d started" % new, timeout=30)
    wait_api(a)
    assert a.client.fault(f["id"])["state"] == "active"
    assert set(our_burners()) == set(f["detail"]["burner_pids"])
    assert a.client.metrics()["chaos_agent_worker_restarts_total"] == 1
    assert a.alive()


def test_repeated_worker_deaths_back_off_but_recover(session):
    a = session.agent(hooks=True, name="hooks-burst")
    a.expect_worker_deaths = True
    hook = {"X-Chaos-Test-Hook": "forbidden-syscall"}
    for i in range(6):
        wait_api(a, timeout=5)
        with pytest.raises((ConnectionError, OSError)):
            a.client.get("/v1/info", headers=hook)
    a.wait_message("worker restarting too often")
    wait_api(a, timeout=5)
    assert a.client.metrics()["chaos_agent_worker_restarts_total"] == 6
    assert len(a.messages("killed by signal 31")) == 6


# ------------------------------------------------------------ start-up checks


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(session, tmp_path, mode):
    os.chmod(session.keyfile, mode)
    r = run_agent("--listen", "127.0.0.1:0", "--key-file", session.keyfile,
                  "--state-dir", str(tmp_path / "st"))
    assert r.returncode != 0
    msg = "must be owned by uid 0 and not accessible by group or others (mode %03o" % mode
    assert msg in r.stderr, r.stderr
    assert '"event":"listening"' not in r.stderr
    line = json.loads(r.stderr.strip().splitlines()[-1])
    assert line["level"] == "error" and session.keyfile in line["msg"]
    r = run_agent("-n", "--key-file", session.keyfile, "--state-dir", str(tmp_path / "st"))
    assert r.returncode != 0 and msg in r.stderr
    os.chmod(session.keyfile, 0o600)


def test_key_file_owned_by_someone_else_is_refused(session, tmp_path, nobody_uid):
    os.chown(session.keyfile, nobody_uid, -1)
    r = run_agent("-n", "--key-file", session.keyfile)
    assert r.returncode != 0 and "must be owned by uid 0" in r.stderr


@pytest.mark.parametrize("content,why", [
    ("", "no key found"),
    ("# only a comment\n", "no key found"),
    ("k1 abcd\n", "key must be 32 to 64 bytes"),
    ("k1\n", "expected '<key-id> <hex key>'"),
    ("bad!id " + "00" * 32 + "\n", "key id must be"),
    ("k1 " + "zz" * 32 + "\n", "not hex"),
    ("k1 " + "00" * 32 + "\nk1 " + "11" * 32 + "\n", "duplicate key id"),
])
def test_bad_key_file_contents(tmp_path, content, why):
    p = tmp_path / "bad.key"
    p.write_text(content)
    os.chmod(p, 0o600)
    r = run_agent("-n", "--key-file", p)
    assert r.returncode != 0
    assert why in r.stderr, r.stderr


def test_check_mode(keyfile, tmp_path):
    r = run_agent("-n", "--key-file", keyfile, "--listen", "127.0.0.1:0",
                  "--set", "max_duration=60")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "configuration OK (1 key, listen 127.0.0.1:0)"
    # A configuration file, with the command line winning over it.
    conf = tmp_path / "agent.conf"
    conf.write_text("# test\nmax_faults = 4\n  listen = 127.0.0.1:9999  \nkey_file=%s\n"
                    % keyfile)
    r = run_agent("-c", conf, "--print-config", "--set", "max_faults=5")
    assert r.returncode == 0, r.stderr
    cfg = dict(l.split(" = ", 1) for l in r.stdout.strip().splitlines())
    assert cfg["max_faults"] == "5" and cfg["listen"] == "127.0.0.1:9999"
    assert cfg["max_duration"] == "3600" and cfg["user"] == "nobody"
    r = run_agent("-n", "-c", conf)
    assert r.returncode == 0 and "listen 127.0.0.1:9999" in r.stdout


@pytest.mark.parametrize("args,why", [
    (["--set", "max_duration=0"], "max_duration: '0' is not an integer from 1 to 43200"),
    (["--set", "max_duration=43201"], "max_duration"),
    (["--set", "max_faults=65"], "max_faults"),
    (["--set", "max_body=100"], "max_body"),
    (["--set", "auth_window=4"], "auth_window"),
    (["--set", "nonce_cache=64", "--set", "auth_window=60"], "nonce_cache"),
    (["--set", "log_level=loud"], "log_level"),
    (["--set", "colour=blue"], "unknown key 'colour'"),
    (["--set", "novalue"], "expected KEY=VALUE"),
    (["--set", "state_dir=relative/dir"], "absolute path"),
    (["--set", "user=no-such-user-xyz"], "no such user"),
    (["--set", "user=root"], "is root"),
    (["--key-file", "/nonexistent/key"], "cannot open key file '/nonexistent/key'"),
])
def test_check_mode_rejects_bad_configuration(keyfile, args, why):
    r = run_agent("-n", "--key-file", keyfile, *args)
    assert r.returncode != 0, r.stdout
    assert why in r.stderr, r.stderr
    assert "configuration OK" not in r.stdout


def test_bad_config_file_names_file_and_line(keyfile, tmp_path):
    conf = tmp_path / "agent.conf"
    conf.write_text("max_faults = 4\n\nmax_duration = forever\n")
    r = run_agent("-n", "-c", conf, "--key-file", keyfile)
    assert r.returncode != 0
    assert "%s:3: max_duration: 'forever' is not an integer" % conf in r.stderr


def test_bad_listen_address(keyfile, tmp_path):
    r = run_agent("--listen", "localhost", "--key-file", keyfile,
                  "--state-dir", str(tmp_path / "st"))
    assert r.returncode != 0 and "is not ADDR:PORT" in r.stderr


# ------------------------------------------------------------ service manager


def test_ready_and_stopping_reach_the_notify_socket(session, tmp_path):
    """Type=notify: READY=1 arrives once the API answers, STOPPING=1 on
    SIGTERM."""
    import socket
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        a = session.agent(env=dict(os.environ, NOTIFY_SOCKET=path), start=False)
        a.start()
        msg = sock.recv(512).decode()
        assert msg.startswith("READY=1\n"), msg
        assert "STATUS=serving on 127.0.0.1:%d" % a.port in msg
        # Ready means answering, for authenticated requests too.
        assert a.client.get("/v1/info").status == 200
        a.signal(signal.SIGTERM)
        msg = sock.recv(512).decode()
        assert msg.startswith("STOPPING=1"), msg
        assert a.wait() == 0
    finally:
        sock.close()


def test_a_bad_notify_socket_is_refused(keyfile, tmp_path):
    r = subprocess.run([AGENT_BIN, "--listen", "127.0.0.1:0", "--key-file", keyfile,
                        "--state-dir", str(tmp_path / "st")], capture_output=True, text=True,
                       timeout=10, env=dict(os.environ, NOTIFY_SOCKET="relative/path"))
    assert r.returncode != 0
    assert "NOTIFY_SOCKET" in r.stderr and "relative/path" in r.stderr, r.stderr
