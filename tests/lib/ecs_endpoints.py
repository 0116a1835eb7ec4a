"""A stand-in for the ECS agent's fault injection endpoints, for tests.

The ECS agent (1.88.0+) serves these to the containers of a task whose
definition sets enableFaultInjection; the agent in task mode calls them.
The real ECS agent cannot run here, so the tests talk to this instead. It
follows the contract of the "Amazon ECS fault injection endpoints" page of
the ECS developer guide and of the ECS agent's own handlers
(ecs-agent/tmds/handlers/fault/v1: handlers.go, types.go):

- POST {ECS_AGENT_URI}/fault/v1/ENDPOINT/OP, ECS_AGENT_URI being
  http://ADDRESS/api/ENDPOINT_CONTAINER_ID, ENDPOINT one of network-latency,
  network-packet-loss, network-blackhole-port, OP one of start, stop,
  status. Another method on those paths is 405, any other path 404.
- Bodies decoded as Go's encoding/json decodes into the ECS agent's
  structs: the first JSON value, keys matched regardless of case, unknown
  keys ignored, a wrong type or a negative or fractional number a 400.
  A missing body is 400 "required request body is missing" where the
  handler decodes one (every start, and the blackhole's stop and status;
  latency and packet loss stop and status read no body).
- Validation as types.go words it: "required parameter X is missing",
  "invalid value V for parameter X" (LossPercent 1..100, Protocol tcp|udp,
  TrafficType ingress|egress, every source an IPv4 or IPv6 address or CIDR).
- The task: an unknown endpoint container id is 404; a task without
  enableFaultInjection 400 "enableFaultInjection is not enabled for task:
  ARN"; a network mode other than awsvpc or host 400 "... mode is not
  supported. Please use either host or awsvpc mode."
- 200 {"Status": "running"} for start, "stopped" for stop, "running" or
  "not-running" for status; errors {"Error": "..."}.
- One latency or packet loss fault per task: a start while either runs is
  409 "There is already one network latency fault running" (or "... packet
  loss ..."). A stop of a fault that does not run is 200 "stopped"; a
  blackhole start of a port that is blackholed already is 200 "running".
- The rate limit: a token bucket per route and caller address, one request
  per `interval` seconds (5, as the guide says; the ECS agent from 1.106
  allows one per second), and a throttled request is 429 with the rate
  limiter's plain-text "You have reached maximum request limit." and
  changes nothing.
- With apply=True it does what the ECS agent does, with the same argv
  (never a shell): `nsenter --net=NETNS` for awsvpc tasks; tc: a prio root
  "1:" whose priomap sends everything to band 1:3, netem "10:" under 1:1,
  u32 filters matching the destination (SourcesToFilter prio 1 to 1:3,
  Sources prio 2 to 1:1), `tc -j q show dev IF parent 1:1` to tell
  whether latency ("delay") or loss ("loss-random") runs, and the qdiscs
  deleted on stop; iptables and ip6tables chains named
  TRAFFICTYPE-PROTOCOL-PORT inserted into INPUT or OUTPUT, checked with
  `iptables -C`. A command that fails is 500 "internal error"; commands
  that take over 5 s together are 500 "... request timed out" (--budget
  stretches that under emulation, where every process start is slow).

What it does not reproduce: how the ECS agent finds a task's network
namespace and ENIs (tests name them); the task metadata and credentials
endpoints and the TMDS-wide rate limit; IPv6-only task handling (ip6tables
failures are ignored, as for dual-stack tasks); Go's exact wording of JSON
decoding errors (the status is the same); the ECS agent's logs and
metrics. In contract mode (apply=False) nothing is applied: the faults
live in memory, which is what the contract tests on a machine without
sch_netem need.

Tests use it in process (EcsEndpoints(...).start(), .requests, .tasks);
a VM runs it as a program:
  python3 ecs_endpoints.py --listen 169.254.170.2:80 --apply --log FILE \\
      --task ID,arn=ARN,netns=/run/netns/task,if=eth0[,mode=awsvpc][,enabled=1]
"""
import argparse
import ipaddress
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINTS = ("network-latency", "network-packet-loss", "network-blackhole-port")
OPS = ("start", "stop", "status")
BODY_MAX = 65536
COMMAND_BUDGET = 5.0   # the ECS agent's requestTimeoutSeconds
THROTTLED = "You have reached maximum request limit."


