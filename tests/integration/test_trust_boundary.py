"""The agent's trust boundary, tried as an attacker would with the
independent client: replays across worker and agent restarts, slow clients,
bytes that lenient parsers let through, refusals that must be audited,
percent-encoding, odd key files and configuration checks.

Each test here failed on the agent before these defences existed.
"""

import json
import os
import signal
import subprocess
import time

import pytest

import chaos_client as cc
from conftest import AGENT_BIN, CTL_BIN, our_burners, wait_api, wait_for, wait_no_burners

BURN = {"type": "burn-cpu", "duration": 2, "params": {"load": 10, "cores": 1}}
UNAUTH = {"error": {"code": "unauthenticated", "message": "authentication required"}}


def audits(agent, action=None):
    return [e for e in agent.events("audit") if action is None or e["action"] == action]


def error_message(resp, status):
    assert resp.status == status, resp
    return resp.json()["error"]["message"]


# ------------------------------------------------------------ replays


def replay_all(agent, captured):
    """Replay every captured request; return how many were accepted."""
    accepted = 0
    for cap in captured:
        r = agent.client.replay(cap)
        if r.status != 401:
            accepted += 1
            print("ACCEPTED replay of %s %s: %r" % (cap["method"], cap["path"], r))
        else:
            assert r.json() == UNAUTH
    return accepted


def capture_and_use(agent):
    """Three signed requests, each accepted once: a fault start, a read and
    the kill switch. One is dated as far ahead as the window allows."""
    c = agent.client
    caps = [c.capture("POST", "/v1/faults", body=BURN),
            c.capture("GET", "/v1/faults", {"state": "active"},
                      ts=int(time.time()) + 28),
            c.capture("DELETE", "/v1/faults")]
    assert c.replay(caps[0]).status == 201
    assert c.replay(caps[1]).status == 200
    assert c.replay(caps[2]).status == 200
    wait_no_burners()
    return caps


def test_no_replay_is_accepted_across_worker_restarts(agent):
    agent.expect_worker_deaths = True
    caps = capture_and_use(agent)
    accepted = 0
    restarts = 5
    for _ in range(restarts):
        old = agent.worker_pid()
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: agent.worker_pid() not in (None, old), 5.0, desc="a new worker")
        wait_api(agent)
        accepted += replay_all(agent, caps)
    print("replays accepted after %d worker restarts: %d of %d" % (
        restarts, accepted, restarts * len(caps)))
    assert accepted == 0
    assert our_burners() == {}
    reasons = [e["reason"] for e in agent.events("auth_failure")]
    assert reasons.count("replayed_nonce") == restarts * len(caps)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_no_replay_is_accepted_across_agent_restarts(session, how):
    a = session.agent(name="first")
    caps = capture_and_use(a)
    state_dir = a.state_dir
    accepted = 0
    restarts = 3
    for i in range(restarts):
        if how == "SIGTERM":
            a.stop()
        else:
            a.kill()
        # Restart within the same second as the last accepted request.
        a = session.agent(name="restart%d" % i, state_dir=state_dir)
        accepted += replay_all(a, caps)
        assert a.messages("remembered from the journal"), a.log_text()[-2000:]
    print("replays accepted after %d agent restarts (%s): %d of %d" % (
        restarts, how, accepted, restarts * len(caps)))
    assert accepted == 0
    assert our_burners() == {}
    # A request signed before the restart but never sent is not a replay.
    fresh = a.client.capture("GET", "/v1/info", ts=int(time.time()) - 1)
    assert a.client.replay(fresh).status == 200


def test_a_lost_replay_journal_refuses_what_it_could_have_held(session):
    """Without the journal the agent cannot know which requests it accepted:
    it refuses every request signed up to one window after its start."""
    a = session.agent(name="j1", sets={"auth_window": 5, "nonce_cache": 64})
    cap = a.client.capture("GET", "/v1/info")
    assert a.client.replay(cap).status == 200
    a.stop()
    with open(os.path.join(a.state_dir, "nonces"), "wb") as f:
        f.write(b"garbage, not a journal")
    t0 = time.time()
    b = session.agent(name="j2", state_dir=a.state_dir,
                      sets={"auth_window": 5, "nonce_cache": 64})
    assert b.messages("replay journal") and b.messages("unreadable")
    assert os.path.exists(os.path.join(b.state_dir, "nonces.corrupt"))
    r = b.client.replay(cap)
    assert r.status == 401
    assert b.events("auth_failure")[-1]["reason"] == "timestamp_before_agent_start"
    r = b.client.get("/v1/info")
    assert r.status == 401
    # Once the window has passed since the start, new requests work again.
    wait_for(lambda: b.client.get("/v1/info").status == 200, 10.0, interval=0.5,
             desc="requests signed after the window to pass")
    print("a lost journal refused requests for %.1f s" % (time.time() - t0))


