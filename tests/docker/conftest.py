"""Fixtures for the container tests: one private Docker engine for the
session, a chaos-agent per test pointed at it, and the real chaosctl."""
import json
import os
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from dockerd import Dockerd  # noqa: E402
from procs import wait_for  # noqa: E402,F401

AGENT = os.path.join(ROOT, "bin", "chaos-agent")
CTL = os.path.join(ROOT, "bin", "chaosctl")




@pytest.fixture(scope="session")
def dockerd():
    d = Dockerd()
    try:
        d.start()
        d.ensure_image()
        yield d
    finally:
        d.stop()


@pytest.fixture
def docker(dockerd):
    """The session engine, emptied after each test."""
    yield dockerd
    dockerd.remove_all()


class Agent:
    def __init__(self, tmp_path, socket, sets=()):
        self.dir = tmp_path
        self.key = str(tmp_path / "agent.key")
        if not os.path.exists(self.key):
            subprocess.run([CTL, "keygen", "--out", self.key], check=True,
                           capture_output=True)
        self.state = str(tmp_path / "state")
        self.logpath = str(tmp_path / "agent.log")
        self.sets = ["docker_socket=" + socket] + list(sets)
        self.proc = None
        self.port = None

    def start(self):
        argv = [AGENT, "--listen", "127.0.0.1:0", "--key-file", self.key,
                "--state-dir", self.state]
        for s in self.sets:
            argv += ["--set", s]
        self.logfile = open(self.logpath, "ab")
        start = os.path.getsize(self.logpath)
        self.proc = subprocess.Popen(argv, stderr=self.logfile, stdout=subprocess.DEVNULL)

        def listening():
            for ev in self.events("listening", since=start):
                return ev
            if self.proc.poll() is not None:
                raise AssertionError("agent exited:\n" + self.log())
            return None
        self.port = wait_for(listening, 10, what="the agent to listen")["port"]
        return self

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def events(self, name, since=0):
        out = []
        with open(self.logpath, errors="replace") as f:
            f.seek(since)
            for line in f:
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if o.get("event") == name:
                    out.append(o)
        return out

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def ctl(self, *args, check=None):
        """Run chaosctl --output json; returns (exit code, document)."""
        p = subprocess.run([CTL, "--agent", self.url, "--key-file", self.key,
                            "--output", "json", *args], capture_output=True, text=True,
                           timeout=120)
        doc = json.loads(p.stdout) if p.stdout.strip() else None
        if check is not None:
            assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
        return p.returncode, doc

    def result(self, *args, check=0):
        """The one agent's answer body of a chaosctl command."""
        _, doc = self.ctl(*args, check=check)
        return doc["results"][0]

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logfile", None):
            self.logfile.close()
            self.logfile = None


@pytest.fixture
def agent_factory(tmp_path, dockerd):
    agents = []

    def make(sets=(), socket=None, start=True):
        a = Agent(tmp_path, socket or dockerd.socket, sets)
        agents.append(a)
        return a.start() if start else a
    yield make
    for a in agents:
        a.stop()


@pytest.fixture
def agent(agent_factory, docker):
    return agent_factory()
