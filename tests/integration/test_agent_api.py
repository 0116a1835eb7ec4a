"""The agent's HTTP API (docs/protocol.md), driven with the independent
client: endpoints, status codes, JSON error shapes, limits and the audit
lines each mutating request leaves.
"""

import json
import os
import re
import signal
import socket
import time

import pytest

import chaos_client as cc
from conftest import (ROOT, established, our_burners, parse_ts, wait_for, wait_no_burners,
                      wait_our_burners)

ID_RE = re.compile(r"^f-[0-9a-f]{16}$")


def error_of(resp, status, code):
    assert resp.status == status, resp
    assert resp.headers["content-type"] == "application/json"
    doc = resp.json()
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == code, doc
    return doc["error"]["message"]


def audits(agent, action=None):
    return [e for e in agent.events("audit") if action is None or e["action"] == action]


# ------------------------------------------------------------ read endpoints


def test_health(agent):
    r = cc.send_raw(agent.port, "GET", "/v1/health")
    assert r.status == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["content-type"] == "application/json"
    assert r.headers.get("cache-control") == "no-store"


def test_info(session):
    a = session.agent(sets={"max_duration": 77, "max_faults": 3, "max_body": 4096,
                            "auth_window": 45, "nonce_cache": 1000})
    r = a.client.get("/v1/info")
    assert r.status == 200, r
    info = r.json()
    with open(os.path.join(ROOT, "VERSION")) as f:
        assert info["version"] == f.read().strip()
    assert info["hostname"] == socket.gethostname()
    assert isinstance(info["uptime_s"], (int, float)) and 0 <= info["uptime_s"] < 30
    assert info["limits"] == {"max_duration": 77, "max_faults": 3, "max_body": 4096,
                              "auth_window": 45}
    caps = {c["type"]: c for c in info["capabilities"]}
    assert caps["burn-cpu"]["available"] is True
    assert caps["burn-cpu"]["revertible"] is True
    assert "reason" not in caps["burn-cpu"]
    assert info["instance"]["available"] is False and info["instance"]["reason"]


def test_targets_without_docker_is_422_with_the_reason(agent):
    r = agent.client.get("/v1/targets")
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "unavailable"
    assert "/nonexistent/docker.sock" in err["message"]
    info = agent.client.get("/v1/info").json()
    assert info["docker"]["available"] is False
    assert "/nonexistent/docker.sock" in info["docker"]["reason"]


