#!/usr/bin/env python3
"""An ECS cluster on one machine, for the experiment library's [local] contexts.

    sudo tests/sandbox/sandbox.py up [--instances N]
    eval "$(tests/sandbox/sandbox.py env)"     # AWS_ENDPOINT_URL, PATH, ...
    chaosctl run library/reliability/ecs-instance-burn-cpu/experiment.conf --context local
    tests/sandbox/sandbox.py status
    sudo tests/sandbox/sandbox.py down         # removes everything up made

What it builds is described in tests/sandbox/README.md. In short: each
"container instance" is a network, PID, mount and UTS namespace whose pid 1
(instance_init) supervises a private dockerd and a real chaos-agent; the
API service's tasks are awsvpc-style containers plugged into a VPC bridge;
the database stands in for RDS; moto holds the AWS picture of all of it; a
detached process (services) plays the load balancer, CloudWatch (data and
alarms), the ECS agents' task stops and EC2's terminations.

Every step is recorded in DIR/state.json before it is taken, so `down`
removes what a failed `up` left. Killing an instance's init ends every process
of that instance (the kernel kills a PID namespace with its first process).

Standard library only; boto3 calls run in the project virtualenv (.venv, made
by scripts/setup-venv.sh) through tests/lib/moto.py.
"""

import argparse
import datetime
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from dockerd import (container_ids, engine_api, ping_socket, remove_cgroups,  # noqa: E402
                     thaw)
from moto import MotoServer  # noqa: E402

DEFAULT_DIR = "/tmp/ckx-sandbox"
PREFIX = "ckx"
VPC_NS = PREFIX + "-vpc"
HOST_IF = PREFIX + "-host"
HOST_IP = "10.99.0.1"
LB_PORT = 8080
AGENT_PORT = 8421
DB_IP = "10.99.0.31"
DB_PORT = 3306
REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = "local-chaos-comment-cluster"
API_SERVICE = "comments-api-service"
API_FAMILY = "comments-api"
API_CONTAINER = "comments-api"
DB_NS = PREFIX + "-rds"
KEY_PARAMETER = "/local/chaos/agent_key"
ASG_NAME = "local-chaos-comment-ondemand-asg"
DB_INSTANCE = "local-chaos-comments-db"
IMAGE = "ckx-app:sandbox"
TASK_CPU_UNITS = 256          # what each task reserves (1024 = one vCPU)
METRICS_PERIOD = 3            # seconds between the sandbox's rounds (CloudWatch data, scheduler)
ALARM_WINDOW = 20             # seconds of data each sandbox alarm looks at
# what the sandbox's alarms watch, and the value that sets them off
ALARM_RULES = {
    "Target_5XX_Response-Count/local/comments/internal-alb": ("5xx", 20),
    "TargetResponseTime-Avg/local/comments/public-alb": ("latency", 1.5),
    "Service-MaxCapacity/local/comments/api": ("desired", 4),
}
MAX_INSTANCES = 4
MAX_TASKS_PER_INSTANCE = 4
SRE_TOPIC = "local-chaos-comment-sre-updates"
SRE_QUEUE = "local-chaos-comment-sre-notifications"
HEALTH_PATH = "/index.html"     # the target group's health check
HEALTH_INTERVAL = 0.5           # seconds between two checks of a target
HEALTH_TIMEOUT = 1.0
HEALTH_THRESHOLD = 2            # consecutive results that change a target's health
TARGET_TIMEOUT = 3.0            # a request a target does not answer in time gets 504
DRAIN = 1.0                     # seconds a deregistered task keeps its requests in flight
# the API service's Application Auto Scaling, which the sandbox evaluates
# (moto stores it and never does): between these counts, a target-tracking
# policy on the requests per target per minute, scaled to the
# sandbox's minutes. No CPU policy: on a machine of two busy cores the
# tasks' CPU says more about other work than about the service's load.
SCALE_MIN, SCALE_MAX = 2, 4
REQUESTS_TARGET = 1200.0        # ALBRequestCountPerTarget, requests per target per minute
SCALE_OUT_COOLDOWN = 3          # seconds after a scale-out before the next (one round)
SCALE_IN_AFTER = 20             # seconds every policy must want fewer tasks before a scale-in
SCALING_WINDOW = 6              # seconds of requests a policy's metric looks at

AGENT_BIN = os.path.join(ROOT, "bin", "chaos-agent")
CTL_BIN = os.path.join(ROOT, "bin", "chaosctl")

# the labels the ECS agent puts on task containers
L_CLUSTER = "com.amazonaws.ecs.cluster"
L_TASK = "com.amazonaws.ecs.task-arn"
L_FAMILY = "com.amazonaws.ecs.task-definition-family"
L_REVISION = "com.amazonaws.ecs.task-definition-version"
L_CONTAINER = "com.amazonaws.ecs.container-name"
PAUSE_NAME = "~internal~ecs~pause"

# The API's /users: ask the database (HTTP on its port; busybox's wget
# crashes, nc does not), 502 when it does not answer within 3 s.
USERS_CGI = """#!/bin/sh
resp=$(printf 'GET /comments.json HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s %d)
case "$resp" in
"HTTP/1."?" 200 "*)
    printf 'HTTP/1.0 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n'
    printf '%%s\\n' "${resp##*
}" ;;
*)
    printf 'HTTP/1.0 502 Bad Gateway\\r\\nContent-Type: text/plain\\r\\n\\r\\n'
    printf 'comments-db unreachable\\n' ;;
esac
""" % (DB_IP, DB_PORT)
COMMENTS = '[{"id":1,"user":"alice","text":"first"},{"id":2,"user":"bob","text":"second"}]'
APPLETS = ("sh", "sleep", "cat", "ls", "ps", "kill", "true", "httpd", "printf",
           "echo", "ip", "nc")


class SandboxError(RuntimeError):
    pass


def log(msg):
    print("sandbox: " + msg, file=sys.stderr, flush=True)


def run(argv, check=True, timeout=60, **kw):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise SandboxError("%s: %s" % (" ".join(str(a) for a in argv),
                                       (p.stderr or p.stdout).strip()))
    return p.stdout.strip()


def instance_name(k):
    return "%s-i%d" % (PREFIX, k)


def instance_az(k):
    return REGION + ("a" if k % 2 else "b")


def instance_ip(k):
    return "10.99.0.%d" % (10 + k if k % 2 else 130 + k)


def api_task_ip(k):
    return "10.99.0.%d" % (20 + k if k % 2 else 140 + k)


def task_ip_pool(k):
    """The addresses tasks on instance k may get, in its zone's half of
    the VPC (the subnets are 10.99.0.0/25 and 10.99.0.128/25)."""
    base = 20 if k % 2 else 140
    return ["10.99.0.%d" % i for i in range(base, base + 60)]


def tasks_path(d):
    return os.path.join(d, "tasks.json")


def read_tasks(d):
    """The service's tasks as the sandbox's scheduler last wrote them (each
    {"arn", "instance", "ip", "pause", "app", "ifname", ...})."""
    try:
        with open(tasks_path(d)) as f:
            return json.load(f)
    except FileNotFoundError:
        with open(os.path.join(d, "state.json")) as f:
            return json.load(f).get("api_tasks", [])