def test_the_kill_switch_works_with_a_full_nonce_cache(session):
    a = session.agent(sets={"auth_window": 5, "nonce_cache": 64})
    f = a.inject(duration=20, load=10, cores=1)
    # 63 more signed reads fill the cache of 64.
    for _ in range(63):
        assert a.client.get("/v1/faults").status == 200
    r = a.client.get("/v1/faults")
    assert r.status == 401
    assert a.events("auth_failure")[-1]["reason"] == "nonce_cache_full"
    r = a.client.create(**{k: v for k, v in BURN.items() if k != "type"})
    assert r.status == 401
    # Reverts are safe to repeat: they go through.
    r = a.client.delete("/v1/faults/" + f["id"])
    assert r.status == 200 and r.json()["state"] == "reverted"
    r = a.client.delete("/v1/faults")
    assert r.status == 200, r
    assert a.messages("nonce cache full")
    wait_no_burners()


# ------------------------------------------------------------ slow clients


def signed_delete_all_seconds(agent, tries=5, connect_delay=0.0):
    times = []
    for _ in range(tries):
        t0 = time.monotonic()
        r = agent.client.delete("/v1/faults", timeout=10.0, connect_delay=connect_delay)
        times.append(time.monotonic() - t0)
        assert r.status == 200, r
        time.sleep(0.2)
    return times


@pytest.fixture
def many_fds():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_slow_clients_from_four_addresses_do_not_lock_anyone_out(agent, many_fds):
    """64 connections from 4 addresses trickling a header line every 2 s used
    to take every slot for as long as they trickled."""
    slow = cc.SlowClients(agent.port, 64, interval=2.0)
    slow._source = lambda i: "127.78.0.%d" % (1 + i % 4)
    slow.start()
    try:
        time.sleep(1.0)
        times = signed_delete_all_seconds(agent)
    finally:
        slow.stop()
    print("signed DELETE /v1/faults under 64 slow connections: max %.3f s" % max(times))
    assert max(times) < 2.0