class BadRequest(Exception):
    pass


class Failed(Exception):
    pass


# ------------------------------------------------------------ decoding

def _decode(raw):
    """The first JSON value of raw, as Go's json.Decoder.Decode reads it."""
    text = raw.decode("utf-8", "replace").lstrip(" \t\r\n")
    if not text:
        raise BadRequest("required request body is missing")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except ValueError as e:
        raise BadRequest("invalid character in request body: %s" % e)
    return value


def _fields(doc, struct, spec):
    """Go's unmarshalling into a struct: spec maps field -> kind."""
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BadRequest("json: cannot unmarshal %s into Go value of type types.%s"
                         % (type(doc).__name__, struct))
    out = {}
    for name, kind in spec.items():
        key = name if name in doc else next((k for k in doc if k.lower() == name.lower()),
                                            None)
        if key is None or doc[key] is None:
            continue
        v = doc[key]
        where = "json: cannot unmarshal %s into Go struct field %s.%s of type %s"
        if kind in ("uint64", "uint16"):
            hi = 2 ** 64 - 1 if kind == "uint64" else 65535
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
                raise BadRequest(where % ("number %s" % json.dumps(v), struct, name, kind))
        elif kind == "string":
            if not isinstance(v, str):
                raise BadRequest(where % (type(v).__name__, struct, name, kind))
        elif kind == "[]string":
            if not isinstance(v, list) or any(x is not None and not isinstance(x, str)
                                              for x in v):
                raise BadRequest(where % ("value", struct, name, "[]*string"))
            v = ["" if x is None else x for x in v]
        out[name] = v
    return out


def _is_source(s):
    try:
        if "/" in s:
            ipaddress.ip_network(s, strict=False)
        else:
            ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def _sources(req, name):
    for s in req.get(name, []):
        if not _is_source(s):
            raise BadRequest("invalid value %s for parameter %s" % (s, name))


def _scope(req):
    """Sources (required, not empty) and SourcesToFilter of latency and loss."""
    if not req.get("Sources"):
        raise BadRequest("required parameter Sources is missing")
    _sources(req, "Sources")
    _sources(req, "SourcesToFilter")


def validate_latency(req):
    for f in ("DelayMilliseconds", "JitterMilliseconds"):
        if f not in req:
            raise BadRequest("required parameter %s is missing" % f)
    _scope(req)


def validate_loss(req):
    if "LossPercent" not in req:
        raise BadRequest("required parameter LossPercent is missing")
    if not 1 <= req["LossPercent"] <= 100:
        raise BadRequest("invalid value %d for parameter LossPercent" % req["LossPercent"])
    _scope(req)


def validate_blackhole(req):
    if "Port" not in req:
        raise BadRequest("required parameter Port is missing")
    for f in ("Protocol", "TrafficType"):
        if not req.get(f):
            raise BadRequest("required parameter %s is missing" % f)
    if req["Protocol"] not in ("tcp", "udp"):
        raise BadRequest("invalid value %s for parameter Protocol" % req["Protocol"])
    if req["TrafficType"] not in ("ingress", "egress"):
        raise BadRequest("invalid value %s for parameter TrafficType" % req["TrafficType"])
    _sources(req, "SourcesToFilter")


SPECS = {
    "network-latency": ("NetworkLatencyRequest", {
        "DelayMilliseconds": "uint64", "JitterMilliseconds": "uint64",
        "Sources": "[]string", "SourcesToFilter": "[]string"}, validate_latency),
    "network-packet-loss": ("NetworkPacketLossRequest", {
        "LossPercent": "uint64", "Sources": "[]string",
        "SourcesToFilter": "[]string"}, validate_loss),
    "network-blackhole-port": ("NetworkBlackholePortRequest", {
        "Port": "uint16", "Protocol": "string", "TrafficType": "string",
        "SourcesToFilter": "[]string"}, validate_blackhole),
}


