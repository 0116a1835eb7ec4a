"""An independent client for the chaos-agent HTTP API, written from
docs/protocol.md with nothing but the Python standard library.

It never calls chaosctl: it is the second implementation of the signing
scheme that keeps the first one honest. Every part of a request (method,
path, query, body, ts, nonce, key id, signature, header text) can be set
or tampered with independently, so the authentication tests can build any
attack they need.
"""

import hashlib
import hmac
import http.client
import json
import os
import socket
import time

SCHEME = "CHAOS-HMAC-SHA256"


# ---------------------------------------------------------------- signing


def load_keys(path):
    """Parse a key file: '<key-id> <hex>' lines, '#' comments.
    Returns an ordered list of (keyid, key bytes)."""
    keys = []
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kid, hexkey = line.split(None, 1)
            keys.append((kid, bytes.fromhex(hexkey.strip())))
    return keys


def canonical_query(params):
    """params: dict or list of (name, value). Sorted by name, then value,
    written name=value and joined with '&'."""
    if params is None:
        return ""
    if isinstance(params, dict):
        params = list(params.items())
    return "&".join("%s=%s" % (k, v) for k, v in sorted((str(k), str(v)) for k, v in params))


def body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, (dict, list)):
        return json.dumps(body, separators=(",", ":")).encode()
    if isinstance(body, str):
        return body.encode()
    return bytes(body)


def string_to_sign(method, path, canon_query, ts, nonce, keyid, body):
    """The eight lines of docs/protocol.md joined by '\\n', no trailing newline."""
    return "\n".join([
        SCHEME,
        method,
        path,
        canon_query,
        str(ts),
        nonce,
        keyid,
        hashlib.sha256(body_bytes(body)).hexdigest(),
    ])


def compute_sig(key, method, path, canon_query, ts, nonce, keyid, body):
    sts = string_to_sign(method, path, canon_query, ts, nonce, keyid, body)
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def new_nonce():
    return os.urandom(16).hex()


def auth_header(keyid, ts, nonce, sig, sep=", ", order=("keyid", "ts", "nonce", "sig"),
                scheme=SCHEME):
    fields = {"keyid": keyid, "ts": ts, "nonce": nonce, "sig": sig}
    return scheme + " " + sep.join("%s=%s" % (k, fields[k]) for k in order)


# ---------------------------------------------------------------- transport


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body        # bytes

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:400])


def send_raw(port, method, target, headers=None, body=None, host="127.0.0.1",
             timeout=10.0, connect_delay=0.0):
    """Send one request exactly as given (target is path plus '?query').
    connect_delay: seconds between connecting and sending, as over a slow
    link."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if connect_delay > 0:
            conn.connect()
            time.sleep(connect_delay)
        conn.putrequest(method, target, skip_accept_encoding=True)
        data = body_bytes(body) if body is not None else None
        hdrs = dict(headers or {})
        if data is not None and not any(k.lower() == "content-length" for k in hdrs):
            hdrs["Content-Length"] = str(len(data))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if data:
            conn.send(data)
        resp = conn.getresponse()
        payload = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def send_bytes(port, raw, host="127.0.0.1", timeout=10.0, shut_write=False):
    """Send raw bytes on a fresh connection and return the first response's
    status line, headers and body (as much as arrives before close/timeout)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(raw)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                lines = head.split(b"\r\n")
                hdrs = {}
                for ln in lines[1:]:
                    k, _, v = ln.partition(b":")
                    hdrs[k.strip().lower().decode()] = v.strip().decode()
                clen = int(hdrs.get("content-length", "-1"))
                if clen >= 0 and len(rest) >= clen:
                    status = int(lines[0].split()[1])
                    return Response(status, hdrs, rest[:clen])
        raise ConnectionError("no complete response; got %r" % data[:200])
    finally:
        s.close()