def test_a_thousand_slow_clients_cannot_delay_the_kill_switch(session, many_fds):
    a = session.agent(sets={"request_timeout": 5})
    f = a.inject(duration=30, load=10, cores=1)
    slow = cc.SlowClients(a.port, 1000, interval=2.0).start()
    try:
        time.sleep(2.5)
        assert slow.opened >= 1000
        times = signed_delete_all_seconds(a)
        # Long enough for every slow request to pass its deadline.
        time.sleep(4.0)
        times += signed_delete_all_seconds(a)
        assert a.client.fault(f["id"])["state"] == "reverted"
        closed, opened = slow.closed, slow.opened
    finally:
        slow.stop()
    time.sleep(1.2)      # the worker reports its counts once a second
    m = a.client.metrics()
    evicted = m['chaos_agent_connections_cut_total{reason="evicted"}']
    timed_out = m['chaos_agent_connections_cut_total{reason="request_timeout"}']
    print("1000 slow clients: signed DELETE /v1/faults took max %.3f s, median %.3f s; "
          "the clients saw %d of %d connections cut; the agent counts %d evicted, "
          "%d past request_timeout" % (max(times), sorted(times)[len(times) // 2],
                                       closed, opened, evicted, timed_out))
    assert max(times) < 2.0, times
    # Every slow connection beyond the 64 slots was cut (reconnecting, the
    # attackers evict each other long before any deadline).
    assert closed >= 1000 - 64, (closed, opened)
    assert evicted + timed_out >= closed, (evicted, timed_out, closed)
    wait_no_burners()


def test_a_caller_on_a_slow_link_keeps_its_slot_among_a_thousand_slow_clients(
        session, many_fds):
    """A caller whose request arrives 200 ms after it connected (a long
    round trip) used to be the oldest connection, and evicted, within a
    few milliseconds of a flood of slow clients that reconnect when cut.
    Their addresses now carry strikes, and they evict each other."""
    a = session.agent(sets={"request_timeout": 5})
    f = a.inject(duration=30, load=10, cores=1)
    slow = cc.SlowClients(a.port, 1000, interval=2.0).start()
    try:
        time.sleep(2.5)
        assert slow.opened >= 1000
        times = signed_delete_all_seconds(a, tries=10, connect_delay=0.2)
        assert a.client.fault(f["id"])["state"] == "reverted"
        closed = slow.closed
    finally:
        slow.stop()
    print("1000 slow clients, %d cut: signed DELETE /v1/faults sent 200 ms after "
          "connecting took max %.3f s" % (closed, max(times)))
    # The flood really churned: the slow clients kept evicting each other.
    assert closed >= 1000 - 64, closed
    assert max(times) < 2.2, times
    wait_no_burners()


def test_a_request_must_arrive_whole_within_request_timeout(session):
    """libmicrohttpd's idle timeout restarts with every byte; the whole
    request has its own deadline."""
    a = session.agent(sets={"request_timeout": 2, "conn_timeout": 60})
    slow = cc.SlowClients(a.port, 3, interval=0.3).start()
    try:
        t0 = time.monotonic()
        wait_for(lambda: slow.closed >= 3, 6.0, interval=0.05,
                 desc="the slow requests to be cut")
        took = time.monotonic() - t0
    finally:
        slow.stop()
    print("3 slow requests (a header line every 0.3 s) cut after %.2f s "
          "(request_timeout 2 s)" % took)
    assert 1.5 <= took <= 4.0
    time.sleep(1.2)
    assert a.client.metrics()['chaos_agent_connections_cut_total{reason="request_timeout"}'] >= 3


# ------------------------------------------------------------ strict JSON


@pytest.mark.parametrize("raw,field", [
    (b'{"type":"pause-container","duration":5,"target":{"family":"web\\u0000;id"}}',
     "target.family: holds a NUL"),
    (b'{"type":"kill-process","params":{"name":"victim\\u0000;rm -rf /"}}',
     "params.name: holds a NUL"),
    (b'{"type":"burn-cpu\\u0000;x","duration":5}', "type: holds a NUL"),
    (b'{"type":"burn-cpu","duration":5,"labels":{"run":"a\\u0000b"}}',
     "labels.run: holds a NUL"),
    (b'{"type":"burn-cpu","duration":5,"labels":{"run":"a\x00b"}}',
     "labels.run: holds a NUL byte"),
    (b'{"type":"burn-cpu","duration":5,"labels":{"run":"caf\xc3"}}',
     "labels.run: not valid JSON: invalid UTF-8"),
    (b'{"type":"burn-cpu","duration":5,"labels":{"run":"\xff\xfe"}}',
     "labels.run: not valid JSON: invalid UTF-8"),
    (b'{"type":"burn-cpu","duration":5}garbage', "unexpected data after the value"),
    (b'{"type":"burn-cpu","duration":5}{"type":"burn-cpu","duration":5}',
     "send exactly one value"),
    (b'\xef\xbb\xbf{"type":"burn-cpu","duration":5}', "byte order mark"),
    (b'{"type":"burn-cpu","duration":05}', "duration: not valid JSON: numbers must not "
     "have leading zeros"),
    (b'{"type":"burn-cpu","duration":5,"labels":{"run":"a\tb"}}',
     "labels.run: not valid JSON: raw control character"),
    (b'{"type":"burn-cpu","duration":5,"params":null}', "params: must be an object"),
    (b'{"type":"burn-cpu","duration":5,"target":null}', "target: must be an object"),
    (b'{"type":"burn-cpu","duration":5,"labels":null}', "labels: must be an object"),
    (b'{"type":"burn-cpu","duration":5,"client_id":null}', "client_id: must be"),
])
def test_strings_and_json_that_lenient_parsers_let_through_are_refused(agent, raw, field):
    r = agent.client.post("/v1/faults", raw)
    msg = error_message(r, 400)
    assert field in msg, msg
    assert r.json()["error"]["code"] == "invalid_argument"
    # Nothing started, and what the agent says stays valid JSON.
    assert agent.client.faults() == []
    assert our_burners() == {}


def test_listing_stays_valid_json_for_python_and_chaosctl(agent, chaosctl):
    """Invalid UTF-8 used to be stored and echoed raw, after which neither
    GET /v1/faults nor chaosctl's JSON output parsed."""
    r = agent.client.post("/v1/faults", b'{"type":"burn-cpu","duration":2,'
                          b'"params":{"load":5,"cores":1},"labels":{"x":"\xc3\x28"}}')
    assert r.status == 400
    r = agent.client.post("/v1/faults", b'{"type":"burn-cpu","duration":2,'
                          b'"params":{"load":5,"cores":1},"labels":{"x":"caf\xc3\xa9 \\u00e9"}}')
    assert r.status == 201, r
    body = agent.client.get("/v1/faults").body
    doc = json.loads(body.decode("utf-8"))
    assert doc["faults"][0]["labels"]["x"] == "caf\u00e9 \u00e9"
    out = chaosctl("faults", "--output", "json")
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)
    assert agent.client.delete("/v1/faults").status == 200
    wait_no_burners()