def test_metrics_follow_the_requests(agent):
    c = agent.client
    r = c.get("/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    m0 = cc.parse_metrics(r.text)
    for fam in ("chaos_agent_faults", "chaos_agent_faults_started_total",
                "chaos_agent_faults_ended_total", "chaos_agent_requests_total",
                "chaos_agent_auth_failures_total", "chaos_agent_revert_lateness_seconds",
                "chaos_agent_worker_restarts_total"):
        assert "# TYPE %s " % fam in r.text, fam
    assert m0["chaos_agent_worker_restarts_total"] == 0
    assert m0.get('chaos_agent_faults_started_total{type="burn-cpu"}', 0) == 0
    f = agent.inject(duration=5, load=10, cores=1)
    assert c.get("/v1/faults/f-0000000000000000").status == 404
    assert cc.send_raw(agent.port, "GET", "/v1/info").status == 401
    m1 = c.metrics()
    assert m1['chaos_agent_faults_started_total{type="burn-cpu"}'] == 1
    assert m1['chaos_agent_faults{type="burn-cpu",state="active"}'] == 1
    assert m1['chaos_agent_requests_total{status="201"}'] >= 1
    assert m1['chaos_agent_requests_total{status="404"}'] >= 1
    assert m1['chaos_agent_auth_failures_total{reason="missing_authorization"}'] == 1
    assert c.delete("/v1/faults/" + f["id"]).status == 200
    m2 = c.metrics()
    assert m2['chaos_agent_faults{type="burn-cpu",state="active"}'] == 0
    assert m2['chaos_agent_faults_ended_total{type="burn-cpu",state="reverted"}'] == 1


# ------------------------------------------------------------ fault life cycle


def test_create_get_list_delete(agent):
    c = agent.client
    t0 = time.time()
    r = c.create(duration=4, params={"load": 10, "cores": 1},
                 labels={"experiment": "cpu-stress", "team": "x"})
    t1 = time.time()
    assert r.status == 201, r
    f = r.json()
    assert ID_RE.match(f["id"]), f
    assert f["type"] == "burn-cpu" and f["state"] == "active"
    assert f["duration"] == 4
    assert f["params"] == {"load": 10, "cores": 1}
    assert f["target"] == {"kind": "host"}
    assert f["labels"] == {"experiment": "cpu-stress", "team": "x"}
    assert f["ended_at"] is None and f["end_reason"] is None and f["error"] is None
    created, expires = parse_ts(f["created_at"]), parse_ts(f["expires_at"])
    assert t0 - 1 <= created <= t1 + 1
    assert abs(expires - created - 4) < 0.002
    # The clock ran from the deadline's setting to the answer, within the
    # request's own round trip (long on a busy machine).
    assert 4000 - (t1 - t0) * 1000 - 50 <= f["remaining_ms"] <= 4000
    pids = f["detail"]["burner_pids"]
    assert len(pids) == 1 and len(f["detail"]["cpus"]) == 1
    wait_for(lambda: set(our_burners()) == set(pids), 5.0, desc="the burners")

    ev = audits(agent, "fault_start")
    assert len(ev) == 1
    assert ev[0]["fault_id"] == f["id"] and ev[0]["status"] == 201
    assert ev[0]["key_id"] == agent.keyid and ev[0]["remote"] == "127.0.0.1"
    assert ev[0]["params"] == {"load": 10, "cores": 1} and ev[0]["duration"] == 4
    assert ev[0]["state"] == "active" and ev[0]["type"] == "burn-cpu"

    g = c.fault(f["id"])
    assert g["id"] == f["id"] and g["state"] == "active"
    assert g["remaining_ms"] <= f["remaining_ms"]
    assert [x["id"] for x in c.faults()] == [f["id"]]
    assert [x["id"] for x in c.faults("active")] == [f["id"]]
    assert c.faults("reverted") == [] and c.faults("expired") == []

    r = c.delete("/v1/faults/" + f["id"])
    assert r.status == 200, r
    d = r.json()
    assert d["id"] == f["id"] and d["state"] == "reverted" and d["end_reason"] == "delete"
    assert d["ended_at"] is not None and "remaining_ms" not in d
    wait_no_burners(1.0)
    ends = audits(agent, "fault_end")
    assert len(ends) == 1 and ends[0]["fault_id"] == f["id"]
    assert ends[0]["state"] == "reverted" and ends[0]["key_id"] == agent.keyid

    # Idempotent: the same answer again, nothing else happens.
    r2 = c.delete("/v1/faults/" + f["id"])
    assert r2.status == 200 and r2.json()["state"] == "reverted"
    assert r2.json()["ended_at"] == d["ended_at"]
    assert len(audits(agent, "fault_end")) == 1
    assert [x["id"] for x in c.faults("reverted")] == [f["id"]]
    assert c.faults("active") == []


def test_defaults_are_filled_in(agent):
    c = agent.client
    r = c.create(duration=2, params={"cores": 1})
    assert r.status == 201, r
    assert r.json()["params"] == {"load": 100, "cores": 1}
    c.delete("/v1/faults/" + r.json()["id"])
    # No params at all: load 100 on every online core.
    r = c.create(duration=2)
    assert r.status == 201, r
    f = r.json()
    assert f["params"] == {"load": 100, "cores": 0}
    assert len(f["detail"]["burner_pids"]) == len(os.sched_getaffinity(0))
    assert c.delete("/v1/faults").json() == {"reverted": [f["id"]]}
    wait_no_burners(1.0)


def test_revert_all(agent):
    c = agent.client
    ids = [agent.inject(duration=5, load=5, cores=1)["id"] for _ in range(3)]
    wait_our_burners(3)
    r = c.delete("/v1/faults")
    assert r.status == 200, r
    assert sorted(r.json()["reverted"]) == sorted(ids)
    wait_no_burners(1.0)
    for f in c.faults():
        assert f["state"] == "reverted" and f["end_reason"] == "delete_all"
    assert len(audits(agent, "fault_revert_all")) == 1
    assert len(audits(agent, "fault_end")) == 3
    # Nothing left: an empty list, still 200.
    r = c.delete("/v1/faults")
    assert r.status == 200 and r.json() == {"reverted": []}


def test_unknown_fault_id_is_404(agent):
    c = agent.client
    msg = error_of(c.get("/v1/faults/f-0123456789abcdef"), 404, "not_found")
    assert "fault" in msg
    error_of(c.delete("/v1/faults/f-0123456789abcdef"), 404, "not_found")
    ev = audits(agent, "fault_revert")
    assert len(ev) == 1 and ev[0]["status"] == 404
    # Ids that are not fault ids at all are unknown paths.
    for p in ("/v1/faults/xyz", "/v1/faults/f-0123456789ABCDEF", "/v1/faults/f-0123",
              "/v1/faults/", "/v1/faults/f-0123456789abcdef/x"):
        error_of(c.get(p), 404, "not_found")


@pytest.mark.parametrize("method,path,allow", [
    ("PUT", "/v1/faults", "GET, POST, DELETE"),
    ("PATCH", "/v1/faults", "GET, POST, DELETE"),
    ("POST", "/v1/faults/f-0123456789abcdef", "GET, DELETE"),
    ("PUT", "/v1/faults/f-0123456789abcdef", "GET, DELETE"),
    ("POST", "/v1/info", "GET"),
    ("DELETE", "/v1/health", "GET"),
    ("POST", "/metrics", "GET"),
    ("DELETE", "/v1/targets", "GET"),
])
def test_wrong_method_is_405_with_allow(agent, method, path, allow):
    # Signed or not, the route is checked first.
    for resp in (cc.send_raw(agent.port, method, path),
                 agent.client.request(method, path)):
        error_of(resp, 405, "method_not_allowed")
        assert resp.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/", "/v1", "/v2/faults", "/v1/faultsX", "/v1/info/",
                                  "/v1//faults", "/v1/info%20", "/metrics/x"])
