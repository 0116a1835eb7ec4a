"""Fixtures for the end-to-end tests of `chaosctl run`: the real chaosctl,
real Chaos Toolkit from the project virtualenv (.venv/, made by
scripts/setup-venv.sh once per session), a stand-in chaos that records how
it was started (fake_chaos.py), and moto's S3 server for journal uploads.

Each test works on its own copy of experiments/sample/ under tmp_path, so
run directories never land in the source tree.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from procs import proc_alive, proc_children, wait_for  # noqa: E402,F401

from moto import MotoServer  # noqa: E402

CTL_BIN = os.path.join(ROOT, "bin", "chaosctl")
VENV = os.path.join(ROOT, ".venv")
CHAOS_BIN = os.path.join(VENV, "bin", "chaos")
SETUP_VENV = os.path.join(ROOT, "scripts", "setup-venv.sh")
FAKE_CHAOS = os.path.join(HERE, "fake_chaos.py")
SAMPLE_DIR = os.path.join(HERE, "experiments", "sample")

RUN_DIR_RE = re.compile(r"^chaosctl: run directory (.+)$", re.M)


# ------------------------------------------------------------ environment


def clean_env(home, **extra):
    """os.environ without CHAOS_*/AWS_* and with HOME in the test's tmp dir
    (no ~/.aws of the machine leaks in), plus extra (None values removed)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CHAOS_", "FAKE_CHAOS_"))}
    env["HOME"] = str(home)
    env["AWS_CONFIG_FILE"] = os.path.join(str(home), "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(str(home), "no-aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def run_ctl(args, env, cwd=None, timeout=120):
    """Run bin/chaosctl ARGS; returns the CompletedProcess (text)."""
    return subprocess.run([CTL_BIN] + [str(a) for a in args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def describe(r):
    return "rc=%d\n--- stdout\n%s\n--- stderr\n%s" % (r.returncode, r.stdout, r.stderr)


def run_dir_of(r):
    """The run directory chaosctl announced on stderr."""
    m = RUN_DIR_RE.findall(r.stderr)
    assert m, "no 'chaosctl: run directory' line on stderr:\n" + describe(r)
    assert len(m) == 1, describe(r)
    return m[0].strip()


def error_line(r):
    """chaosctl's one error line: exit 2, one line on stderr starting 'chaosctl:'."""
    assert r.returncode == 2, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, "want exactly one stderr line:\n" + describe(r)
    assert lines[0].startswith("chaosctl:"), describe(r)
    return lines[0]


def load_json(path):
    with open(path) as f:
        return json.load(f)








# ------------------------------------------------------------- fixtures


@pytest.fixture(scope="session", autouse=True)
def chaosctl_built():
    if not os.access(CTL_BIN, os.X_OK):
        pytest.fail("%s missing: run 'make' first" % CTL_BIN)


@pytest.fixture(scope="session")
def venv():
    """The project virtualenv with chaos and moto_server: scripts/setup-venv.sh
    once per session. Fails (does not skip) with the script's message."""
    t0 = time.monotonic()
    p = subprocess.run([SETUP_VENV], capture_output=True, text=True, timeout=1800,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        pytest.fail("scripts/setup-venv.sh failed (%d):\n%s%s"
                    % (p.returncode, p.stdout, p.stderr), pytrace=False)
    for b in (CHAOS_BIN, os.path.join(VENV, "bin", "moto_server")):
        if not os.access(b, os.X_OK):
            pytest.fail("%s missing after scripts/setup-venv.sh:\n%s" % (b, p.stdout + p.stderr),
                        pytrace=False)
    sys.stderr.write("\n[setup-venv %.1fs] %s" % (time.monotonic() - t0, p.stdout))
    return VENV


@pytest.fixture(scope="session")
def moto(venv, tmp_path_factory):
    """One moto S3 server for the session, with SigV4 signature checks on:
    env() carries an IAM access key that moto knows. Tests use their own
    buckets."""
    server = MotoServer(verify_signatures=True,
                        log_dir=str(tmp_path_factory.mktemp("moto")))
    try:
        server.start()
    except Exception as e:  # noqa: BLE001
        server.stop()
        pytest.fail("moto_server: %s" % e, pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def sample(tmp_path):
    """A private copy of experiments/sample/ (experiment.conf, the YAML
    experiments, var files); returns its path (a pathlib.Path)."""
    dst = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, dst, ignore=shutil.ignore_patterns("runs", "*.log"))
    return dst


@pytest.fixture
def out_dir(tmp_path):
    """Where the sample experiment writes its markers ($SAMPLE_OUT)."""
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def fake(tmp_path):
    """The stand-in chaos: .path for --chaos, .env() for its variables,
    .record() for what it saw (None when it never ran)."""

    class Fake:
        path = FAKE_CHAOS
        record_file = str(tmp_path / "fake-chaos.json")

        def env(self, **kw):
            e = {"FAKE_CHAOS_RECORD": self.record_file}
            for k, v in kw.items():
                e["FAKE_CHAOS_" + k.upper()] = v
            return e

        def record(self):
            try:
                return load_json(self.record_file)
            except FileNotFoundError:
                return None

        def ran(self):
            return os.path.exists(self.record_file)

    return Fake()


@pytest.fixture
def reap():
    """Processes started by a test, killed at teardown if still there."""
    procs = []
    yield procs
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)


# ------------------------------------------------------------------ agents


class LocalAgent:
    """A real chaos-agent on 127.0.0.1 (port 0) with its own key."""

    def __init__(self, tmp_path, docker_socket="/nonexistent/docker.sock", sets=None,
                 env=None, name="agent", key=None):
        self.key = key or str(tmp_path / (name + ".key"))
        if key is None:
            subprocess.run([CTL_BIN, "keygen", "--out", self.key], check=True,
                           capture_output=True)
        with open(self.key) as f:
            self.keytext = f.read()
        self.log = open(tmp_path / (name + ".log"), "w+")
        argv = [os.path.join(ROOT, "bin", "chaos-agent"), "--listen", "127.0.0.1:0",
                "--key-file", self.key, "--state-dir", str(tmp_path / (name + "-state")),
                "--set", "docker_socket=" + docker_socket]
        for k, v in (sets or {}).items():
            argv += ["--set", "%s=%s" % (k, v)]
        self.proc = subprocess.Popen(argv, stderr=self.log,
                                     env=dict(os.environ, **(env or {})))
        self.port = None
        for _ in range(200):
            self.log.seek(0)
            for line in self.log:
                if '"event":"listening"' in line:
                    self.port = json.loads(line)["port"]
            if self.port or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            self.log.seek(0)
            self.stop()
            pytest.fail("the agent did not start:\n" + self.log.read(), pytrace=False)
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def local_agent(tmp_path):
    """local_agent(docker_socket=...) starts one; all stop after the test."""
    agents = []

    def start(**kw):
        a = LocalAgent(tmp_path, **kw)
        agents.append(a)
        return a
    yield start
    for a in agents:
        a.stop()