# ------------------------------------------------------------ audit of refusals


def test_every_signed_refusal_is_audited(agent):
    c = agent.client
    cases = [
        (c.post("/v1/faults", {"type": "burn-cpu", "duration": 0}), 400, "POST",
         "/v1/faults"),
        (c.post("/v1/faults", b"{not json"), 400, "POST", "/v1/faults"),
        (c.request("PUT", "/v1/faults", body={"type": "burn-cpu"}), 405, "PUT",
         "/v1/faults"),
        (c.request("POST", "/v1/faults/f-0123456789abcdef", body={}), 405, "POST",
         "/v1/faults/f-0123456789abcdef"),
        (c.request("DELETE", "/v1/nothing"), 404, "DELETE", "/v1/nothing"),
        (c.request("DELETE", "/v1/faults", query={"x": "1"}), 400, "DELETE", "/v1/faults"),
        (c.request("DELETE", "/v1/faults/f-0123456789abcdef"), 404, "DELETE",
         "/v1/faults/f-0123456789abcdef"),
    ]
    refused = [e for e in audits(agent) if e["status"] >= 400]
    assert len(refused) == len(cases), refused
    for (resp, status, method, path), ev in zip(cases, refused):
        assert resp.status == status, resp
        assert ev["status"] == status
        assert ev["key_id"] == agent.keyid and ev["remote"] == "127.0.0.1"
        if ev["action"] == "request_refused":
            assert (ev["method"], ev["path"]) == (method, path)
        assert ev.get("error")
    # Unsigned refusals are not someone's attempt to act: no audit line.
    n = len(audits(agent))
    assert cc.send_raw(agent.port, "PUT", "/v1/faults").status == 405
    assert cc.send_raw(agent.port, "DELETE", "/v1/nothing").status == 404
    assert len(audits(agent)) == n
    # Reads are not audited, refused or not.
    assert c.get("/v1/faults", {"state": "bogus"}).status == 400
    assert len(audits(agent)) == n


# ------------------------------------------------------------ the raw request


def test_percent_encoding_is_refused_not_decoded(agent):
    c = agent.client
    # Signed over the raw path, as a client must: 404, not 401.
    r = c.request("GET", "/v1/fault%73")
    assert r.status == 404, r
    r = c.request("GET", "/v1/faults/f-0123456789abcde%66")
    assert r.status == 404, r
    r = c.request("GET", "/v1/faults", send_query="state=act%69ve",
                  sign_query="state=act%69ve")
    assert r.status == 400, r
    r = c.request("GET", "/v1/faults", send_query="state=a+b", sign_query="state=a+b")
    assert r.status == 400, r
    assert agent.events("auth_failure") == []


def test_two_authorization_headers_are_refused(agent):
    c = agent.client
    good = c.authorization("GET", "/v1/info")
    other = c.authorization("GET", "/v1/info")
    raw = ("GET /v1/info HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
           "Authorization: %s\r\n\r\n" % (good, other)).encode()
    r = cc.send_bytes(agent.port, raw)
    assert r.status == 401
    assert agent.events("auth_failure")[-1]["reason"] == "duplicate_authorization"


@pytest.mark.parametrize("tamper", ["ts_plus", "ts_zero", "upper_sig", "upper_nonce"])
def test_only_the_canonical_spelling_of_header_values_is_accepted(agent, tamper):
    c = agent.client
    ts, nonce, keyid, sig = c.sign_parts("GET", "/v1/info")
    ts_text = {"ts_plus": "+%d" % ts, "ts_zero": "0%d" % ts}.get(tamper, str(ts))
    if tamper == "upper_sig":
        sig = sig.upper()
    if tamper == "upper_nonce":
        nonce = nonce.upper()
    authz = "CHAOS-HMAC-SHA256 keyid=%s, ts=%s, nonce=%s, sig=%s" % (keyid, ts_text,
                                                                     nonce, sig)
    r = c.request("GET", "/v1/info", authorization=authz)
    assert r.status == 401
    assert agent.events("auth_failure")[-1]["reason"] == "malformed_authorization"