def test_unknown_path_is_404(agent, path):
    error_of(agent.client.get(path), 404, "not_found")
    error_of(cc.send_raw(agent.port, "GET", path), 404, "not_found")


# ------------------------------------------------------------ validation

INVALID = [
    # (body, status, code, words the message must contain)
    (b"{", 400, "invalid_argument", ["JSON"]),
    (b"", 400, "invalid_argument", ["JSON"]),
    (b"[1,2]", 400, "invalid_argument", ["body"]),
    (b"\"burn-cpu\"", 400, "invalid_argument", ["body"]),
    ({"duration": 3}, 400, "invalid_argument", ["type", "required"]),
    ({"type": 7, "duration": 3}, 400, "invalid_argument", ["type"]),
    ({"type": "melt-cpu", "duration": 3}, 404, "not_found", ["type", "melt-cpu", "burn-cpu"]),
    ({"type": "burn-cpu"}, 400, "invalid_argument", ["duration", "required"]),
    ({"type": "burn-cpu", "duration": 0}, 400, "invalid_argument", ["duration"]),
    ({"type": "burn-cpu", "duration": -5}, 400, "invalid_argument", ["duration"]),
    ({"type": "burn-cpu", "duration": 1.5}, 400, "invalid_argument", ["duration"]),
    ({"type": "burn-cpu", "duration": "3"}, 400, "invalid_argument", ["duration"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"load": 0}}, 400, "invalid_argument",
     ["params.load", "1..100"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"load": 101}}, 400, "invalid_argument",
     ["params.load", "101", "1..100"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"load": "50"}}, 400, "invalid_argument",
     ["params.load", "integer"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"load": 50.5}}, 400, "invalid_argument",
     ["params.load"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"cores": -1}}, 400, "invalid_argument",
     ["params.cores"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"cores": 1025}}, 400, "invalid_argument",
     ["params.cores", "0..1024"]),
    ({"type": "burn-cpu", "duration": 3, "params": {"turbo": 1}}, 400, "invalid_argument",
     ["params.turbo", "load", "cores"]),
    ({"type": "burn-cpu", "duration": 3, "params": [50]}, 400, "invalid_argument", ["params"]),
    ({"type": "burn-cpu", "duration": 3, "colour": "red"}, 400, "invalid_argument",
     ["colour", "unknown field"]),
    ({"type": "burn-cpu", "duration": 3, "target": {"kind": "container"}}, 400,
     "invalid_argument", ["target", "needs at least one of"]),
    ({"type": "burn-cpu", "duration": 3, "target": {"kind": "moon"}}, 400,
     "invalid_argument", ["target.kind", "moon"]),
    ({"type": "burn-cpu", "duration": 3, "target": {"kind": "host", "id": "x"}}, 400,
     "invalid_argument", ["target.id"]),
    ({"type": "burn-cpu", "duration": 3, "labels": {"a": 1}}, 400, "invalid_argument",
     ["labels.a"]),
    ({"type": "burn-cpu", "duration": 3, "labels": {"bad key": "v"}}, 400,
     "invalid_argument", ["labels", "bad key"]),
    ({"type": "burn-cpu", "duration": 3, "labels": {"k%d" % i: "v" for i in range(17)}},
     400, "invalid_argument", ["labels", "16"]),
    ({"type": "burn-cpu", "duration": 3, "labels": {"k": "a\u0001b"}}, 400,
     "invalid_argument", ["labels.k", "control"]),
    ({"type": "burn-cpu", "duration": 3, "client_id": "has space"}, 400,
     "invalid_argument", ["client_id"]),
    ({"type": "burn-cpu", "duration": 3, "client_id": "x" * 65}, 400, "invalid_argument",
     ["client_id"]),
    ({"type": "burn-cpu", "duration": 3, "client_id": ""}, 400, "invalid_argument",
     ["client_id"]),
    (b'{"type":"burn-cpu","duration":3,"duration":4}', 400, "invalid_argument",
     ["duration", "twice"]),
    (b'{"type":"burn-cpu","duration":3,"params":{"load":5,"load":6}}', 400,
     "invalid_argument", ["params.load", "twice"]),
]


