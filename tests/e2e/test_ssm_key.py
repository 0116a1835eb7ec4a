"""The agent key from an SSM SecureString parameter (--key-ssm-parameter),
used against a real local agent."""
import json

from conftest import clean_env, run_ctl, describe
from moto import MotoServer


def test_key_from_ssm(venv, tmp_path, local_agent, home):
    a = local_agent()
    url, keytext = a.url, a.keytext
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
