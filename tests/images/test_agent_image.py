"""The agent image (packaging/daemon) run as its ECS task definition says,
on a container instance of the sandbox: that instance's Docker engine
starts it with the instance's PID and network namespaces (pidMode and
networkMode host), its Docker socket, a state directory on the "host" and
the capabilities, tmpfs and read-only root of task-definition.json, which
docker_run() below translates field by field (a field it does not know
fails the test, so the definition cannot grow what the test ignores). The
key arrives as the CHAOS_AGENT_KEY variable, as ECS `secrets` deliver it.

The instance's own agent (a host process) holds port 8421, so this one
listens on 8422 (CHAOS_AGENT_PORT) of the address the entry point finds.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, run, wait_for

TASK_DEFINITION = os.path.join(ROOT, "packaging", "daemon", "task-definition.json")
CTL = os.path.join(ROOT, "bin", "chaosctl")
PORT = 8422
INSTANCE = 1
# docs/security.md's table: CAP_KILL 5, SETGID 6, SETUID 7, SETPCAP 8,
# NET_ADMIN 12, SYS_PTRACE 19, SYS_ADMIN 21
TABLE_CAPS = 0x2811e0

# What docker_run() reproduces; logConfiguration (awslogs) has no engine
# here and stays the engine's default.
CONTAINER_KEYS = {"name", "image", "essential", "cpu", "memoryReservation",
                  "readonlyRootFilesystem", "stopTimeout", "environment", "secrets",
                  "linuxParameters", "mountPoints", "logConfiguration"}


def docker_run(td, image, name, host_paths, secrets, env_override):
    """`docker run` arguments for the task definition's one container."""
    assert set(td) <= {"family", "requiresCompatibilities", "networkMode", "pidMode",
                       "executionRoleArn", "containerDefinitions", "volumes"}, set(td)
    (c,) = td["containerDefinitions"]
    assert set(c) <= CONTAINER_KEYS, set(c) - CONTAINER_KEYS
    assert set(c["linuxParameters"]) <= {"capabilities", "tmpfs"}, c["linuxParameters"]
    args = ["run", "-d", "--name", name, "--pid", td["pidMode"],
            "--network", td["networkMode"], "--stop-timeout", str(c["stopTimeout"]),
            "--cpu-shares", str(c["cpu"]), "--memory-reservation",
            "%dm" % c["memoryReservation"]]
    if c["readonlyRootFilesystem"]:
        args.append("--read-only")
    caps = c["linuxParameters"]["capabilities"]
    args += [a for cap in caps.get("drop", []) for a in ("--cap-drop", cap)]
    args += [a for cap in caps.get("add", []) for a in ("--cap-add", cap)]
    for t in c["linuxParameters"].get("tmpfs", []):
        args += ["--tmpfs", "%s:%s" % (t["containerPath"],
                                       ",".join(t["mountOptions"] + ["size=%dm" % t["size"]]))]
    volumes = {v["name"]: v["host"]["sourcePath"] for v in td["volumes"]}
    for m in c["mountPoints"]:
        src = host_paths[volumes[m["sourceVolume"]]]
        args += ["-v", "%s:%s%s" % (src, m["containerPath"], ":ro" if m["readOnly"] else "")]
    for e in c["environment"]:
        args += ["-e", "%s=%s" % (e["name"], env_override.get(e["name"], e["value"]))]
    for s in c["secrets"]:
        args += ["-e", "%s=%s" % (s["name"], secrets[s["valueFrom"]])]
    return args + [image]


class DaemonTask:
    """The agent container on one sandbox instance, started like ECS would."""

    def __init__(self, sandbox, engine, image, tmp):
        self.sandbox, self.image = sandbox, image
        self.inst = sandbox.engine(INSTANCE)
        self.ip = sandbox.state["instances"][str(INSTANCE)]["ip"]
        self.url = "http://%s:%d" % (self.ip, PORT)
        self.dir = tmp
        self.key = os.path.join(tmp, "agent.key")
        run([CTL, "keygen", "--out", self.key])
        self.state = os.path.join(tmp, "state")    # the host's /var/lib/chaos-agent
        os.makedirs(self.state, mode=0o700)
        with open(TASK_DEFINITION) as f:
            self.td = json.load(f)
        self.names = []
        # the image, from the build engine into the instance's
        save = subprocess.Popen(["docker", "-H", "unix://" + engine.socket, "save", image],
                                stdout=subprocess.PIPE)
        load = subprocess.run(["docker", "-H", "unix://" + self.inst.socket, "load"],
                              stdin=save.stdout, capture_output=True, text=True, timeout=600)
        save.stdout.close()
        assert save.wait(timeout=600) == 0 and load.returncode == 0, load.stderr

    def start(self):
        name = "ecs-chaos-agent-%d" % (len(self.names) + 1)
        with open(self.key) as f:
            keytext = f.read()
        c = self.td["containerDefinitions"][0]
        args = docker_run(self.td, self.image, name, {
            "/var/run/docker.sock": self.inst.socket,
            "/var/lib/chaos-agent": self.state,
            "/sys/fs/cgroup": "/sys/fs/cgroup",
        }, {c["secrets"][0]["valueFrom"]: keytext}, {"CHAOS_AGENT_PORT": str(PORT)})
        self.inst.docker(*args)
        self.names.append(name)
        wait_for(lambda: '"event":"listening"' in self.logs(name).replace(" ", ""), 30,
                 interval=0.1, desc="the agent container to listen")
        return name

    def logs(self, name):
        p = run(["docker", "-H", "unix://" + self.inst.socket, "logs", name], check=False)
        return p.stdout + p.stderr

    def ctl(self, *args, check=0):
        p = run([CTL, "--agent", self.url, "--key-file", self.key, "--output", "json", *args],
                check=False, timeout=60)
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout)["results"][0]["body"]

    def api_state(self):
        (state,) = self.sandbox.containers(INSTANCE, "comments-api").values()
        return state

    def remove(self):
        for name in self.names:
            self.inst.docker("rm", "-f", name, check=False)