@pytest.mark.parametrize("idx", range(len(INVALID)))
def test_invalid_fault_request(agent, idx):
    body, status, code, words = INVALID[idx]
    r = agent.client.post("/v1/faults", body)
    msg = error_of(r, status, code)
    for w in words:
        assert w in msg, (w, msg)
    assert agent.client.faults() == []
    assert our_burners() == {}
    assert audits(agent, "fault_start") == []  # refused in the worker, before the parent


def test_more_cores_than_online_names_cores(agent):
    n = len(os.sched_getaffinity(0))
    r = agent.client.create(duration=3, params={"load": 10, "cores": n + 1})
    msg = error_of(r, 400, "invalid_argument")
    assert "cores" in msg and str(n) in msg, msg
    assert agent.client.faults() == [] and our_burners() == {}
    ev = audits(agent, "fault_start")
    assert len(ev) == 1 and ev[0]["status"] == 400 and "cores" in ev[0]["error"]


def test_duration_over_max_duration(session):
    a = session.agent(sets={"max_duration": 5})
    msg = error_of(a.client.create(duration=6, params={"load": 5, "cores": 1}), 400,
                   "invalid_argument")
    assert "duration" in msg and "5" in msg
    msg = error_of(a.client.create(duration=43201, params={"load": 5, "cores": 1}), 400,
                   "invalid_argument")
    assert "duration" in msg
    assert a.client.faults() == [] and our_burners() == {}
    r = a.client.create(duration=5, params={"load": 5, "cores": 1})
    assert r.status == 201, r
    a.client.delete("/v1/faults")


