"""--stop-alarm: a CloudWatch alarm in moto stops a real Chaos Toolkit run
whose experiment injected a fault into a real local agent through
chaosctl; the fault is reverted and the rollbacks run."""
import json
import os
import subprocess
import time

from conftest import ROOT, CHAOS_BIN, clean_env, run_ctl, describe
from moto import MotoServer

CTL = os.path.join(ROOT, "bin", "chaosctl")

EXPERIMENT = """version: 1.0.0
title: Stop alarm
description: burn, then wait long enough for the alarm
method:
  - type: action
    name: burn
    provider:
      type: process
      path: %(ctl)s
      arguments: [inject, burn-cpu, --duration, "60", --load, "5", --cores, "1"]
  - type: action
    name: wait
    provider:
      type: process
      path: /bin/sleep
      arguments: ["40"]
rollbacks:
  - type: action
    name: mark
    provider:
      type: process
      path: /bin/sh
      arguments: ["-c", "echo rolled back > %(dir)s/rollback.done"]
"""


def faults(url, env):
    r = run_ctl(["--agent", url, "--output", "json", "faults"], env)
    assert r.returncode == 0, describe(r)
    return r and json.loads(r.stdout)["results"][0]["body"]["faults"]


def test_alarm_stops_the_run_and_reverts_its_faults(venv, tmp_path, local_agent, home):
    a = local_agent()
    url, keytext = a.url, a.keytext
    key = tmp_path / "ctl.key"
    key.write_text(keytext)
    key.chmod(0o600)
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "experiment.yaml").write_text(
        EXPERIMENT % {"ctl": CTL, "dir": str(tmp_path)})
    (tmp_path / "exp" / "experiment.conf").write_text("[DEFAULT]\n")
    s = MotoServer(log_dir=str(tmp_path))
    s.start()
    try:
        s.call([("cloudwatch", "put_metric_alarm", {
            "AlarmName": "chaos-stop", "MetricName": "Errors", "Namespace": "App",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold"}),
            ("cloudwatch", "set_alarm_state", {"AlarmName": "chaos-stop",
                                               "StateValue": "OK", "StateReason": "t"})])
        env = clean_env(home, CHAOS_AGENTS=url, CHAOS_AGENT_KEY_FILE=str(key), **s.env())
        conf = str(tmp_path / "exp" / "experiment.conf")
        # A missing alarm is a usage error; nothing starts.
        r = run_ctl(["run", conf, "--chaos", CHAOS_BIN, "--stop-alarm", "nosuch"], env)
        assert r.returncode == 2 and "nosuch" in r.stderr, describe(r)
        r = run_ctl(["inject", "burn-cpu", "--duration", "5", "--stop-alarm", "nosuch"], env)
        assert r.returncode == 2 and "nosuch" in r.stderr, describe(r)
        assert not faults(url, env), "inject started a fault"
        p = subprocess.Popen([CTL, "run", conf, "--chaos", CHAOS_BIN, "--stop-alarm",
                              "chaos-stop"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not [f for f in faults(url, env) if f["state"] == "active"]:
                assert time.monotonic() < deadline, "the experiment injected nothing"
                time.sleep(0.3)
            s.call([("cloudwatch", "set_alarm_state", {
                "AlarmName": "chaos-stop", "StateValue": "ALARM", "StateReason": "test"})])
            t0 = time.monotonic()
            out, err = p.communicate(timeout=40)
            stopped = time.monotonic() - t0
        finally:
            if p.poll() is None:
                p.kill()
        assert p.returncode != 0, err
        assert "stop alarm chaos-stop is in ALARM" in err, err
        assert stopped < 20, stopped       # not the 40 s sleep
        fs = faults(url, env)
        assert fs and all(f["state"] == "reverted" for f in fs), fs
        assert (tmp_path / "rollback.done").exists(), err
        run_dir = [l.split(" ", 3)[3] for l in err.splitlines()
                   if l.startswith("chaosctl: run directory ")][0]
        assert os.path.exists(os.path.join(run_dir, "journal.json"))
        # In ALARM already: the run does not start.
        r = run_ctl(["run", conf, "--chaos", CHAOS_BIN, "--stop-alarm", "chaos-stop"], env)
        assert r.returncode == 1 and "not starting" in r.stderr, describe(r)
        assert "run directory" not in r.stderr
    finally:
        s.stop()


def test_expiring_credentials_are_refreshed_during_a_run(venv, tmp_path, home):
    """Instance-metadata credentials that expire within minutes are fetched
    again before each alarm check of a long run (moto checks signatures)."""
    import datetime
    import http.server
    import threading

    from test_discovery import Metadata

    s = MotoServer(log_dir=str(tmp_path))
    s.start()
    try:
        s.call([("cloudwatch", "put_metric_alarm", {
            "AlarmName": "calm", "MetricName": "Errors", "Namespace": "App",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold"})])
        s.key_id, s.secret = s.create_iam_key(
            user="refresh", policy_actions=("monitoring:*", "cloudwatch:*", "iam:*", "sts:*"))
        s._reset_auth(0)
        soon = (datetime.datetime.now(datetime.timezone.utc) +
                datetime.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")

        class Expiring(Metadata):
            def do_GET(self):
                if self.path.endswith("/chaos-role"):
                    self.seen.append(("GET", self.path))
                    if self.headers.get("X-aws-ec2-metadata-token") != self.token:
                        return self.reply(401, "token required")
                    return self.reply(200, json.dumps({
                        "AccessKeyId": s.key_id, "SecretAccessKey": s.secret,
                        "Token": "", "Expiration": soon}))
                return Metadata.do_GET(self)
        Expiring.seen = []
        Expiring.creds = (s.key_id, s.secret)
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Expiring)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        (tmp_path / "exp").mkdir()
        (tmp_path / "exp" / "experiment.yaml").write_text(
            "version: 1.0.0\ntitle: wait\ndescription: x\nmethod:\n"
            "  - type: action\n    name: wait\n    provider:\n      type: process\n"
            "      path: /bin/sleep\n      arguments: [\"12\"]\n")
        (tmp_path / "exp" / "experiment.conf").write_text("[DEFAULT]\n")
        env = clean_env(home, AWS_ENDPOINT_URL=s.url,
                        AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d" %
                        srv.server_address[1])
        env.pop("AWS_EC2_METADATA_DISABLED", None)
        r = run_ctl(["run", str(tmp_path / "exp" / "experiment.conf"), "--chaos", CHAOS_BIN,
                     "--stop-alarm", "calm"], env, timeout=60)
        srv.shutdown()
        assert r.returncode == 0, describe(r)
        fetched = [p for m, p in Expiring.seen if p.endswith("/chaos-role")]
        assert len(fetched) >= 2, Expiring.seen
        assert "checking the stop alarms" not in r.stderr, describe(r)
    finally:
        s.stop()