def write_tasks(d, tasks):
    tmp = tasks_path(d) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(tasks, f, indent=1)
    os.replace(tmp, tasks_path(d))


# ------------------------------------------------------------------- state


class State:
    """DIR/state.json: what exists, written before each step is taken."""

    def __init__(self, d):
        self.dir = d
        self.path = os.path.join(d, "state.json")
        self.data = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.data = json.load(f)

    def __getitem__(self, k):
        return self.data[k]

    def get(self, k, default=None):
        return self.data.get(k, default)

    def set(self, k, v):
        self.data[k] = v
        self.save()

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


# ------------------------------------------------------------------ docker


class Engine:
    """One instance's dockerd, reached through its socket."""

    def __init__(self, d, k):
        self.k = k
        self.dir = os.path.join(d, "i%d" % k)
        self.socket = os.path.join(self.dir, "docker.sock")

    def docker(self, *args, check=True, timeout=60, **kw):
        return run(["docker", "-H", "unix://" + self.socket, *args], check=check,
                   timeout=timeout, **kw)

    def ping(self):
        return ping_socket(self.socket)

    def import_image(self):
        root = tempfile.mkdtemp(prefix="ckx-root-")
        try:
            for sub in ("bin", "www/cgi-bin", "tmp"):
                os.makedirs(os.path.join(root, sub))
            shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
            for applet in APPLETS:
                os.symlink("busybox", os.path.join(root, "bin", applet))
            with open(os.path.join(root, "www", "cgi-bin", "users"), "w") as f:
                f.write(USERS_CGI)
            os.chmod(os.path.join(root, "www", "cgi-bin", "users"), 0o755)
            with open(os.path.join(root, "www", "index.html"), "w") as f:
                f.write("comments-api\n")
            tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
            self.docker("import", "-c", 'CMD ["/bin/sleep","100000000"]', "-", IMAGE,
                        stdin=tar.stdout)
            tar.wait()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def pid(self, ref):
        """The container's first process, as the instance's PID namespace numbers it."""
        return int(self.docker("inspect", "-f", "{{.State.Pid}}", ref))


# -------------------------------------------------------------- instances