def test_bad_query(agent):
    c = agent.client
    msg = error_of(c.get("/v1/faults", {"state": "sleeping"}), 400, "invalid_argument")
    assert "state" in msg
    msg = error_of(c.get("/v1/faults", {"color": "red"}), 400, "invalid_argument")
    assert "state" in msg
    msg = error_of(c.get("/v1/info", {"verbose": "1"}), 400, "invalid_argument")
    assert "query" in msg
    # Characters outside [A-Za-z0-9_.:-] are refused before anything else.
    for raw in ("state=act%20ive", "state=a!b", "state=a%2Fb", "st%20ate=active"):
        error_of(cc.send_raw(agent.port, "GET", "/v1/faults?" + raw), 400,
                 "invalid_argument")
    many = [("p%d" % i, "1") for i in range(9)]
    msg = error_of(c.get("/v1/faults", many), 400, "invalid_argument")
    assert "query" in msg


def test_body_on_bodyless_endpoint(agent):
    c = agent.client
    msg = error_of(c.request("GET", "/v1/info", None, b"{}"), 400, "invalid_argument")
    assert "body" in msg
    f = agent.inject(duration=4, load=5, cores=1)
    # A signed DELETE carrying a body is refused and reverts nothing.
    error_of(c.request("DELETE", "/v1/faults/" + f["id"], None, b"{}"), 400,
             "invalid_argument")
    assert c.fault(f["id"])["state"] == "active"


# ------------------------------------------------------------ limits