# ------------------------------------------------------------ files and -n


def test_a_fifo_as_key_file_is_refused_at_once(tmp_path):
    fifo = str(tmp_path / "key.fifo")
    os.mkfifo(fifo, 0o600)
    t0 = time.monotonic()
    r = subprocess.run([AGENT_BIN, "-n", "--key-file", fifo], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0 and "not a regular file" in r.stderr, r.stderr
    r = subprocess.run([CTL_BIN, "--key-file", fifo, "--agent", "http://127.0.0.1:9",
                        "info"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "not a regular file" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("listen", ["8421", ":8421", "localhost:8421", "127.0.0.1:99999",
                                    "[::1]8421", "127.0.0.1:", "1.2.3:8421"])
def test_check_mode_refuses_what_a_start_refuses(keyfile, listen):
    r = subprocess.run([AGENT_BIN, "-n", "--key-file", keyfile, "--listen", listen],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0, r.stdout
    assert "listen" in r.stderr and listen in r.stderr, r.stderr
    # And a start refuses it the same way.
    r2 = subprocess.run([AGENT_BIN, "--key-file", keyfile, "--listen", listen,
                         "--state-dir", "/tmp/chaos-check-%d" % os.getpid()],
                        capture_output=True, text=True, timeout=10)
    assert r2.returncode != 0
    assert json.loads(r2.stderr.splitlines()[-1])["msg"] == \
        json.loads(r.stderr.splitlines()[-1])["msg"]


def test_check_mode_checks_the_user_and_state_dir(keyfile, tmp_path):
    r = subprocess.run([AGENT_BIN, "-n", "--key-file", keyfile, "--set",
                        "user=no-such-user-here"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0 and "no-such-user-here" in r.stderr, r.stderr
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    r = subprocess.run([AGENT_BIN, "-n", "--key-file", keyfile, "--state-dir",
                        str(open_dir)], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "state_dir" in r.stderr, r.stderr
    r = subprocess.run([AGENT_BIN, "-n", "--key-file", keyfile, "--state-dir",
                        str(tmp_path / "new")], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(tmp_path / "new")     # -n changes nothing


# ------------------------------------------------------------ dry runs


def test_a_dry_run_makes_every_check_a_start_makes(session):
    a = session.agent()
    victim = subprocess.Popen(["sleep", "60"])
    try:
        def dry(params):
            return a.client.create("kill-process", params=params, dry_run=True)

        for params, status, needle in [
                ({"pid": 1}, 400, "pid 1 (init) is never signalled"),
                ({"pid": a.pid}, 400, "the chaos-agent itself"),
                ({"pid": 4194000}, 404, "no process 4194000"),
                ({"name": "no-such-process-x"}, 404, "no process is named"),
                ({}, 400, "give exactly one of name and pid")]:
            r = dry(params)
            assert r.status == status, (params, r)
            assert needle in r.json()["error"]["message"], r
        r = dry({"pid": victim.pid})
        assert r.status == 200, r
        doc = r.json()
        assert doc["dry_run"] is True
        assert [v["pid"] for v in doc["detail"]["victims"]] == [victim.pid]
        assert victim.poll() is None          # nothing was signalled
        # burn-cpu plans its CPUs and starts no burner.
        r = a.client.create("burn-cpu", duration=5, params={"cores": 1, "load": 50},
                            dry_run=True)
        assert r.status == 200, r
        assert len(r.json()["detail"]["cpus"]) == 1
        assert our_burners() == {}
        r = a.client.create("burn-cpu", duration=5, params={"cores": 999},
                            dry_run=True)
        assert r.status == 400 and "params.cores" in r.json()["error"]["message"]
        # Every dry run was audited, refused or not; none is listed as a fault.
        dries = audits(a, "fault_dry_run")
        assert [d["status"] for d in dries] == [400, 400, 404, 404, 400, 200, 200, 400]
        assert a.client.faults() == []
    finally:
        victim.kill()
        victim.wait()


# ------------------------------------------------------------ kill-process


def test_kill_process_spares_every_chaos_kit_process(session):
    """One agent's kill-process must not hit another agent or its burners."""
    a = session.agent(name="a")
    b = session.agent(name="b")
    f = a.inject(duration=20, load=10, cores=1)
    burner = f["detail"]["burner_pids"][0]
    for params in ({"name": "chaos-burn", "all": True}, {"pid": burner},
                   {"name": "chaos-agent", "all": True}, {"pid": a.pid},
                   {"pid": a.worker_pid()}):
        r = b.client.create("kill-process", params=params)
        assert r.status == 400, (params, r)
        msg = r.json()["error"]["message"]
        # Agent b's own processes are refused for that reason first.
        assert "chaos-kit process" in msg or "chaos-agent's own" in msg, r
        if params.get("name") == "chaos-burn" or params.get("pid") in (burner, a.pid):
            assert "chaos-kit process" in msg, r
    assert burner in our_burners()
    assert a.alive() and a.client.get("/v1/info").status == 200
    assert a.client.fault(f["id"])["state"] == "active"


# ------------------------------------------------------------ the sandbox's argument rules


@pytest.mark.parametrize("hook,call", [("tgkill-parent", "tgkill(2)"),
                                       ("setsockopt-other", "setsockopt(2)")])
def test_seccomp_argument_rules_kill_the_worker(session, hook, call):
    """tgkill only to the worker itself, setsockopt only for the options
    libmicrohttpd sets: anything else kills the worker."""
    a = session.agent(hooks=True, name="hooks")
    a.expect_worker_deaths = True
    old = a.worker_pid()
    with pytest.raises((ConnectionError, OSError)):
        a.client.get("/v1/info", headers={"X-Chaos-Test-Hook": hook})
    a.wait_message("worker %d killed by signal 31 (SYS)" % old)
    assert not a.messages("%s returned" % call), "the sandbox let %s through" % call
    wait_for(lambda: a.worker_pid() not in (None, old), 5.0, desc="a new worker")
    wait_api(a)


# ------------------------------------------------------------ capabilities

# The kept set (common/caps.c, docs/security.md): KILL, SETGID, SETUID,
# SETPCAP, NET_ADMIN, SYS_PTRACE, SYS_ADMIN.
KEPT = (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 12) | (1 << 19) | (1 << 21)


def caps(pid):
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_each_process_keeps_only_the_capabilities_it_needs(agent):
    f = agent.inject(duration=20, load=5, cores=1)
    burner = f["detail"]["burner_pids"][0]
    # A burner drops its capabilities as it starts: wait for that to happen.
    wait_for(lambda: caps(burner)["CapBnd"] == 0, 5.0, desc="the burner to drop")
    parent, worker = caps(agent.pid), caps(agent.worker_pid())
    for name, pid in (("parent", agent.pid), ("worker", agent.worker_pid()),
                      ("burner", burner)):
        print("%-7s %s" % (name, " ".join("%s=%016x" % kv for kv in caps(pid).items())))
    assert parent["CapBnd"] == KEPT and parent["CapPrm"] == KEPT
    assert parent["CapEff"] == KEPT and parent["CapInh"] == 0 and parent["CapAmb"] == 0
    for pid in (agent.worker_pid(), burner):
        assert caps(pid) == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0,
                             "CapAmb": 0}
    assert worker["CapBnd"] == 0
    assert agent.client.delete("/v1/faults").status == 200


def test_a_withheld_capability_disables_its_faults_not_the_agent(session):
    """A service manager or container may withhold a capability the table
    lists (nspawn keeps CAP_NET_ADMIN from a container on the host's
    network): the agent starts, says so, and reports those faults
    unavailable."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    def drop_net_admin():
        if libc.prctl(24, 12, 0, 0, 0) != 0:     # PR_CAPBSET_DROP, CAP_NET_ADMIN
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")

    a = session.agent(start=False, name="nonetadmin")
    a.proc = None
    real_popen = subprocess.Popen

    def popen(*args, **kw):
        kw["preexec_fn"] = drop_net_admin
        return real_popen(*args, **kw)
    subprocess.Popen = popen
    try:
        a.start()
    finally:
        subprocess.Popen = real_popen
    assert a.messages("capability CAP_NET_ADMIN is not available")
    assert caps(a.pid)["CapEff"] == KEPT & ~(1 << 12)
    info = a.client.get("/v1/info").json()
    lat = [c for c in info["capabilities"] if c["type"] == "latency"][0]
    assert lat["available"] is False and "CAP_NET_ADMIN" in lat["reason"], lat
    burn = [c for c in info["capabilities"] if c["type"] == "burn-cpu"][0]
    assert burn["available"] is True