# ------------------------------------------------------------ tasks


class Task:
    """One task as the ECS agent knows it."""

    def __init__(self, arn, netns=None, interfaces=("eth0",), mode="awsvpc",
                 enabled=True):
        self.arn = arn
        self.netns = netns
        self.interfaces = list(interfaces)
        self.mode = mode
        self.enabled = enabled
        self.lock = threading.Lock()
        # Contract mode: what runs. tc: None, ("latency", req) or ("loss", req).
        self.tc = None
        self.chains = {}


class Applier:
    """The ECS agent's commands, run for real (apply mode)."""

    def __init__(self, task, deadline):
        self.task = task
        self.deadline = deadline
        self.commands = []

    def run(self, argv, check=True):
        if self.task.mode == "awsvpc":
            argv = ["nsenter", "--net=" + self.task.netns] + argv
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=left)
        except subprocess.TimeoutExpired:
            raise TimeoutError()
        self.commands.append((argv, r.returncode, r.stderr.strip()))
        if check and r.returncode != 0:
            raise Failed("%s: %s" % (" ".join(argv), r.stderr.strip()))
        return r

    # -- tc: latency and packet loss
    def tc_state(self):
        latency = loss = False
        for dev in self.task.interfaces:
            out = self.run(["tc", "-j", "q", "show", "dev", dev, "parent", "1:1"]).stdout
            for q in json.loads(out or "[]"):
                if q.get("kind") == "netem":
                    opts = q.get("options") or {}
                    latency = latency or "delay" in opts
                    loss = loss or "loss-random" in opts
        return latency, loss

    def tc_start(self, netem, req):
        for dev in self.task.interfaces:
            self.run(["tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "prio",
                      "priomap"] + ["2"] * 16)
            self.run(["tc", "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:",
                      "netem"] + netem)
            for prio, flow, name in (("1", "1:3", "SourcesToFilter"), ("2", "1:1", "Sources")):
                for ip in req.get(name, []):
                    fam = "ip6" if ":" in ip else "ip"
                    self.run(["tc", "filter", "add", "dev", dev, "protocol", "all", "parent",
                              "1:0", "prio", prio, "u32", "match", fam, "dst", ip, "flowid",
                              flow])

    def tc_stop(self):
        for dev in self.task.interfaces:
            self.run(["tc", "qdisc", "del", "dev", dev, "parent", "1:1", "handle", "10:"])
            self.run(["tc", "qdisc", "del", "dev", dev, "root", "handle", "1:", "prio"])

    # -- iptables: blackhole
    def chain_running(self, chain, req):
        r = self.run(["iptables", "-w", "5", "-C", chain, "-p", req["Protocol"], "--dport",
                      str(req["Port"]), "-j", "DROP"], check=False)
        return r.returncode == 0

    def chain_start(self, chain, req):
        table = "OUTPUT" if req["TrafficType"] == "egress" else "INPUT"
        for tool, everything in (("iptables", "0.0.0.0/0"), ("ip6tables", "::/0")):
            v6 = tool == "ip6tables"
            try:
                self.run([tool, "-w", "5", "-N", chain])
                for src in req.get("SourcesToFilter", []):
                    if (":" in src) != v6:
                        continue
                    self.run([tool, "-w", "5", "-A", chain, "-p", req["Protocol"], "-d", src,
                              "--dport", str(req["Port"]), "-j", "ACCEPT"])
                self.run([tool, "-w", "5", "-A", chain, "-p", req["Protocol"], "-d",
                          everything, "--dport", str(req["Port"]), "-j", "DROP"])
                self.run([tool, "-w", "5", "-I", table, "-j", chain])
            except Failed:
                if not v6:
                    raise

    def chain_stop(self, chain, req):
        table = "OUTPUT" if req["TrafficType"] == "egress" else "INPUT"
        for tool in ("iptables", "ip6tables"):
            try:
                self.run([tool, "-w", "5", "-F", chain])
                self.run([tool, "-w", "5", "-D", table, "-j", chain])
                self.run([tool, "-w", "5", "-X", chain])
            except Failed:
                if tool == "iptables":
                    raise