def instance_init(d, k):
    """pid 1 of instance k: supervise dockerd and the agent, like systemd
    with Restart=always; on SIGTERM stop the agent (it reverts its faults),
    then dockerd, then exit (the kernel ends what is left)."""
    socket.sethostname(instance_name(k))
    e = Engine(d, k)
    os.makedirs(os.path.join(e.dir, "agent-state"), exist_ok=True)
    dockerd = ["dockerd", "--host", "unix://" + e.socket,
               "--data-root", os.path.join(e.dir, "data"),
               "--exec-root", os.path.join(e.dir, "exec"),
               "--pidfile", os.path.join(e.dir, "docker.pid"),
               "--iptables=false", "--ip-masq=false", "--bridge=none",
               "--storage-driver=vfs", "--live-restore"]
    agent = [AGENT_BIN, "--listen", "%s:%d" % (instance_ip(k), AGENT_PORT),
             "--key-file", os.path.join(d, "agent.key"),
             "--state-dir", os.path.join(e.dir, "agent-state"),
             "--set", "docker_socket=" + e.socket]
    units = {"dockerd": {"argv": dockerd, "log": os.path.join(e.dir, "dockerd.log")},
             "agent": {"argv": agent, "log": os.path.join(e.dir, "agent.log")}}
    stopping = []

    def start(name):
        u = units[name]
        with open(u["log"], "ab") as out:
            u["proc"] = subprocess.Popen(u["argv"], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=out)
        u["started"] = time.monotonic()

    def on_term(_sig, _frm):
        stopping.append(True)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    start("dockerd")
    start("agent")
    with open(os.path.join(e.dir, "init.ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    next_check = 0.0
    while not stopping:
        # ecs-init's part: start the ECS agent's container again when it stopped
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + 2
            st = engine_api(e.socket, "GET", "/containers/ecs-agent/json")
            if st is not None and st[0] == 200 and not json.loads(st[1])["State"]["Running"]:
                engine_api(e.socket, "POST", "/containers/ecs-agent/start")
                with open(units["agent"]["log"], "a") as out:
                    out.write('{"event":"sandbox-ecs-init","action":"started ecs-agent"}\n')
        # reap everything (orphans are ours as pid 1) and restart a dead unit
        try:
            while True:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                for u in units.values():
                    if u["proc"].pid == pid:   # keep the status Popen can no longer get
                        u["proc"].returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            pass
        for name, u in units.items():
            if u["proc"].poll() is not None and time.monotonic() - u["started"] > 1:
                with open(u["log"], "a") as out:
                    out.write('{"event":"sandbox-restart","unit":"%s","status":%d}\n'
                              % (name, u["proc"].returncode))
                start(name)
        time.sleep(0.2)
    for name in ("agent", "dockerd"):
        p = units[name]["proc"]
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


# ------------------------------------------- the balancer and CloudWatch


def services(d):
    """The parts of AWS around the cluster, in one process: the load balancer
    (a thread, with its health checks in another) and, every few seconds,
    what CloudWatch, the ECS agents, the ECS scheduler and EC2 would do
    (control_loop)."""
    with open(os.path.join(d, "state.json")) as f:
        st = json.load(f)
    lb = Balancer([t["ip"] for t in st["api_tasks"]])
    threading.Thread(target=lb.serve, daemon=True).start()
    threading.Thread(target=lb.check_health, daemon=True).start()
    control_loop(st, lb)


class Balancer:
    """The stand-in ALB and its target group. GET /P goes to the next
    healthy API task's /cgi-bin/P (round robin), one try: a target that
    refuses gets the client a 502, one that does not answer within
    TARGET_TIMEOUT a 504, as an ALB answers. Targets are health-checked
    (GET HEALTH_PATH every HEALTH_INTERVAL s, HEALTH_TIMEOUT s to answer):
    HEALTH_THRESHOLD failures in a row take a target out of rotation, as many
    successes bring it (or a new one) in. 503 when no target is healthy. A
    header X-Target names the task that answered. It counts 5xx answers,
    response times and requests per target for CloudWatch."""

    def __init__(self, targets):
        self.lock = threading.Lock()
        self.next = 0
        self.count_5xx = 0
        self.times = []
        self.requests = 0
        # the targets present at start are healthy (sandbox up waited for them)
        self.health = {t: {"healthy": True, "streak": 0} for t in targets}

    def set_targets(self, targets):
        """The scheduler's task addresses: new ones start unhealthy until
        their health checks pass, gone ones leave."""
        with self.lock:
            self.health = {t: self.health.get(t, {"healthy": False, "streak": 0})
                           for t in targets}

    def healthy(self):
        with self.lock:
            return sorted(t for t, h in self.health.items() if h["healthy"])

    def registered(self):
        """Every target of the group, healthy or not."""
        with self.lock:
            return sorted(self.health)

    def take_stats(self):
        with self.lock:
            out = (self.count_5xx, self.times, self.requests)
            self.count_5xx, self.times, self.requests = 0, [], 0
        return out

    def check_health(self):
        def one(t, results):
            c = http.client.HTTPConnection(t, 80, timeout=HEALTH_TIMEOUT)
            try:
                c.request("GET", HEALTH_PATH)
                results[t] = c.getresponse().status == 200
            except OSError:
                results[t] = False
            finally:
                c.close()
        while True:
            t0 = time.monotonic()
            with self.lock:
                targets = list(self.health)
            results = {}
            threads = [threading.Thread(target=one, args=(t, results)) for t in targets]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            with self.lock:
                for t, ok in results.items():
                    h = self.health.get(t)
                    if h is None:
                        continue
                    if ok == h["healthy"]:
                        h["streak"] = 0
                        continue
                    h["streak"] += 1
                    if h["streak"] >= HEALTH_THRESHOLD:
                        h["healthy"], h["streak"] = ok, 0
                        log("balancer: target %s is %s" % (t, "healthy" if ok else "unhealthy"))
            time.sleep(max(0.0, HEALTH_INTERVAL - (time.monotonic() - t0)))

    def forward(self, path):
        with self.lock:
            order = sorted(t for t, h in self.health.items() if h["healthy"])
            if not order:
                return 503, "text/plain", b"no healthy target\n", None
            t = order[self.next % len(order)]
            self.next += 1
        c = http.client.HTTPConnection(t, 80, timeout=TARGET_TIMEOUT)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.getheader("Content-Type", "text/plain"), r.read(), t
        except socket.timeout:
            return 504, "text/plain", b"target timed out\n", t
        except OSError:
            return 502, "text/plain", b"target refused\n", t
        finally:
            c.close()

    def serve(self):
        lb = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                t0 = time.monotonic()
                path = self.path if self.path != "/" else "/index.html"
                if path != "/index.html":
                    path = "/cgi-bin" + path
                status, ctype, body, target = lb.forward(path)
                with lb.lock:
                    lb.count_5xx += status >= 500
                    lb.times.append(time.monotonic() - t0)
                    lb.requests += target is not None     # routed to a target
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if target:
                    self.send_header("X-Target", target)
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128

        Server((HOST_IP, LB_PORT), Handler).serve_forever()


def cpu_usage_ns(container_id):
    """CPU time a container has used, from its cgroup (v1 cpuacct or v2)."""
    for path, scale in (("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage", 1),
                        ("/sys/fs/cgroup/docker/%s/cpu.stat", 1000)):
        try:
            with open(path % container_id) as f:
                text = f.read()
        except OSError:
            continue
        if scale == 1:
            return int(text)
        for line in text.splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) * scale
    return None


def control_loop(st, lb, every=METRICS_PERIOD):
    """Every few seconds, what AWS and the ECS agents would do:

    - CloudWatch data: per service, AWS/ECS CPUUtilization (CPU used by its
      app containers over the CPU its tasks reserve, %, from their cgroups)
      and ECS/ContainerInsights DesiredTaskCount/RunningTaskCount; the load
      balancer's AWS/ApplicationELB HTTPCode_Target_5XX_Count,
      TargetResponseTime, RequestCount and RequestCountPerTarget.
    - CloudWatch alarms (moto never evaluates them): each rule of ALARM_RULES
      on the latest window, set with SetAlarmState when it changes, and the
      alarm's actions: CloudWatch's notification published to its SNS topics.
    - The ECS agent: a task moto says should stop has its containers stopped;
      a task whose app container exited is reported stopped.
    - EC2: an instance moto says is terminated loses its init, and with it
      its engine, containers and agent (the kernel ends its PID namespace);
      its tasks are reported stopped.
    - The ECS service scheduler (schedule()): as many tasks as the service's
      desired count, started on live instances, extra ones stopped; the load
      balancer's targets follow.
    """
    d = st["dir"]
    moto = MotoServer.client(st["moto"]["port"], d)
    tasks = read_tasks(d)
    last_cpu, alarm_state, gone = {}, {}, set()
    window = []          # (time, 5xx count, [response times]) of the alarm window
    alarms = {}          # name -> AlarmActions, read once
    scaler = Autoscaler()
    while True:
        now = time.monotonic()
        try:
            svcs, described, reservations, described_alarms, listed = moto.call([
                ("ecs", "describe_services", {"cluster": CLUSTER, "services": [API_SERVICE]}),
                ("ecs", "describe_tasks", {"cluster": CLUSTER,
                                           "tasks": [t["arn"] for t in tasks] or ["none"]}),
                ("ec2", "describe_instances", {"InstanceIds": [
                    i["instance_id"] for i in st["instances"].values()]}),
                ("cloudwatch", "describe_alarms", {"AlarmNames": list(ALARM_RULES)}),
                ("ecs", "list_tasks", {"cluster": CLUSTER, "desiredStatus": "RUNNING"})])
        except Exception as exc:  # moto gone: keep trying until killed
            log("control: %s" % exc)
            time.sleep(every)
            continue
        alarms = {a["AlarmName"]: a.get("AlarmActions", [])
                  for a in described_alarms["MetricAlarms"]}
        calls = []
        # EC2's part: a terminated instance's init dies, and all with it
        for r in reservations["Reservations"]:
            for i in r["Instances"]:
                if i["State"]["Name"] in ("shutting-down", "terminated") and \
                        i["InstanceId"] not in gone:
                    gone.add(i["InstanceId"])
                    for k, inst in st["instances"].items():
                        if inst["instance_id"] == i["InstanceId"] and alive(inst["init_pid"]):
                            kill_pid(inst["init_pid"], signal.SIGKILL)
                            log("control: instance %s (%s) terminated in moto: its init is "
                                "killed" % (inst["name"], i["InstanceId"]))
        # the ECS agents' part, then the scheduler's
        desired = svcs["services"][0]["desiredCount"] if svcs["services"] else 0
        stopping = {t["taskArn"] for t in described.get("tasks", [])
                    if t.get("desiredStatus") == "STOPPED"}
        # a task moto runs that no engine does (it never started) is stopped,
        # as the ECS agent reports a task it cannot find
        known = {t["arn"] for t in tasks}
        for arn in set(listed.get("taskArns", [])) - known:
            log("scheduler: task %s runs nowhere: stopped" % arn)
            calls.append(("ecs", "stop_task", {"cluster": CLUSTER, "task": arn,
                                               "reason": "sandbox: no container runs it"}))
        try:
            tasks = schedule(st, moto, tasks, stopping, desired, lb)
        except Exception as exc:  # an engine call failed: try again next round
            log("scheduler: %s" % exc)
        write_tasks(d, tasks)
        lb.set_targets([t["ip"] for t in tasks])

        # CloudWatch's data
        data = []
        dims = [{"Name": "ClusterName", "Value": CLUSTER},
                {"Name": "ServiceName", "Value": API_SERVICE}]
        for metric, value in (("DesiredTaskCount", desired),
                              ("RunningTaskCount", len(tasks))):
            data.append(("ECS/ContainerInsights", {
                "MetricName": metric, "Dimensions": dims, "Value": value, "Unit": "Count"}))
        cpu_pct = 0.0
        used = {t["app"]: cpu_usage_ns(t["app"]) for t in tasks}
        used = {c: v for c, v in used.items() if v is not None}
        if used:
            if last_cpu:
                secs = now - last_cpu["t"]
                delta = sum(v - last_cpu["used"].get(c, v) for c, v in used.items())
                reserved = TASK_CPU_UNITS / 1024.0 * len(used)
                pct = cpu_pct = delta / 1e9 / secs / reserved * 100
                data.append(("AWS/ECS", {"MetricName": "CPUUtilization", "Dimensions": dims,
                                         "Value": round(pct, 1), "Unit": "Percent"}))
            last_cpu = {"t": now, "used": used}
        n5xx, times, nreq = lb.take_stats()
        lbdims = [{"Name": "LoadBalancer", "Value": "app/local-comments/sandbox"}]
        data.append(("AWS/ApplicationELB", {"MetricName": "HTTPCode_Target_5XX_Count",
                                            "Dimensions": lbdims, "Value": n5xx,
                                            "Unit": "Count"}))
        data.append(("AWS/ApplicationELB", {"MetricName": "RequestCount",
                                            "Dimensions": lbdims, "Value": nreq,
                                            "Unit": "Count"}))
        healthy = lb.healthy()
        # Application Auto Scaling's part
        try:
            scaled = scaler.evaluate(moto, desired, nreq, len(lb.registered()), cpu_pct, now)
        except Exception as exc:
            scaled = None
            log("autoscaling: %s" % exc)
        if scaled is not None and scaled != desired:
            log("autoscaling: desired count %d -> %d" % (desired, scaled))
            calls.append(("ecs", "update_service", {"cluster": CLUSTER, "service": API_SERVICE,
                                                    "desiredCount": scaled}))
        if healthy:
            data.append(("AWS/ApplicationELB", {
                "MetricName": "RequestCountPerTarget", "Dimensions": lbdims,
                "Value": nreq / len(healthy), "Unit": "Count"}))
        if times:
            data.append(("AWS/ApplicationELB", {
                "MetricName": "TargetResponseTime", "Dimensions": lbdims,
                "Value": sum(times) / len(times), "Unit": "Seconds"}))
        window = [w for w in window if now - w[0] < ALARM_WINDOW] + [(now, n5xx, times)]
        all_times = [x for w in window for x in w[2]]
        observed = {
            "5xx": sum(w[1] for w in window),
            "latency": sum(all_times) / len(all_times) if all_times else 0.0,
            "desired": desired,
        }
        calls += [("cloudwatch", "put_metric_data", {"Namespace": ns, "MetricData": [m]})
                  for ns, m in data]
        for name, (what, threshold) in ALARM_RULES.items():
            state = "ALARM" if observed[what] >= threshold else "OK"
            if alarm_state.get(name, "OK") != state:
                reason = ("sandbox: %s %.3g over the last %d s (threshold %g)"
                          % (what, observed[what], ALARM_WINDOW, threshold))
                calls.append(("cloudwatch", "set_alarm_state", {
                    "AlarmName": name, "StateValue": state, "StateReason": reason}))
                calls += notify(name, alarms.get(name, []), alarm_state.get(name, "OK"),
                                state, reason, threshold)
                alarm_state[name] = state
        try:
            moto.call(calls)
        except Exception as exc:
            log("control: %s" % exc)
        time.sleep(max(0.0, every - (time.monotonic() - now)))


def notify(name, actions, old, new, reason, threshold):
    """CloudWatch's part when an alarm changes state: its message, as
    CloudWatch writes it, published to each SNS topic of its actions (moto
    stores the actions but never runs them). OK actions are not modelled."""
    if new != "ALARM":
        return []
    msg = {"AlarmName": name, "AlarmDescription": None, "AWSAccountId": ACCOUNT,
           "NewStateValue": new, "NewStateReason": reason, "OldStateValue": old,
           "StateChangeTime": datetime.datetime.now(datetime.timezone.utc).strftime(
               "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
           "Region": "US East (N. Virginia)",
           "Trigger": {"Threshold": float(threshold),
                       "ComparisonOperator": "GreaterThanOrEqualToThreshold"}}
    return [("sns", "publish", {"TopicArn": arn, "Message": json.dumps(msg),
                                "Subject": 'ALARM: "%s" in US East (N. Virginia)' % name})
            for arn in actions if arn.startswith("arn:aws:sns:")]


class Autoscaler:
    """Application Auto Scaling's target tracking for the API service, as
    moto stores it (describe_scaling_policies, describe_scalable_targets)
    but never runs it. Each policy proposes ceil(desired * metric / target)
    tasks, within the scalable target's bounds. Any policy that wants more
    scales out at once (then not again for the policy's ScaleOutCooldown);
    the service scales in to the largest proposal only when every policy
    has wanted fewer tasks for ScaleInCooldown seconds (AWS waits for 15
    low data points of a minute). Metrics: the load balancer's requests per
    target of the group per minute over the last SCALING_WINDOW s
    (ALBRequestCountPerTarget: "the average number of requests received by
    each target in a target group"; a health check that times out on a busy
    machine does not double it) and the tasks' CPU over what they reserve
    (ECSServiceAverageCPUUtilization)."""

    def __init__(self):
        self.requests = []          # (time, requests, targets of the group)
        self.last_out = 0.0
        self.low_since = None

    def evaluate(self, moto, desired, nreq, ntargets, cpu_pct, now):
        """The desired count the policies want now, or None to leave it;
        ntargets is how many targets the target group holds."""
        self.requests = [r for r in self.requests if now - r[0] < SCALING_WINDOW]
        self.requests.append((now, nreq, ntargets))
        policies, targets = moto.call([
            ("application-autoscaling", "describe_scaling_policies",
             {"ServiceNamespace": "ecs"}),
            ("application-autoscaling", "describe_scalable_targets",
             {"ServiceNamespace": "ecs"})])
        rid = "service/%s/%s" % (CLUSTER, API_SERVICE)
        bounds = [(t["MinCapacity"], t["MaxCapacity"]) for t in targets["ScalableTargets"]
                  if t["ResourceId"] == rid]
        if not bounds or desired == 0:
            return None
        lo, hi = bounds[0]
        span = now - self.requests[0][0] + METRICS_PERIOD
        per_target = (sum(r[1] for r in self.requests) / max(1, ntargets) / span * 60.0)
        want, cooldowns = [], []
        for p in policies["ScalingPolicies"]:
            conf = p.get("TargetTrackingScalingPolicyConfiguration")
            if p["ResourceId"] != rid or not conf:
                continue
            kind = conf.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
            metric = {"ALBRequestCountPerTarget": per_target,
                      "ECSServiceAverageCPUUtilization": cpu_pct}.get(kind)
            if metric is None:
                continue
            n = int(-(-desired * metric // conf["TargetValue"]))     # ceil
            want.append(max(lo, min(hi, n)))
            cooldowns.append((conf.get("ScaleOutCooldown", 0), conf.get("ScaleInCooldown", 0)))
        if not want:
            return None
        if max(want) > desired:
            self.low_since = None
            if now - self.last_out >= max(c[0] for c in cooldowns):
                self.last_out = now
                return max(want)
            return None
        if max(want) < desired:
            self.low_since = self.low_since or now
            if now - self.low_since >= max(c[1] for c in cooldowns):
                self.low_since = None
                return max(want)
            return None
        self.low_since = None
        return None


def schedule(st, moto, tasks, stopping, desired, lb):
    """The ECS service scheduler and agents, for the API service. A task
    stops when moto says so (StopTask), when its instance is gone or when
    its app container exited (reported to moto with StopTask, as the agent
    would); then tasks are started on the live instances with the fewest
    tasks, or the newest stopped, until the service runs its desired count.
    A task stopped on purpose (StopTask, scale-in) leaves the load
    balancer first and drains for DRAIN s, as ECS deregisters a service's
    task before stopping it; a task whose instance died just goes. Returns
    the tasks that run."""
    d = st["dir"]
    keep, leaving = [], []
    for t in tasks:
        inst = st["instances"][str(t["instance"])]
        why = None
        if t["arn"] in stopping:
            why = "stopped in moto"
        elif not alive(inst["init_pid"]):
            why = "its instance is gone"
        else:
            running = Engine(d, t["instance"]).docker(
                "inspect", "-f", "{{.State.Running}}", t["app"], check=False)
            if running != "true":
                why = "its essential container exited"
        if why is None:
            keep.append(t)
            continue
        log("scheduler: task %s stops: %s" % (t["arn"], why))
        leaving.append((t, None if t["arn"] in stopping else why))
    while len(keep) > desired:
        t = keep.pop()
        log("scheduler: task %s stops: the desired count is %d" % (t["arn"], desired))
        leaving.append((t, "scaled in"))
    if leaving:
        lb.set_targets([t["ip"] for t in keep])
        time.sleep(DRAIN)
        for t, why in leaving:
            try:
                if why:
                    moto.call([("ecs", "stop_task", {"cluster": CLUSTER, "task": t["arn"],
                                                     "reason": "sandbox: " + why})])
                remove_task(st, t)
            except Exception as exc:   # its containers go at the next round or at down
                log("scheduler: task %s: %s" % (t["arn"], exc))
    live = [int(k) for k, i in sorted(st["instances"].items()) if alive(i["init_pid"])]
    while len(keep) < desired and live:
        load = {k: sum(1 for t in keep if t["instance"] == k) for k in live}
        k = min(live, key=lambda x: (load[x], x))
        if load[k] >= MAX_TASKS_PER_INSTANCE:
            log("scheduler: no room for another task (%d running)" % len(keep))
            break
        taken = {t["ip"] for t in keep}
        ip = [a for a in task_ip_pool(k) if a not in taken][0]
        st["task_seq"] = st.get("task_seq", 0) + 1
        try:
            t = start_task(st, moto, Engine(d, k), k, API_FAMILY, API_CONTAINER, ip,
                           "t%d" % st["task_seq"], ["httpd", "-f", "-p", "80", "-h", "/www"],
                           API_SERVICE)
        except Exception as exc:   # tried again next round
            log("scheduler: a task could not start on %s: %s" % (instance_name(k), exc))
            break
        log("scheduler: task %s started on %s (%s)" % (t["arn"], instance_name(k), ip))
        keep.append(t)
        # the balancer health-checks it from now on
        lb.set_targets([x["ip"] for x in keep])
    return keep


def remove_task(st, t):
    """A stopped task's containers and its port on the VPC bridge go."""
    e = Engine(st["dir"], t["instance"])
    if alive(st["instances"][str(t["instance"])]["init_pid"]):
        try:
            e.docker("rm", "-f", t["app"], t["pause"], check=False, timeout=30)
        except subprocess.TimeoutExpired:
            log("scheduler: task %s: docker stop timed out" % t["arn"])
    if t.get("ifname"):
        subprocess.run(["ip", "-n", VPC_NS, "link", "del", t["ifname"]], capture_output=True)
    # The address goes back to the pool; the next task that takes it has
    # another MAC. Forget the old one so that the balancer's first packets
    # find the new task at once instead of probing the gone one for seconds.
    subprocess.run(["ip", "neigh", "flush", "to", t["ip"], "dev", HOST_IF],
                   capture_output=True)


# ---------------------------------------------------------------------- up


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise SandboxError("%s: not ready after %d s" % (what, timeout))


def tcp_answers(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ns_path(st, k, pid):
    """A path to the network namespace of process pid of instance k, usable
    from the root namespaces: through the init's root into the instance's /proc."""
    return "/proc/%d/root/proc/%d/ns/net" % (st["instances"][str(k)]["init_pid"], pid)


def plug_task(st, k, pid, ifname, ip):
    """What the ECS agent's awsvpc plugin does: give a task's namespace (owned
    by its pause container) an interface on the VPC bridge with its address."""
    nsenter = ["nsenter", "--net=" + ns_path(st, k, pid)]
    run(nsenter + ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", ifname,
                   "netns", VPC_NS])
    run(["ip", "-n", VPC_NS, "link", "set", ifname, "master", "br0", "up"])
    run(nsenter + ["ip", "addr", "add", ip + "/24", "dev", "eth0"])
    run(nsenter + ["ip", "link", "set", "eth0", "up"])
    run(nsenter + ["ip", "link", "set", "lo", "up"])
    run(nsenter + ["ip", "route", "add", "default", "via", HOST_IP])


def start_task(st, moto, e, k, family, container, ip, ifname, cmd, service):
    """A task in moto placed on instance k, and its containers in k's engine."""
    ci = st["instances"][str(k)]["container_instance_arn"]
    t = moto.call([("ecs", "start_task", {
        "cluster": CLUSTER, "taskDefinition": family, "containerInstances": [ci],
        "startedBy": "ecs-svc/" + service, "group": "service:" + service})])[0]["tasks"][0]
    arn = t["taskArn"]
    short = arn.rsplit("/", 1)[1]
    labels = {L_CLUSTER: "arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, CLUSTER),
              L_TASK: arn, L_FAMILY: family, L_REVISION: "1"}

    def label_args(name):
        out = []
        for key, v in dict(labels, **{L_CONTAINER: name}).items():
            out += ["--label", "%s=%s" % (key, v)]
        return out
    names = ["ecs-%s-1-internalecspause-%s" % (family, short[:12]),
             "ecs-%s-1-%s-%s" % (family, container, short[:12])]
    try:
        pause = e.docker("run", "-d", "--name", names[0], "--network", "none",
                         *label_args(PAUSE_NAME), IMAGE)
        plug_task(st, k, e.pid(pause), ifname, ip)
        app = e.docker("run", "-d", "--name", names[1], "--network", "container:" + pause,
                       *label_args(container), IMAGE, *cmd)
    except (SandboxError, subprocess.TimeoutExpired):
        # the task failed to start, as ECS would report it: stopped, and
        # nothing of it left
        moto.call([("ecs", "stop_task", {"cluster": CLUSTER, "task": arn,
                                         "reason": "sandbox: the task failed to start"})])
        e.docker("rm", "-f", *names, check=False, timeout=30)
        subprocess.run(["ip", "-n", VPC_NS, "link", "del", ifname], capture_output=True)
        raise
    return {"arn": arn, "instance": k, "ip": ip, "pause": pause, "app": app,
            "family": family, "container": container, "ifname": ifname}


def up(args):
    if os.geteuid() != 0:
        raise SandboxError("up needs root (network namespaces, dockerd)")
    for prog in ("dockerd", "docker", "ip", "nsenter", "unshare", "tar"):
        if shutil.which(prog) is None:
            raise SandboxError("%s is not installed: run scripts/install-deps.sh" % prog)
    for path in (AGENT_BIN, CTL_BIN):
        if not os.access(path, os.X_OK):
            raise SandboxError("%s missing: run make" % path)
    if not 1 <= args.instances <= MAX_INSTANCES:
        raise SandboxError("--instances: %d is out of range (1 to %d)"
                           % (args.instances, MAX_INSTANCES))
    d = args.dir
    if os.path.exists(os.path.join(d, "state.json")):
        raise SandboxError("a sandbox is already up in %s: run '%s down' first"
                           % (d, sys.argv[0]))
    if not os.access(os.path.join(ROOT, ".venv", "bin", "moto_server"), os.X_OK):
        raise SandboxError("the project virtualenv has no moto: run scripts/setup-venv.sh")
    taken = [ns for ns in [VPC_NS, DB_NS] + [instance_name(k) for k in
                                              range(1, args.instances + 1)]
             if os.path.exists("/run/netns/" + ns)]
    if taken:
        raise SandboxError("network namespace(s) %s exist already (a sandbox in another "
                           "directory? '%s --dir DIR down' removes it)"
                           % (", ".join(taken), sys.argv[0]))
    os.makedirs(d, mode=0o700, exist_ok=True)
    st = State(d)
    st.set("dir", d)
    st.set("instances", {})
    t0 = time.monotonic()
    try:
        build(st, args.instances)
    except BaseException:
        log("up failed; removing what it made")
        teardown(st)
        raise
    log("up in %.1f s" % (time.monotonic() - t0))
    print_summary(st)
    return 0


def build(st, n):
    d = st["dir"]
    key = os.path.join(d, "agent.key")
    run([CTL_BIN, "keygen", "--out", key])

    # the network: the VPC bridge, the host's port on it
    st.set("netns", [VPC_NS])
    run(["ip", "netns", "add", VPC_NS])
    run(["ip", "-n", VPC_NS, "link", "set", "lo", "up"])
    run(["ip", "-n", VPC_NS, "link", "add", "br0", "type", "bridge"])
    run(["ip", "-n", VPC_NS, "link", "set", "br0", "up"])
    run(["ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", "host", "netns",
         VPC_NS])
    run(["ip", "-n", VPC_NS, "link", "set", "host", "master", "br0", "up"])
    run(["ip", "addr", "add", HOST_IP + "/24", "dev", HOST_IF])
    run(["ip", "link", "set", HOST_IF, "up"])

    # moto, detached: it outlives this command
    moto = MotoServer(log_dir=d)
    moto.start()
    st.set("moto", {"pid": moto.proc.pid, "port": moto.port, "url": moto.url})
    # moto moves a task from RUNNING towards STOPPED each time it is
    # described; ECS keeps it RUNNING until it is stopped (StopTask, which
    # moto honours): never advance on its own
    req = urllib.request.Request(moto.url + "/moto-api/state-manager/set-transition",
                                 data=json.dumps({"model_name": "ecs::task", "transition": {
                                     "progression": "manual", "times": 2 ** 31}}).encode(),
                                 method="POST")
    urllib.request.urlopen(req, timeout=10).close()

    # the instances
    for k in range(1, n + 1):
        name = instance_name(k)
        st["netns"].append(name)
        st.save()
        run(["ip", "netns", "add", name])
        run(["ip", "-n", VPC_NS, "link", "add", "i%d" % k, "type", "veth", "peer", "name",
             "eth0", "netns", name])
        run(["ip", "-n", VPC_NS, "link", "set", "i%d" % k, "master", "br0", "up"])
        run(["ip", "-n", name, "addr", "add", instance_ip(k) + "/24", "dev", "eth0"])
        run(["ip", "-n", name, "link", "set", "eth0", "up"])
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        run(["ip", "-n", name, "route", "add", "default", "via", HOST_IP])
        e = Engine(d, k)
        os.makedirs(e.dir, exist_ok=True)
        with open(os.path.join(e.dir, "init.log"), "ab") as out:
            # nsenter, not 'ip netns exec', which remounts /sys and hides the
            # cgroup hierarchies dockerd needs
            p = subprocess.Popen(
                ["nsenter", "--net=/run/netns/" + name, "unshare", "--pid", "--fork",
                 "--mount-proc", "--uts", "--kill-child", sys.executable,
                 os.path.abspath(__file__), "--dir", d, "_init", "--index", str(k)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        st["instances"][str(k)] = {"name": name, "ip": instance_ip(k), "az": instance_az(k),
                                   "unshare_pid": p.pid, "socket": e.socket}
        st.save()
    for k in range(1, n + 1):
        inst = st["instances"][str(k)]
        e = Engine(d, k)
        wait_until(lambda: os.path.exists(os.path.join(e.dir, "init.ready")), 30,
                   "instance %d init" % k)
        inst["init_pid"] = child_of(inst["unshare_pid"])
        st.save()
        wait_until(e.ping, 60, "instance %d dockerd" % k)
        wait_until(lambda: tcp_answers(inst["ip"], AGENT_PORT), 30, "instance %d agent" % k)

    # moto's picture of it
    with open(key) as f:
        keytext = f.read()
    vpc = moto.call([("ec2", "create_vpc", {"CidrBlock": "10.99.0.0/16"})])[0]["Vpc"]["VpcId"]
    subnets = {}
    for az, cidr in ((REGION + "a", "10.99.0.0/25"), (REGION + "b", "10.99.0.128/25")):
        subnets[az] = moto.call([("ec2", "create_subnet", {
            "VpcId": vpc, "CidrBlock": cidr, "AvailabilityZone": az})])[0]["Subnet"]["SubnetId"]
    st.set("subnets", subnets)
    moto.call([("ecs", "create_cluster", {"clusterName": CLUSTER})])
    for k in range(1, n + 1):
        inst = st["instances"][str(k)]
        ec2 = moto.call([("ec2", "run_instances", {
            "ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.small",
            "SubnetId": subnets[inst["az"]], "PrivateIpAddress": inst["ip"],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                {"Key": "Name", "Value": inst["name"]}]}]})])[0]["Instances"][0]
        ci = moto.call([("ecs", "register_container_instance", {
            "cluster": CLUSTER, "instanceIdentityDocument": json.dumps(
                {"instanceId": ec2["InstanceId"], "region": REGION,
                 "availabilityZone": inst["az"]})})])[0]["containerInstance"]
        inst["instance_id"] = ec2["InstanceId"]
        inst["container_instance_arn"] = ci["containerInstanceArn"]
        st.save()
    # moto 5.2.5 cannot start awsvpc tasks (building the ENI attachment
    # raises AttributeError): the task definition leaves the network mode
    # out, while the Docker tasks are awsvpc-style
    moto.call([("ecs", "register_task_definition", {
        "family": API_FAMILY, "containerDefinitions": [{
            "name": API_CONTAINER, "image": IMAGE, "memory": 128, "cpu": TASK_CPU_UNITS,
            "portMappings": [{"containerPort": 80}]}]})])

    # the database (RDS's part: outside the cluster, in a namespace of its
    # own on the VPC bridge), then each engine's containers: ecs-agent and
    # the API task
    db_root = os.path.join(d, "rds")
    os.makedirs(db_root)
    with open(os.path.join(db_root, "comments.json"), "w") as f:
        f.write(COMMENTS + "\n")
    st["netns"].append(DB_NS)
    st.save()
    run(["ip", "netns", "add", DB_NS])
    run(["ip", "-n", VPC_NS, "link", "add", "rds", "type", "veth", "peer", "name", "eth0",
         "netns", DB_NS])
    run(["ip", "-n", VPC_NS, "link", "set", "rds", "master", "br0", "up"])
    run(["ip", "-n", DB_NS, "addr", "add", DB_IP + "/24", "dev", "eth0"])
    run(["ip", "-n", DB_NS, "link", "set", "eth0", "up"])
    run(["ip", "-n", DB_NS, "link", "set", "lo", "up"])
    with open(os.path.join(d, "rds.log"), "ab") as out:
        db = subprocess.Popen(["nsenter", "--net=/run/netns/" + DB_NS, "busybox", "httpd", "-f",
                               "-p", "%s:%d" % (DB_IP, DB_PORT), "-h", db_root],
                              stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                              start_new_session=True)
    st.set("db_pid", db.pid)
    api = []
    for k in range(1, n + 1):
        e = Engine(d, k)
        e.import_image()
        e.docker("run", "-d", "--name", "ecs-agent", "--network", "none", IMAGE)
        api.append(start_task(st, moto, e, k, API_FAMILY, API_CONTAINER, api_task_ip(k),
                              "api%d" % k, ["httpd", "-f", "-p", "80", "-h", "/www"],
                              API_SERVICE))
        st.set("api_tasks", api)
    moto.call([("ecs", "create_service", {
        "cluster": CLUSTER, "serviceName": API_SERVICE, "taskDefinition": API_FAMILY,
        "desiredCount": len(api), "launchType": "EC2"}),
               # moto reports running == desired once a desired count is set
               ("ecs", "update_service", {"cluster": CLUSTER, "service": API_SERVICE,
                                          "desiredCount": len(api)})])
    alarm_metrics = {"5xx": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum"),
                     "latency": ("AWS/ApplicationELB", "TargetResponseTime", "Average"),
                     "desired": ("ECS/ContainerInsights", "DesiredTaskCount", "Maximum")}
    # the service's Application Auto Scaling (Autoscaler plays it)
    rid = "service/%s/%s" % (CLUSTER, API_SERVICE)
    moto.call([("application-autoscaling", "register_scalable_target", {
        "ServiceNamespace": "ecs", "ResourceId": rid,
        "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": SCALE_MIN,
        "MaxCapacity": SCALE_MAX})] + [
        ("application-autoscaling", "put_scaling_policy", {
            "PolicyName": name, "ServiceNamespace": "ecs", "ResourceId": rid,
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": target, "PredefinedMetricSpecification": spec,
                "ScaleOutCooldown": SCALE_OUT_COOLDOWN, "ScaleInCooldown": SCALE_IN_AFTER}})
        for name, target, spec in (
            ("local-comments-api-requests", REQUESTS_TARGET, {
                "PredefinedMetricType": "ALBRequestCountPerTarget",
                "ResourceLabel": "app/local-comments/sandbox/targetgroup/local-api/sandbox"}),)])
    # the SRE team's topic, and the queue subscribed to it where its
    # notifications can be read (the infrastructure makes the same pair)
    topic = moto.call([("sns", "create_topic", {"Name": SRE_TOPIC})])[0]["TopicArn"]
    queue = moto.call([("sqs", "create_queue", {"QueueName": SRE_QUEUE})])[0]["QueueUrl"]
    queue_arn = moto.call([("sqs", "get_queue_attributes", {
        "QueueUrl": queue, "AttributeNames": ["QueueArn"]})])[0]["Attributes"]["QueueArn"]
    moto.call([("sns", "subscribe", {"TopicArn": topic, "Protocol": "sqs",
                                     "Endpoint": queue_arn})])
    st.set("sre", {"topic": topic, "queue": queue})
    for alarm, (what, threshold) in ALARM_RULES.items():
        ns, metric, stat = alarm_metrics[what]
        moto.call([("cloudwatch", "put_metric_alarm", {
            "AlarmName": alarm, "Namespace": ns, "MetricName": metric, "Statistic": stat,
            "Period": 60, "EvaluationPeriods": 1, "Threshold": float(threshold),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [topic] if what == "desired" else []}),
                   ("cloudwatch", "set_alarm_state", {
                       "AlarmName": alarm, "StateValue": "OK",
                       "StateReason": "sandbox start"})])
    # the instances' Auto Scaling group (moto puts an empty group's launches
    # in its first subnet: attach the instances that exist instead) and the
    # database as RDS knows it
    lt = moto.call([("ec2", "create_launch_template", {
        "LaunchTemplateName": "local-chaos-comment-ondemand-lt",
        "LaunchTemplateData": {"ImageId": "ami-12c6146b", "InstanceType": "t3.small"}})]
                   )[0]["LaunchTemplate"]["LaunchTemplateId"]
    ids = [inst["instance_id"] for _, inst in sorted(st["instances"].items())]
    moto.call([("autoscaling", "create_auto_scaling_group", {
        "AutoScalingGroupName": ASG_NAME, "MinSize": 0, "MaxSize": MAX_INSTANCES,
        "DesiredCapacity": 0, "VPCZoneIdentifier": ",".join(
            subnets[az] for az in sorted(subnets)),
        "LaunchTemplate": {"LaunchTemplateId": lt, "Version": "$Latest"}}),
               ("autoscaling", "attach_instances", {"AutoScalingGroupName": ASG_NAME,
                                                    "InstanceIds": ids}),
               ("autoscaling", "update_auto_scaling_group", {
                   "AutoScalingGroupName": ASG_NAME, "MinSize": len(ids)}),
               ("rds", "create_db_instance", {
                   "DBInstanceIdentifier": DB_INSTANCE, "Engine": "postgres",
                   "DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20,
                   "MasterUsername": "comments", "MasterUserPassword": "sandbox-only"})])
    moto.call([("ssm", "put_parameter", {"Name": KEY_PARAMETER, "Type": "SecureString",
                                          "Value": keytext})])
    # what the infrastructure publishes for the experiments' look-ups, under
    # /local/ (the live stack writes the same names under /live/)
    moto.call([("ssm", "put_parameter", {"Name": name, "Type": "String", "Value": value})
               for name, value in published_values(st).items()])
    write_tasks(d, st["api_tasks"])

    # the load balancer and CloudWatch's data, detached
    with open(os.path.join(d, "lb.log"), "ab") as out:
        lb = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--dir", d,
                               "_services"],
                              stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                              start_new_session=True)
    st.set("lb_pid", lb.pid)
    wait_until(lambda: tcp_answers(HOST_IP, LB_PORT), 15, "load balancer")
    wait_until(lambda: tcp_answers(DB_IP, DB_PORT), 15, "database")
    for t in api:
        wait_until(lambda: tcp_answers(t["ip"], 80), 15, "task %s" % t["arn"])
    with open(os.path.join(d, "env"), "w") as f:
        for k, v in sandbox_env(st).items():
            f.write("export %s=%s\n" % (k, shquote(v)))