@pytest.fixture
def daemon(sandbox, engine, images):
    tmp = tempfile.mkdtemp(prefix="ckimg-daemon-")
    d = DaemonTask(sandbox, engine, images["agent"], tmp)
    try:
        yield d
    finally:
        d.remove()
        # the agents revert at start and stop: nothing stays paused
        for n, s in sandbox.containers(INSTANCE).items():
            if s == "paused":
                sandbox.engine(INSTANCE).docker("unpause", n, check=False)
        d.inst.docker("rmi", "-f", images["agent"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def test_agent_image_is_small(images):
    size = images["size"][images["agent"]]
    print("agent image: %.0f MB" % (size / 1e6))
    assert size < 120e6, "the agent image is %.0f MB" % (size / 1e6)


def test_daemon_task_answers_and_reverts_a_pause_at_its_deadline(daemon):
    name = daemon.start()
    logs = daemon.logs(name)
    assert "CHAOS_AGENT_KEY" not in logs
    # the key is on the tmpfs, root's, mode 0600; not in the agent's environment
    pid = daemon.inst.docker("inspect", "-f", "{{.State.Pid}}", name)
    out = daemon.inst.docker("exec", name, "sh", "-c",
                             "stat -c '%%a %%U' /run/chaos-agent/agent.key; "
                             "stat -f -c %%T /run/chaos-agent; "
                             "tr '\\0' '\\n' </proc/%s/environ | grep -c CHAOS_AGENT_KEY; "
                             "grep -E '^Cap(Eff|Bnd):' /proc/%s/status" % (pid, pid),
                             check=False)
    lines = out.splitlines()
    assert lines[:3] == ["600 root", "tmpfs", "0"], out
    caps = dict(line.split(":\t") for line in lines[3:])
    assert int(caps["CapEff"], 16) == TABLE_CAPS and int(caps["CapBnd"], 16) == TABLE_CAPS, caps
    info = daemon.ctl("info")
    avail = {c["type"]: c["available"] for c in info["capabilities"]}
    assert avail["pause-container"] and avail["burn-cpu"] and avail["kill-process"], info
    # pause the instance's API container for 4 s; it runs again at the deadline
    assert daemon.api_state() == "running"
    t0 = time.monotonic()
    fault = daemon.ctl("inject", "pause-container", "--container", "comments-api",
                       "--duration", "4", check=0)
    assert daemon.api_state() == "paused", fault
    wait_for(lambda: daemon.api_state() == "running", 20, interval=0.05,
             desc="the container to run again at the deadline")
    late = time.monotonic() - t0 - 4
    print("daemon task: paused at once, running again %.2f s after the 4 s deadline" % late)
    assert late < 2.0, late


def test_a_replacement_task_reverts_what_a_killed_one_left(daemon):
    first = daemon.start()
    daemon.ctl("inject", "pause-container", "--container", "comments-api",
               "--duration", "600")
    assert daemon.api_state() == "paused"
    # SIGKILL: no revert on the way out; the record stays in the host's state dir
    daemon.inst.docker("kill", first)
    time.sleep(1)
    assert daemon.api_state() == "paused"
    with open(os.path.join(daemon.state, "state.json")) as f:
        assert "pause-container" in f.read()
    t0 = time.monotonic()
    daemon.start()
    wait_for(lambda: daemon.api_state() == "running", 30, interval=0.1,
             desc="the new agent to revert its predecessor's pause")
    print("replacement task: the pause left by the killed one reverted %.1f s after "
          "its start" % (time.monotonic() - t0))
    # the new agent reverted the fault at its start: nothing is active
    assert daemon.ctl("faults", "--state", "active")["faults"] == []
