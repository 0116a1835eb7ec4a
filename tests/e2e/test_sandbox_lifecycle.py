"""The sandbox's own promises (tests/sandbox/sandbox.py): it refuses to
start over namespaces it did not make, removes everything when `up` is
interrupted, and `down`, `status` and `env` behave without a sandbox."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import ROOT

SANDBOX = os.path.join(ROOT, "tests", "sandbox", "sandbox.py")


@pytest.fixture
def sbx_dir(venv):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root (network namespaces, dockerd)")
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd is not installed (scripts/install-deps.sh)")
    d = tempfile.mkdtemp(prefix="ckx-l-", dir="/tmp")
    yield d
    subprocess.run([sys.executable, SANDBOX, "--dir", d, "down"], capture_output=True,
                   timeout=120)
    shutil.rmtree(d, ignore_errors=True)


def sandbox(d, *args, timeout=120):
    return subprocess.run([sys.executable, SANDBOX, "--dir", d, *args], capture_output=True,
                          text=True, timeout=timeout)


def leftovers(d):
    """Namespaces and processes of a sandbox in d, if any."""
    ns = [n for n in os.listdir("/run/netns") if n.startswith("ckx-")] \
        if os.path.isdir("/run/netns") else []
    procs = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if d in cmd:
            procs.append(cmd[:120])
    return ns, procs


def test_without_a_sandbox_down_status_and_env_say_so(sbx_dir):
    r = sandbox(sbx_dir, "down")
    assert r.returncode == 0 and "nothing to remove" in r.stderr, r
    r = sandbox(sbx_dir, "status")
    assert r.returncode == 1 and "no sandbox in " + sbx_dir in r.stdout, r
    r = sandbox(sbx_dir, "env")
    assert r.returncode == 1 and "up' first" in r.stderr, r
    r = sandbox(sbx_dir, "up", "--instances", "5")
    assert r.returncode == 1 and "--instances: 5 is out of range (1 to 4)" in r.stderr, r


def test_up_refuses_namespaces_it_did_not_make(sbx_dir):
    subprocess.run(["ip", "netns", "add", "ckx-i2"], check=True)
    try:
        r = sandbox(sbx_dir, "up")
        assert r.returncode == 1, r
        assert "ckx-i2 exist already" in r.stderr, r.stderr
        assert os.path.exists("/run/netns/ckx-i2"), "up removed a namespace it did not make"
        assert leftovers(sbx_dir) == (["ckx-i2"], [])
        assert not os.path.exists(os.path.join(sbx_dir, "state.json"))
    finally:
        subprocess.run(["ip", "netns", "del", "ckx-i2"], check=True)


@pytest.mark.parametrize("when,key", [
    ("instances starting", "instances"),     # engines and agents on their way up
    ("tasks running", "api_tasks"),          # containers, task namespaces, moto's cluster
])
def test_interrupted_up_removes_everything_it_made(sbx_dir, when, key):
    p = subprocess.Popen([sys.executable, SANDBOX, "--dir", sbx_dir, "up"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = os.path.join(sbx_dir, "state.json")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(state) as f:
                if len(json.load(f).get(key, {})) >= 1:
                    break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    else:
        p.kill()
        pytest.fail("up did not get to " + when)
    ns, procs = leftovers(sbx_dir)
    assert "ckx-vpc" in ns and procs, (ns, procs)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode != 0
    assert "removing what it made" in err, err
    deadline = time.monotonic() + 10
    while leftovers(sbx_dir) != ([], []) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers(sbx_dir) == ([], [])
    assert not os.path.exists(sbx_dir)