def published_values(st):
    """The SSM parameters of the sandbox: the names and URLs the library's
    experiments look up as /${environment}/..., environment = local."""
    p = "/local/app/comments/"
    rules = {what: name for name, (what, _) in ALARM_RULES.items()}
    return {
        p + "cluster_name": CLUSTER,
        p + "autoscaling_group/ondemand/name": ASG_NAME,
        p + "web_url": "http://%s:%d" % (HOST_IP, LB_PORT),
        p + "sre/notification_topic_arn": st["sre"]["topic"],
        p + "sre/notification_queue_url": st["sre"]["queue"],
        p + "db_instance_identifier": DB_INSTANCE,
        p + "db_instance_address": DB_IP,
        p + "db_port": str(DB_PORT),
        p + "services/api/name": API_SERVICE,
        p + "services/api/container_name": API_CONTAINER,
        p + "services/api/max_count": "4",
        p + "alarms/errors_internal": rules["5xx"],
        p + "alarms/latency_public": rules["latency"],
        p + "alarms/max_capacity_api": rules["desired"],
        "/local/chaos/agent_key_parameter": KEY_PARAMETER,
        "/local/vpc/private_subnets_by_az": json.dumps(st["subnets"], sort_keys=True),
    }


def child_of(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        kids = f.read().split()
    if len(kids) != 1:
        raise SandboxError("unshare %d has children %s, expected one" % (pid, kids))
    return int(kids[0])


def shquote(v):
    return "'" + v.replace("'", "'\\''") + "'"


def sandbox_env(st):
    venv_bin = os.path.join(ROOT, ".venv", "bin")
    return {
        "AWS_ENDPOINT_URL": st["moto"]["url"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CHAOS_SANDBOX_DIR": st["dir"],
        "PATH": os.pathsep.join([os.path.join(ROOT, "bin"), venv_bin,
                                 os.path.join(ROOT, "build", "tools", "bin"),
                                 os.environ.get("PATH", "/usr/bin:/bin")]),
    }


def print_summary(st):
    print("sandbox up in %s" % st["dir"])
    print("  service   http://%s:%d/users (load balancer over %d API tasks)"
          % (HOST_IP, LB_PORT, len(st["api_tasks"])))
    print("  database  http://%s:%d/comments.json" % (DB_IP, DB_PORT))
    print("  moto      %s (cluster %s)" % (st["moto"]["url"], CLUSTER))
    for k, inst in sorted(st["instances"].items()):
        print("  %s  %s %s  agent http://%s:%d  docker unix://%s" % (
            inst["name"], inst["az"], inst.get("instance_id", "?"), inst["ip"], AGENT_PORT,
            inst["socket"]))
    me = sys.argv[0] if st["dir"] == DEFAULT_DIR else "%s --dir %s" % (sys.argv[0], st["dir"])
    print("use it:    eval \"$(%s env)\"" % me)
    print("           chaosctl --cluster %s --key-ssm-parameter %s info" % (CLUSTER,
                                                                           KEY_PARAMETER))
    print("remove it: %s down" % me)


# -------------------------------------------------------------------- down


def kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def teardown(st):
    """Remove everything st records; safe to run on a partial sandbox and twice."""
    d = st.get("dir")
    for k, inst in sorted(st.get("instances", {}).items()):
        e = Engine(d, int(k))
        if e.ping():
            # paused containers ignore SIGKILL: have the engine remove them
            ids = e.docker("ps", "-aq", check=False, timeout=30).split()
            if ids:
                e.docker("rm", "-f", *ids, check=False, timeout=60)
        ids = container_ids(os.path.join(e.dir, "data"))
        thaw(ids)
        init = inst.get("init_pid")
        if init and alive(init):
            kill_pid(init, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while alive(init) and time.monotonic() < deadline:
                time.sleep(0.1)
        if init and alive(init):
            kill_pid(init, signal.SIGKILL)
        kill_group(inst["unshare_pid"], signal.SIGKILL)
        remove_cgroups(ids)
    for key in ("lb_pid", "db_pid"):
        if st.get(key):
            kill_group(st[key], signal.SIGTERM)
    if st.get("moto"):
        kill_group(st["moto"]["pid"], signal.SIGTERM)
        time.sleep(0.2)
        kill_group(st["moto"]["pid"], signal.SIGKILL)
    for ns in reversed(st.get("netns", [])):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["ip", "link", "del", HOST_IF], capture_output=True)
    if d:
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[1].startswith(d + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def down(args):
    st = State(args.dir)
    if not st.data:
        if os.path.exists("/run/netns/" + VPC_NS):
            raise SandboxError("no state in %s but %s exists: a sandbox in another "
                               "directory? (down --dir DIR)" % (args.dir, VPC_NS))
        log("nothing to remove in %s" % args.dir)
        return 0
    teardown(st)
    log("removed")
    return 0


def status(args):
    st = State(args.dir)
    if not st.data:
        print("no sandbox in %s" % args.dir)
        return 1
    bad = 0
    for k, inst in sorted(st.get("instances", {}).items()):
        ok_docker = Engine(args.dir, int(k)).ping()
        ok_agent = tcp_answers(inst["ip"], AGENT_PORT)
        bad += not (ok_docker and ok_agent)
        print("%s  dockerd %s  agent %s" % (inst["name"], "up" if ok_docker else "DOWN",
                                            "up" if ok_agent else "DOWN"))
    ok_lb = tcp_answers(HOST_IP, LB_PORT)
    ok_moto = st.get("moto") and tcp_answers("127.0.0.1", st["moto"]["port"])
    bad += not (ok_lb and ok_moto)
    print("load balancer %s  moto %s" % ("up" if ok_lb else "DOWN", "up" if ok_moto else "DOWN"))
    return 1 if bad else 0


def env(args):
    st = State(args.dir)
    if not st.data or not st.get("moto"):
        raise SandboxError("no sandbox in %s: run '%s up' first" % (args.dir, sys.argv[0]))
    for k, v in sandbox_env(st).items():
        print("export %s=%s" % (k, shquote(v)))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="sandbox.py", description="An ECS cluster on one machine: network namespaces "
        "as container instances with real agents and Docker engines, moto as AWS.",
        epilog="Needs root, Docker (dockerd, docker), iproute2 and the project's .venv. "
        "One sandbox per machine: its addresses (10.99.0.0/24) and namespace names (ckx-*) "
        "are fixed.")
    ap.add_argument("--dir", default=os.environ.get("CHAOS_SANDBOX_DIR", DEFAULT_DIR),
                    help="where its state, logs and engines live (default %(default)s)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up", help="build the sandbox")
    p.add_argument("--instances", type=int, default=2,
                   help="container instances, 1 to %d (default 2)" % MAX_INSTANCES)
    sub.add_parser("down", help="remove everything up made")
    sub.add_parser("status", help="which parts answer; exit 1 if one does not")
    sub.add_parser("env", help="print the environment that points chaosctl and Chaos "
                   "Toolkit at the sandbox (for eval)")
    p = sub.add_parser("_init")
    p.add_argument("--index", type=int, required=True)
    sub.add_parser("_services")
    args = ap.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    try:
        if args.cmd == "_init":
            return instance_init(args.dir, args.index)
        if args.cmd == "_services":
            services(args.dir)
            return 0
        return {"up": up, "down": down, "status": status, "env": env}[args.cmd](args)
    except SandboxError as exc:
        log(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