# ------------------------------------------------------------ the server


class EcsEndpoints:
    """The endpoints for the tasks it is given, on listen (host, port)."""

    def __init__(self, listen=("127.0.0.1", 0), interval=5.0, apply=False, log=None,
                 budget=COMMAND_BUDGET):
        self.listen = listen
        self.budget = float(budget)
        self.interval = float(interval)
        self.apply = apply
        self.log_path = log
        self.tasks = {}
        self.requests = []      # every request: dict(t, wall, endpoint, op, status, ...)
        self.fail = {}          # (endpoint, op) -> (status, message): test hook
        self._buckets = {}
        self._lock = threading.Lock()
        self.server = None

    # -- set-up
    def add_task(self, container_id, arn, **kw):
        self.tasks[container_id] = Task(arn, **kw)
        return self.tasks[container_id]

    def uri(self, container_id):
        host, port = self.server.server_address[:2]
        return "http://%s:%d/api/%s" % (host, port, container_id)

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                outer._serve(self)

            do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _any

        self.server = ThreadingHTTPServer(self.listen, Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # -- what tests read
    def calls(self, endpoint=None, op=None, status=None):
        with self._lock:
            return [r for r in self.requests
                    if (endpoint is None or r["endpoint"] == endpoint) and
                    (op is None or r["op"] == op) and
                    (status is None or r["status"] == status)]

    def running(self, container_id):
        """Contract mode: what runs in the task ({"tc": ..., "chains": [...]})."""
        t = self.tasks[container_id]
        with t.lock:
            return {"tc": t.tc[0] if t.tc else None, "chains": sorted(t.chains)}

    # -- serving
    def _allow(self, route, addr):
        """tollbooth: a token bucket of one per route and caller address."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get((route, addr), (1.0, now))
            tokens = min(1.0, tokens + (now - last) / self.interval)
            if tokens < 1.0:
                self._buckets[(route, addr)] = (tokens, now)
                return False
            self._buckets[(route, addr)] = (tokens - 1.0, now)
            return True

    def _serve(self, h):
        t0, wall = time.monotonic(), time.time()
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(min(length, BODY_MAX)) if length > 0 else b""
        parts = h.path.split("?")[0].split("/")
        rec = {"t": t0, "wall": wall, "method": h.command, "path": h.path,
               "endpoint": None, "op": None, "container": None,
               "body": raw.decode("utf-8", "replace")}
        # /api/<id>/fault/v1/<endpoint>/<op>
        if (len(parts) == 7 and parts[0] == "" and parts[1] == "api" and parts[3] == "fault"
                and parts[4] == "v1" and parts[5] in ENDPOINTS and parts[6] in OPS):
            rec.update(container=parts[2], endpoint=parts[5], op=parts[6])
            if h.command != "POST":
                status, doc = 405, None
            elif not self._allow((parts[5], parts[6]), h.client_address[0]):
                status, doc = 429, THROTTLED
            else:
                status, doc = self._handle(parts[2], parts[5], parts[6], raw)
        else:
            status, doc = 404, "404 page not found\n"
        rec["status"] = status
        rec["answer"] = doc
        rec["ms"] = (time.monotonic() - t0) * 1000
        with self._lock:
            self.requests.append(rec)
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if isinstance(doc, dict):
            data, ctype = json.dumps(doc).encode(), "application/json"
        else:
            data, ctype = (doc or "").encode(), "text/plain; charset=utf-8"
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, cid, endpoint, op, raw):
        struct, spec, validate = SPECS[endpoint]
        what = "%s %s" % ({"status": "check status"}.get(op, op), endpoint)
        try:
            req = {}
            # Latency and loss stop/status read no body; the rest decode one.
            if op == "start" or endpoint == "network-blackhole-port":
                req = _fields(_decode(raw), struct, spec)
                validate(req)
            task = self.tasks.get(cid)
            if task is None:
                return 404, {"Error": "unable to get task arn from request: unable to "
                                      "look up container %s" % cid}
            if not task.enabled:
                return 400, {"Error": "enableFaultInjection is not enabled for task: %s"
                             % task.arn}
            if task.mode not in ("awsvpc", "host"):
                return 400, {"Error": "%s mode is not supported. Please use either host "
                                      "or awsvpc mode." % task.mode}
            forced = self.fail.pop((endpoint, op), None)
            if forced is not None:
                return forced[0], {"Error": forced[1]}
            with task.lock:
                word = self._act(task, endpoint, op, req)
            return 200, {"Status": word}
        except BadRequest as e:
            return 400, {"Error": str(e)}
        except TimeoutError:
            return 500, {"Error": "%s: request timed out" % what}
        except Failed:
            return 500, {"Error": "internal error"}
        except _Conflict as e:
            return 409, {"Error": str(e)}

    def _act(self, task, endpoint, op, req):
        ap = Applier(task, time.monotonic() + self.budget) if self.apply else None
        if endpoint == "network-blackhole-port":
            if req["TrafficType"] == "egress" and req["Port"] == 80:
                # The ECS agent keeps the task metadata endpoint reachable.
                if "169.254.170.2" not in req.setdefault("SourcesToFilter", []):
                    req["SourcesToFilter"].append("169.254.170.2")
            chain = "%s-%s-%d" % (req["TrafficType"], req["Protocol"], req["Port"])
            running = ap.chain_running(chain, req) if ap else chain in task.chains
            if op == "status":
                return "running" if running else "not-running"
            if op == "start":
                if not running:
                    if ap:
                        ap.chain_start(chain, req)
                    task.chains[chain] = req
                return "running"
            if running:
                if ap:
                    ap.chain_stop(chain, req)
                task.chains.pop(chain, None)
            return "stopped"
        kind = "latency" if endpoint == "network-latency" else "loss"
        if ap:
            latency, loss = ap.tc_state()
        else:
            latency, loss = (task.tc is not None and task.tc[0] == "latency",
                             task.tc is not None and task.tc[0] == "loss")
        mine = latency if kind == "latency" else loss
        if op == "status":
            return "running" if mine else "not-running"
        if op == "start":
            if latency:
                raise _Conflict("There is already one network latency fault running")
            if loss:
                raise _Conflict("There is already one network packet loss fault running")
            if ap:
                netem = (["delay", "%dms" % req["DelayMilliseconds"],
                          "%dms" % req["JitterMilliseconds"]] if kind == "latency"
                         else ["loss", "%d%%" % req["LossPercent"]])
                ap.tc_start(netem, req)
            task.tc = (kind, req)
            return "running"
        if mine:
            if ap:
                ap.tc_stop()
            task.tc = None
        return "stopped"


class _Conflict(Exception):
    pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0", help="ADDRESS:PORT")
    p.add_argument("--interval", type=float, default=5.0,
                   help="seconds per request per route and caller (rate limit)")
    p.add_argument("--apply", action="store_true", help="run tc and iptables for real")
    p.add_argument("--budget", type=float, default=COMMAND_BUDGET,
                   help="seconds the commands of one request may take together (the ECS "
                        "agent's 5; more under emulation, where every process start is slow)")
    p.add_argument("--log", help="append every request as a JSON line to this file")
    p.add_argument("--task", action="append", default=[],
                   help="ID,arn=ARN,netns=PATH,if=IF[+IF],mode=awsvpc|host,enabled=1|0")
    a = p.parse_args()
    host, _, port = a.listen.rpartition(":")
    ep = EcsEndpoints((host, int(port)), interval=a.interval, apply=a.apply, log=a.log,
                      budget=a.budget)
    for spec in a.task:
        cid, *kv = spec.split(",")
        d = dict(x.split("=", 1) for x in kv)
        ep.add_task(cid, d.get("arn", "arn:aws:ecs:us-east-1:123456789012:task/t/" + cid),
                    netns=d.get("netns"), interfaces=d.get("if", "eth0").split("+"),
                    mode=d.get("mode", "awsvpc"), enabled=d.get("enabled", "1") == "1")
    ep.start()
    print(json.dumps({"listening": list(ep.server.server_address[:2])}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ep.stop()


if __name__ == "__main__":
    main()
