"""The agent key from an SSM SecureString parameter (--key-ssm-parameter),
used against a real local agent."""
import json
import os
import subprocess
import time

import pytest

from conftest import ROOT, clean_env, run_ctl, describe
from moto import MotoServer

AGENT = os.path.join(ROOT, "bin", "chaos-agent")


@pytest.fixture
def agent(tmp_path):
    key = tmp_path / "agent.key"
    subprocess.run([os.path.join(ROOT, "bin", "chaosctl"), "keygen", "--out", str(key)],
                   check=True, capture_output=True)
    log = open(tmp_path / "agent.log", "w+")
    p = subprocess.Popen([AGENT, "--listen", "127.0.0.1:0", "--key-file", str(key),
                          "--state-dir", str(tmp_path / "st"),
                          "--set", "docker_socket=/nonexistent"], stderr=log)
    port = None
    for _ in range(100):
        log.seek(0)
        for line in log:
            if '"event":"listening"' in line:
                port = json.loads(line)["port"]
        if port:
            break
        time.sleep(0.05)
    assert port, "agent did not start"
    yield "http://127.0.0.1:%d" % port, key.read_text()
    p.terminate()
    p.wait(timeout=10)


def test_key_from_ssm(venv, tmp_path, agent, home):
    url, keytext = agent
    s = MotoServer(log_dir=str(tmp_path))
    s.start()
    try:
        s.call([("ssm", "put_parameter", {"Name": "/chaos/agent-key", "Type":
                                          "SecureString", "Value": keytext})])
        env = clean_env(home, **s.env())
        r = run_ctl(["--agent", url, "--key-ssm-parameter", "/chaos/agent-key", "--output",
                     "json", "info"], env)
        assert r.returncode == 0, describe(r)
        assert json.loads(r.stdout)["results"][0]["status"] == 200
        r = run_ctl(["--agent", url, "--key-ssm-parameter", "/chaos/nosuch", "info"], env)
        assert r.returncode == 3 and "ParameterNotFound" in r.stderr, describe(r)
        s.call([("ssm", "put_parameter", {"Name": "/chaos/bad", "Type": "SecureString",
                                          "Value": "not a key file"})])
        r = run_ctl(["--agent", url, "--key-ssm-parameter", "/chaos/bad", "info"], env)
        assert r.returncode == 2 and "/chaos/bad" in r.stderr, describe(r)
        assert keytext.split()[1] not in r.stderr + r.stdout
    finally:
        s.stop()
