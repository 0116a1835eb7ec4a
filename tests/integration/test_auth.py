"""Request authentication against the real agent: every attack is refused
with the documented 401 body, logged as an auth_failure with the right
reason, counted in the metrics, and changes nothing (no fault, no burner).
"""

import hashlib
import os
import re
import time

import pytest

import chaos_client as cc
from conftest import ROOT, our_burners, wait_for, wait_our_burners

UNAUTH = {"error": {"code": "unauthenticated", "message": "authentication required"}}
BODY = {"type": "burn-cpu", "duration": 3, "params": {"load": 20, "cores": 1}}


# ------------------------------------------------------------ the test vector


def test_signing_reproduces_the_docs_test_vector():
    key, kid, ts, nonce = cc.VECTOR_KEY, cc.VECTOR_KEYID, cc.VECTOR_TS, cc.VECTOR_NONCE
    body_hash = hashlib.sha256(cc.VECTOR_POST_BODY).hexdigest()
    assert body_hash.startswith("db12c2f0") and body_hash.endswith("4bb1c9ec")
    post = cc.compute_sig(key, "POST", "/v1/faults", "", ts, nonce, kid, cc.VECTOR_POST_BODY)
    get = cc.compute_sig(key, "GET", "/v1/faults", cc.canonical_query({"state": "active"}),
                         ts, nonce, kid, None)
    assert post == cc.VECTOR_POST_SIG
    assert get == cc.VECTOR_GET_SIG
    # The constants above are the ones the docs publish (no silent drift).
    with open(os.path.join(ROOT, "docs", "protocol.md")) as f:
        doc = f.read()
    published = re.findall(r"\| `([0-9a-f]{64})` \|", doc)
    assert published == [cc.VECTOR_POST_SIG, cc.VECTOR_GET_SIG]
    assert cc.VECTOR_POST_BODY.decode() in doc
    # The exact string to sign of the GET row, line by line.
    assert cc.string_to_sign("GET", "/v1/faults", "state=active", ts, nonce, kid, b"") == (
        "CHAOS-HMAC-SHA256\nGET\n/v1/faults\nstate=active\n1764000000\n"
        "000102030405060708090a0b0c0d0e0f\nops1\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_canonical_query_sorts_by_name_then_value():
    assert cc.canonical_query([("state", "b"), ("a", "2"), ("state", "a")]) == \
        "a=2&state=a&state=b"
    assert cc.canonical_query(None) == ""


def test_independent_client_is_accepted_by_the_agent(agent):
    """Our own signatures (not chaosctl's) authenticate, with and without query."""
    c = agent.client
    r = c.get("/v1/info")
    assert r.status == 200, r
    assert r.json()["limits"]["auth_window"] == 30
    r = c.get("/v1/faults", {"state": "active"})
    assert r.status == 200 and r.json() == {"faults": []}
    # Header layout variations the docs allow: no spaces, any field order.
    r = c.get("/v1/info", header_fmt={"sep": ","})
    assert r.status == 200, r
    r = c.get("/v1/info", header_fmt={"order": ("sig", "nonce", "ts", "keyid")})
    assert r.status == 200, r
    assert agent.events("auth_failure") == []


# ------------------------------------------------------------ helpers


def auth_failures(agent):
    m = agent.client.metrics()
    return {k[len('chaos_agent_auth_failures_total{reason="'):-2]: v
            for k, v in m.items() if k.startswith("chaos_agent_auth_failures_total{")}


def assert_rejected(agent, resp, reason, before_events, method=None, path=None,
                    key_id=None):
    """401 with the uniform body, one more auth_failure line with `reason`."""
    assert resp.status == 401, resp
    assert resp.json() == UNAUTH
    assert resp.headers.get("www-authenticate") == "CHAOS-HMAC-SHA256"
    evs = agent.wait_event("auth_failure")
    new = evs[len(before_events):]
    assert len(new) == 1, new
    ev = new[0]
    assert ev["reason"] == reason, ev
    assert ev["status"] == 401 and ev["level"] == "warn"
    assert ev["remote"] == "127.0.0.1"
    if method:
        assert ev["method"] == method
    if path:
        assert ev["path"] == path
    if key_id is not None:
        assert ev.get("key_id") == key_id
    # Logs never hold signatures or bodies.
    line = [l for l in agent.log_text().splitlines() if '"auth_failure"' in l][-1]
    auth = agent.client.last_authorization or ""
    m = re.search(r"sig=([0-9a-fA-F]{16,})", auth)
    if m:
        assert m.group(1) not in line
    return ev


def assert_nothing_happened(agent):
    assert agent.client.faults() == []
    assert our_burners() == {}
    assert [e for e in agent.events("audit") if e["action"].startswith("fault_start")] == []


# ------------------------------------------------------------ attacks


ATTACKS = {
    # name: (reason, kwargs for Client.request on POST /v1/faults)
    "missing_header": ("missing_authorization", {"authorization": None}),
    "wrong_scheme": ("malformed_authorization", {"header_fmt": {"scheme": "HMAC-SHA256"}}),
    "lowercase_scheme": ("malformed_authorization",
                         {"header_fmt": {"scheme": "chaos-hmac-sha256"}}),
    "bearer": ("malformed_authorization", {"authorization": "Bearer abcdef"}),
    "empty_header": ("malformed_authorization", {"authorization": ""}),
    "unknown_key_id": ("unknown_key_id", {"keyid": "nosuchkey"}),
    "bad_signature": ("bad_signature", {"sig": "0" * 64}),
    "other_key_same_id": ("bad_signature", {"key": os.urandom(32)}),
    "signed_for_other_key_id": ("bad_signature", {"sign_keyid": "other"}),
    "tampered_body": ("bad_signature",
                      {"sign_body": dict(BODY, params={"load": 1, "cores": 1})}),
    "body_signed_empty": ("bad_signature", {"sign_body": b""}),
    "tampered_path": ("bad_signature", {"sign_path": "/v1/faults/f-0000000000000000"}),
    "tampered_method": ("bad_signature", {"sign_method": "GET"}),
    "tampered_query": ("bad_signature", {"sign_query": "state=active"}),
    "signed_ts_differs": ("bad_signature", {"sign_ts": int(time.time()) - 1}),
    "signed_nonce_differs": ("bad_signature", {"sign_nonce": "f" * 32}),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_on_fault_creation_is_refused(agent, name):
    reason, tamper = ATTACKS[name]
    before = agent.events("auth_failure")
    r = agent.client.request("POST", "/v1/faults", None, BODY, **tamper)
    ev = assert_rejected(agent, r, reason, before, method="POST", path="/v1/faults")
    if name == "unknown_key_id":
        assert ev["key_id"] == "nosuchkey"   # the claimed id is logged
    if reason == "missing_authorization" or reason == "malformed_authorization":
        assert "key_id" not in ev
    assert auth_failures(agent).get(reason) == 1
    assert_nothing_happened(agent)


def test_tampered_query_on_list(agent):
    """A signature for ?state=active does not cover ?state=expired."""
    before = agent.events("auth_failure")
    r = agent.client.get("/v1/faults", {"state": "expired"}, sign_query="state=active")
    assert_rejected(agent, r, "bad_signature", before, method="GET", path="/v1/faults")
    before = agent.events("auth_failure")
    # Query added after signing a request that had none.
    r = agent.client.get("/v1/faults", {"state": "active"}, sign_query="")
    assert_rejected(agent, r, "bad_signature", before)


def test_method_swap_cannot_revert_a_fault(agent):
    """A GET signature replayed as DELETE must not revert the fault."""
    f = agent.inject(duration=5, load=10, cores=1)
    path = "/v1/faults/" + f["id"]
    before = agent.events("auth_failure")
    r = agent.client.request("DELETE", path, sign_method="GET")
    assert_rejected(agent, r, "bad_signature", before, method="DELETE", path=path)
    g = agent.client.fault(f["id"])
    assert g["state"] == "active"
    wait_for(lambda: set(our_burners()) == set(f["detail"]["burner_pids"]), 5.0, desc="the burners")
    # Path swap: a signature for another id does not revert this one.
    before = agent.events("auth_failure")
    r = agent.client.request("DELETE", path, sign_path="/v1/faults/f-0123456789abcdef")
    assert_rejected(agent, r, "bad_signature", before)
    assert agent.client.fault(f["id"])["state"] == "active"
    # Send the body-less DELETE with a body the signature does not cover.
    before = agent.events("auth_failure")
    r = agent.client.request("DELETE", "/v1/faults", send_body=b"{}")
    assert r.status in (400, 401), r
    assert agent.client.fault(f["id"])["state"] == "active"
    assert agent.client.delete(path).status == 200


def test_stale_and_future_timestamps(agent):
    now = int(time.time())
    for ts, reason in ((now - 60, "stale_timestamp"), (now + 60, "future_timestamp"),
                       (now - 31 - 2, "stale_timestamp"), (now + 31 + 2, "future_timestamp"),
                       (0, "stale_timestamp"), (99999999999, "future_timestamp")):
        before = agent.events("auth_failure")
        r = agent.client.request("POST", "/v1/faults", None, BODY, ts=ts)
        assert_rejected(agent, r, reason, before)
    fails = auth_failures(agent)
    assert fails["stale_timestamp"] == 3 and fails["future_timestamp"] == 3
    # Inside the window is fine (only the future side: a past ts would
    # predate this fresh agent).
    r = agent.client.get("/v1/info", ts=int(time.time()) + 20)
    assert r.status == 200, r
    assert_nothing_happened(agent)


def test_auth_window_is_configurable(session):
    a = session.agent(sets={"auth_window": 5, "nonce_cache": 64})
    before = a.events("auth_failure")
    r = a.client.get("/v1/info", ts=int(time.time()) + 8)
    assert_rejected(a, r, "future_timestamp", before)
    assert a.client.get("/v1/info", ts=int(time.time()) + 3).status == 200


def test_request_signed_before_agent_started_is_judged_by_its_nonce(session):
    """Within the window and signed before the agent started: accepted if
    its nonce was never used (the replay journal knows every one that was)."""
    signed_at = int(time.time()) - 2
    a = session.agent()
    r = a.client.request("POST", "/v1/faults", None, BODY, ts=signed_at)
    assert r.status == 201, r
    assert a.client.delete("/v1/faults/" + r.json()["id"]).status == 200


def test_replayed_request_is_refused(agent):
    """The exact same request twice: the first works, the second is a replay."""
    c = agent.client
    authz = c.authorization("POST", "/v1/faults", None, BODY)
    r1 = c.request("POST", "/v1/faults", None, BODY, authorization=authz)
    assert r1.status == 201, r1
    before = agent.events("auth_failure")
    r2 = c.request("POST", "/v1/faults", None, BODY, authorization=authz)
    assert_rejected(agent, r2, "replayed_nonce", before, method="POST")
    faults = c.faults()
    assert len(faults) == 1 and faults[0]["id"] == r1.json()["id"]
    wait_our_burners(1)
    assert auth_failures(agent).get("replayed_nonce") == 1
    assert c.delete("/v1/faults/" + r1.json()["id"]).status == 200


def test_replayed_read_and_nonce_reuse_with_new_ts(agent):
    c = agent.client
    nonce = cc.new_nonce()
    ts = int(time.time())
    assert c.get("/v1/faults", nonce=nonce, ts=ts).status == 200
    # Same nonce, a fresh timestamp and a valid signature over both.
    before = agent.events("auth_failure")
    r = c.get("/v1/faults", nonce=nonce, ts=ts + 1)
    assert_rejected(agent, r, "replayed_nonce", before)
    # Same nonce on another endpoint and method.
    before = agent.events("auth_failure")
    r = c.request("POST", "/v1/faults", None, BODY, nonce=nonce)
    assert_rejected(agent, r, "replayed_nonce", before)
    assert_nothing_happened(agent)


def test_rejected_request_does_not_burn_its_nonce(agent):
    """Nonces are remembered only after the MAC verifies: a forged request
    with a victim's nonce cannot block the victim's real request."""
    nonce = cc.new_nonce()
    before = agent.events("auth_failure")
    r = agent.client.get("/v1/info", nonce=nonce, sig="1" * 64)
    assert_rejected(agent, r, "bad_signature", before)
    assert agent.client.get("/v1/info", nonce=nonce).status == 200


MALFORMED = {
    "missing_sig": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s" % (kid, ts, n),
    "missing_keyid": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 ts=%d, nonce=%s, sig=%s" % (ts, n, s),
    "duplicate_ts": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, ts=%d, nonce=%s, sig=%s" % (kid, ts, ts, n, s),
    "unknown_field": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s, x=1" % (kid, ts, n, s),
    "trailing_comma": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s," % (kid, ts, n, s),
    "short_nonce": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s" % (kid, ts, n[:30], s),
    "long_nonce": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s00, sig=%s" % (kid, ts, n, s),
    "nonhex_nonce": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s" % (kid, ts, "g" * 32, s),
    "short_sig": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s" % (kid, ts, n, s[:63]),
    "nonnumeric_ts": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%dx, nonce=%s, sig=%s" % (kid, ts, n, s),
    "negative_ts": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=-%d, nonce=%s, sig=%s" % (kid, ts, n, s),
    "bad_keyid_chars": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s!, ts=%d, nonce=%s, sig=%s" % (kid, ts, n, s),
    "long_keyid": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s" % ("k" * 33, ts, n, s),
    "no_space_after_scheme": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256keyid=%s, ts=%d, nonce=%s, sig=%s" % (kid, ts, n, s),
    "semicolons": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s; ts=%d; nonce=%s; sig=%s" % (kid, ts, n, s),
    "quoted_values": lambda kid, ts, n, s: 'CHAOS-HMAC-SHA256 keyid="%s", ts=%d, nonce=%s, sig=%s' % (kid, ts, n, s),
    "scheme_only": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 ",
    "huge": lambda kid, ts, n, s: "CHAOS-HMAC-SHA256 keyid=%s, ts=%d, nonce=%s, sig=%s" % (kid, ts, n, s + "0" * 3000),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_authorization_header(agent, name):
    c = agent.client
    ts, nonce, kid, sig = c.sign_parts("POST", "/v1/faults", None, BODY)
    before = agent.events("auth_failure")
    r = c.request("POST", "/v1/faults", None, BODY,
                  authorization=MALFORMED[name](kid, ts, nonce, sig))
    assert_rejected(agent, r, "malformed_authorization", before)
    assert_nothing_happened(agent)


def test_health_needs_no_signature_but_everything_else_does(agent):
    r = cc.send_raw(agent.port, "GET", "/v1/health")
    assert r.status == 200 and r.json() == {"status": "ok"}
    for method, path in (("GET", "/v1/info"), ("GET", "/v1/faults"), ("GET", "/metrics"),
                         ("GET", "/v1/targets"), ("DELETE", "/v1/faults"),
                         ("GET", "/v1/faults/f-0123456789abcdef"),
                         ("DELETE", "/v1/faults/f-0123456789abcdef")):
        before = agent.events("auth_failure")
        r = cc.send_raw(agent.port, method, path)
        assert_rejected(agent, r, "missing_authorization", before, method=method, path=path)
    assert auth_failures(agent)["missing_authorization"] == 7


def test_unauthenticated_revert_all_keeps_faults(agent):
    f = agent.inject(duration=5, load=10, cores=1)
    before = agent.events("auth_failure")
    r = agent.client.request("DELETE", "/v1/faults", sig="a" * 64)
    assert_rejected(agent, r, "bad_signature", before)
    assert agent.client.fault(f["id"])["state"] == "active"
    wait_for(lambda: set(our_burners()) == set(f["detail"]["burner_pids"]), 5.0, desc="the burners")
    assert [e for e in agent.events("audit") if e["action"] == "fault_revert_all"] == []


def test_key_rotation_two_keys(session, tmp_path):
    """A key file with two lines: both ids authenticate; a removed key does not."""
    k1 = os.urandom(32).hex()
    k2 = os.urandom(48).hex()
    path = tmp_path / "two.key"
    path.write_text("# rotation\nold %s\nnew %s\n" % (k1, k2))
    os.chmod(path, 0o600)
    a = session.agent(keyfile=str(path))
    assert a.keyid == "old"
    assert a.client.get("/v1/info").status == 200
    newc = cc.Client(a.port, "new", bytes.fromhex(k2))
    assert newc.get("/v1/info").status == 200
    before = a.events("auth_failure")
    r = newc.get("/v1/info", key=bytes.fromhex(k1))  # id 'new', old key
    assert_rejected(a, r, "bad_signature", before, key_id="new")


def test_logs_hold_no_keys_signatures_or_bodies(agent):
    c = agent.client
    marker = "secret-marker-%s" % os.urandom(4).hex()
    sigs = []
    r = c.create(duration=2, params={"load": 5, "cores": 1}, labels={"note": marker})
    assert r.status == 201
    sigs.append(c.last_authorization)
    c.request("POST", "/v1/faults", None, dict(BODY, labels={"note": marker}), sig="b" * 64)
    c.request("POST", "/v1/faults", None, b'{"type":"burn-cpu","x":"%s"}' % marker.encode())
    sigs.append(c.last_authorization)
    c.delete("/v1/faults")
    text = agent.log_text()
    assert agent.events("audit") and agent.events("auth_failure")
    assert marker not in text
    assert agent.key.hex() not in text.lower()
    for authz in sigs:
        sig = re.search(r"sig=([0-9a-f]{64})", authz).group(1)
        assert sig not in text