def test_body_over_max_body_is_413_before_it_is_read(session):
    a = session.agent(sets={"max_body": 256})
    # Announce a huge body, send none: the agent must answer at once.
    t0 = time.monotonic()
    r = cc.send_bytes(a.port, b"POST /v1/faults HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
                      timeout=5)
    assert time.monotonic() - t0 < 2
    msg = error_of(r, 413, "body_too_large")
    assert "256" in msg
    # Signed, one byte over: 413 as well (and no 401: size comes first).
    body = json.dumps({"type": "burn-cpu", "duration": 2, "params": {"load": 5, "cores": 1}})
    over = body + " " * (257 - len(body))
    error_of(a.client.post("/v1/faults", over.encode()), 413, "body_too_large")
    # Chunked bodies have no length up front: capped while reading.
    chunk = b"x" * 300
    r = cc.send_bytes(a.port, b"POST /v1/faults HTTP/1.1\r\nHost: t\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                      % (len(chunk), chunk), timeout=5)
    error_of(r, 413, "body_too_large")
    assert a.client.faults() == [] and our_burners() == {}
    # Exactly max_body is fine.
    exact = body + " " * (256 - len(body))
    r = a.client.post("/v1/faults", exact.encode())
    assert r.status == 201, r
    a.client.delete("/v1/faults")
    assert a.alive()


def test_max_faults_gives_429(session):
    a = session.agent(sets={"max_faults": 2})
    c = a.client
    f1 = a.inject(duration=5, load=5, cores=1)
    a.inject(duration=5, load=5, cores=1)
    r = c.create(duration=5, params={"load": 5, "cores": 1})
    msg = error_of(r, 429, "too_many_faults")
    assert "max_faults" in msg and "2" in msg
    assert len(c.faults("active")) == 2
    wait_our_burners(2)
    ev = [e for e in audits(a, "fault_start") if e["status"] == 429]
    assert len(ev) == 1
    # Ending one frees a slot.
    assert c.delete("/v1/faults/" + f1["id"]).status == 200
    r = c.create(duration=5, params={"load": 5, "cores": 1})
    assert r.status == 201, r
    c.delete("/v1/faults")


def test_client_id_is_idempotent(agent):
    c = agent.client
    r1 = c.create(duration=5, params={"load": 5, "cores": 1}, client_id="run-42-burn")
    assert r1.status == 201, r1
    r2 = c.create(duration=5, params={"load": 5, "cores": 1}, client_id="run-42-burn")
    assert r2.status == 200, r2
    assert r2.json()["id"] == r1.json()["id"] and r2.json()["client_id"] == "run-42-burn"
    # Even with other parameters, the id names the first fault.
    r3 = c.create(duration=3, params={"load": 50, "cores": 1}, client_id="run-42-burn")
    assert r3.status == 200 and r3.json()["id"] == r1.json()["id"]
    assert r3.json()["params"]["load"] == 5
    assert len(c.faults()) == 1
    wait_our_burners(1)
    assert len(audits(agent, "fault_start_repeat")) == 2
    # Another id is another fault.
    r4 = c.create(duration=3, params={"load": 5, "cores": 1}, client_id="run-43")
    assert r4.status == 201 and r4.json()["id"] != r1.json()["id"]
    wait_our_burners(2)
    c.delete("/v1/faults")
    # After the fault ended the id still names it; nothing new starts.
    r5 = c.create(duration=3, params={"load": 5, "cores": 1}, client_id="run-42-burn")
    assert r5.status == 200 and r5.json()["state"] == "reverted"
    wait_no_burners(1.0)


def test_history_bound(session):
    a = session.agent(sets={"history": 2})
    c = a.client
    ids = []
    for _ in range(4):
        ids.append(a.inject(duration=3, load=5, cores=1)["id"])
        c.delete("/v1/faults/" + ids[-1])
    listed = [f["id"] for f in c.faults()]
    assert listed == ids[-2:], (listed, ids)
    error_of(c.get("/v1/faults/" + ids[0]), 404, "not_found")


def _open_and_idle(sk):
    """True if the server has neither answered nor closed sk."""
    sk.setblocking(False)
    try:
        return sk.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sk.setblocking(True)


def _health_over(sk):
    """Send GET /v1/health on sk and return the answer's first bytes (b""
    when the server closed sk)."""
    sk.sendall(b"GET /v1/health HTTP/1.1\r\nHost: t\r\n\r\n")
    try:
        return sk.recv(1024)
    except ConnectionResetError:
        return b""


def _request_answered(port):
    sk = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        return _health_over(sk)
    finally:
        sk.close()


def test_per_ip_connection_limit_and_idle_timeout(session):
    a = session.agent(sets={"per_ip_limit": 2, "conn_timeout": 2})
    # The client ends the start-up health check's connection. The worker
    # may not have read that end yet; it must not count it against the
    # limit all the same (the next test makes sure of it).
    wait_for(lambda: established(a.port) == 0, 5.0, desc="no open connection")
    idle = [socket.create_connection(("127.0.0.1", a.port)) for _ in range(2)]
    try:
        wait_for(lambda: established(a.port) == 2, 5.0, desc="two accepted connections")
        assert all(_open_and_idle(sk) for sk in idle)
        # A third connection from the same address is closed unanswered.
        assert _request_answered(a.port) == b""
        assert all(_open_and_idle(sk) for sk in idle)
        # With one of the two gone, a request is served again.
        idle[0].close()
        wait_for(lambda: established(a.port) == 1, 5.0, desc="the agent to close one")
        assert _request_answered(a.port).startswith(b"HTTP/1.1 200 ")
        # The remaining idle connection is dropped after conn_timeout.
        sk = idle[1]
        sk.settimeout(5)
        try:
            assert sk.recv(1024) == b""
        except ConnectionResetError:
            pass
    finally:
        for sk in idle:
            sk.close()
    assert a.client.get("/v1/info").status == 200


def test_closed_connection_does_not_count_against_per_ip_limit(session):
    """A client that closes a connection and at once opens per_ip_limit new
    ones is served on all of them, even when the worker learns of the close
    in the same round as of the new connections: the worker is frozen
    (SIGSTOP) meanwhile, as a loaded host would delay it."""
    a = session.agent(sets={"per_ip_limit": 2})
    old = socket.create_connection(("127.0.0.1", a.port), timeout=5)
    try:
        assert _health_over(old).startswith(b"HTTP/1.1 200 ")
        worker = a.worker_pid()
        os.kill(worker, signal.SIGSTOP)
        try:
            old.close()
            new = [socket.create_connection(("127.0.0.1", a.port), timeout=5)
                   for _ in range(2)]
        finally:
            os.kill(worker, signal.SIGCONT)
    finally:
        old.close()
    try:
        answers = [_health_over(sk) for sk in new]
        assert all(r.startswith(b"HTTP/1.1 200 ") for r in answers), answers
    finally:
        for sk in new:
            sk.close()