class Client:
    """Signs and sends requests to one agent; every part can be overridden.

    request(method, path, query=None, body=None, **tamper) where tamper may
    hold: ts, nonce, keyid, key, sig (the hex to send), sign_method,
    sign_path, sign_query (canonical string to sign), sign_body, sign_ts,
    sign_keyid, send_query (raw query string to send), authorization (the
    whole header value, or None to send none), headers (extra headers),
    send_body (bytes actually sent).
    """

    def __init__(self, port, keyid, key, host="127.0.0.1"):
        self.port = port
        self.keyid = keyid
        self.key = key
        self.host = host
        self.last_authorization = None

    def sign_parts(self, method, path, query=None, body=None, **t):
        ts = t.get("ts", int(time.time()))
        nonce = t.get("nonce") or new_nonce()
        keyid = t.get("keyid", self.keyid)
        key = t.get("key", self.key)
        sig = compute_sig(key,
                          t.get("sign_method", method),
                          t.get("sign_path", path),
                          t.get("sign_query", canonical_query(query)),
                          t.get("sign_ts", ts),
                          t.get("sign_nonce", nonce),
                          t.get("sign_keyid", keyid),
                          t.get("sign_body", body))
        sig = t.get("sig", sig)
        return ts, nonce, keyid, sig

    def authorization(self, method, path, query=None, body=None, **t):
        ts, nonce, keyid, sig = self.sign_parts(method, path, query, body, **t)
        return auth_header(keyid, ts, nonce, sig, **t.get("header_fmt", {}))

    def request(self, method, path, query=None, body=None, **t):
        headers = dict(t.get("headers", {}))
        if "authorization" in t:
            authz = t["authorization"]
        else:
            authz = self.authorization(method, path, query, body, **t)
        if authz is not None:
            headers["Authorization"] = authz
        self.last_authorization = authz
        qs = t.get("send_query", canonical_query(query))
        target = path + ("?" + qs if qs else "")
        send_body = t.get("send_body", body)
        if send_body is not None:
            headers.setdefault("Content-Type", "application/json")
        return send_raw(self.port, t.get("send_method", method), target, headers,
                        send_body, host=self.host, timeout=t.get("timeout", 10.0),
                        connect_delay=t.get("connect_delay", 0.0))

    def capture(self, method, path, query=None, body=None, **t):
        """Sign a request without sending it: what an eavesdropper records.
        replay() sends it, byte for byte, as often as wanted."""
        return {"method": method, "path": path, "query": query, "body": body,
                "authorization": self.authorization(method, path, query, body, **t)}

    def replay(self, cap, **t):
        return self.request(cap["method"], cap["path"], cap["query"], cap["body"],
                            authorization=cap["authorization"], **t)

    # Convenience wrappers ------------------------------------------------

    def get(self, path, query=None, **t):
        return self.request("GET", path, query, **t)

    def post(self, path, body, **t):
        return self.request("POST", path, None, body, **t)

    def delete(self, path, **t):
        return self.request("DELETE", path, **t)

    def health(self):
        return send_raw(self.port, "GET", "/v1/health", host=self.host)

    def create(self, typ="burn-cpu", duration=3, params=None, **extra):
        body = {"type": typ, "duration": duration}
        if params is not None:
            body["params"] = params
        body.update(extra)
        return self.post("/v1/faults", body)

    def faults(self, state=None):
        r = self.get("/v1/faults", {"state": state} if state else None)
        assert r.status == 200, r
        return r.json()["faults"]

    def fault(self, fid):
        r = self.get("/v1/faults/" + fid)
        assert r.status == 200, r
        return r.json()

    def metrics(self):
        r = self.get("/metrics")
        assert r.status == 200, r
        return parse_metrics(r.text)


class SlowClients:
    """Slow clients as an attacker runs them (slowloris): n connections, each
    from its own loopback address (127.77.x.y, so per-address limits do not
    help), each sending one header line every `interval` seconds and never
    finishing its request. A connection the server closes is opened again
    at once. Runs in a thread; stop() closes everything.

    The counters say what the server did: `opened` connections made,
    `closed` ones the server ended."""

    def __init__(self, port, n, interval=2.0, host="127.0.0.1"):
        import selectors
        import threading
        self.port, self.n, self.interval, self.host = port, n, interval, host
        self.sel = selectors.DefaultSelector()
        self.conns = {}          # socket -> [source address, next send time]
        self.opened = self.closed = self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _source(self, i):
        return "127.77.%d.%d" % (1 + i // 250, 1 + i % 250)

    def _open(self, i):
        import selectors
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((self._source(i), 0))
            s.connect_ex((self.host, self.port))
        except OSError:
            s.close()
            self.failed += 1
            return
        self.conns[s] = [i, 0.0, 0]
        self.sel.register(s, selectors.EVENT_READ)
        self.opened += 1

    def start(self):
        for i in range(self.n):
            self._open(i)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            now = time.monotonic()
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:                 # the server cut us: come back
                    i = self.conns.pop(s)[0]
                    self.sel.unregister(s)
                    s.close()
                    self.closed += 1
                    self._open(i)
            for s, st in list(self.conns.items()):
                if now < st[1]:
                    continue
                line = (b"GET /v1/info HTTP/1.1\r\nHost: x\r\n" if st[2] == 0
                        else b"X-Slow-%d: %d\r\n" % (st[2], st[2]))
                try:
                    s.send(line)
                    st[2] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass                     # noticed by the read side
                st[1] = now + self.interval

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for s in list(self.conns):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        self.conns.clear()


def parse_metrics(text):
    """Prometheus text -> {'name{labels}': float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


# ---------------------------------------------------------------- self-test

VECTOR_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
VECTOR_KEYID = "ops1"
VECTOR_TS = 1764000000
VECTOR_NONCE = "000102030405060708090a0b0c0d0e0f"
VECTOR_POST_BODY = b'{"type":"burn-cpu","duration":60,"params":{"load":50}}'
VECTOR_POST_SIG = "7b843bcfc0bc5b6b6cc0e75d60bab1bf1039f3f45c6a2a5d449a96a6b468e989"
VECTOR_GET_SIG = "bb02388c07eada2458c7e0ca6a680b5c18c95c1ed15b44477df0fb9de8206721"
