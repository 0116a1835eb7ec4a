"""chaosctl submit against moto's Batch: the SubmitJob request of the
original submit-job.py, read back with DescribeJobs."""
import json
import re

import pytest

from conftest import clean_env, run_ctl, describe
from moto import MotoServer


@pytest.fixture(scope="module")
def batch(venv, tmp_path_factory):
    s = MotoServer(log_dir=str(tmp_path_factory.mktemp("moto-batch")))
    s.start()
    try:
        role = s.call([("iam", "create_role", {"RoleName": "batch",
                                               "AssumeRolePolicyDocument": "{}"})])[0]
        ce = s.call([("batch", "create_compute_environment", {
            "computeEnvironmentName": "chaos-ce", "type": "UNMANAGED", "state": "ENABLED",
            "serviceRole": role["Role"]["Arn"]})])[0]
        s.call([("batch", "create_job_queue", {
            "jobQueueName": "chaos-q", "state": "ENABLED", "priority": 1,
            "computeEnvironmentOrder": [{"order": 1, "computeEnvironment":
                                         ce["computeEnvironmentArn"]}]}),
                ("batch", "register_job_definition", {
                    "jobDefinitionName": "chaos", "type": "container",
                    "containerProperties": {"image": "x", "vcpus": 1, "memory": 512,
                                            "command": ["true"]}})])
        yield s
    finally:
        s.stop()


def jobs(s):
    out = []
    for st in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED",
               "FAILED"):
        for j in s.call([("batch", "list_jobs", {"jobQueue": "chaos-q",
                                                  "jobStatus": st})])[0]["jobSummaryList"]:
            out.append(s.call([("batch", "describe_jobs", {"jobs": [j["jobId"]]})])
                       [0]["jobs"][0])
    return out


def test_one_job_per_conf_with_the_original_request(batch, home):
    env = clean_env(home, **batch.env())
    r = run_ctl(["--output", "json", "submit", "--queue", "chaos-q", "--job-definition",
                 "chaos", "--vcpu", "2", "--memory", "4096", "-e", "CHAOS_CONTEXT=live",
                 "--env", "CHAOS_JOURNALS_BUCKET=j",
                 "library/reliability/ecs-instance-burn-cpu/experiment.conf",
                 "library/scalability/ecs-service-scale-out/experiment.conf"], env)
    assert r.returncode == 0, describe(r)
    out = json.loads(r.stdout)["jobs"]
    assert [j["ok"] for j in out] == [True, True]
    by_name = {j["jobName"]: j for j in jobs(batch)}
    for sent, conf, d in zip(out, ("library/reliability/ecs-instance-burn-cpu/experiment.conf",
                                   "library/scalability/ecs-service-scale-out/experiment.conf"),
                             ("ecs-instance-burn-cpu", "ecs-service-scale-out")):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d{6}-" + d, sent["job_name"]), sent
        j = by_name[sent["job_name"]]
        assert j["jobId"] == sent["job_id"]
        env_vars = {e["name"]: e["value"] for e in j["container"]["environment"]}
        assert env_vars["CHAOS_CONFIG_FILE"] == conf
        assert env_vars["CHAOS_CONTEXT"] == "live" and env_vars["CHAOS_JOURNALS_BUCKET"] == "j"
        assert j["timeout"]["attemptDurationSeconds"] == 3600
    # moto does not echo resource overrides: check the request itself.
    r = run_ctl(["submit", "--dry-run", "--queue", "chaos-q", "--job-definition", "chaos",
                 "--vcpu", "2", "--memory", "4096", "x/y/experiment.conf"], env)
    assert r.returncode == 0, describe(r)
    req = json.loads(r.stdout)["jobs"][0]["request"]
    assert req["containerOverrides"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "4096"}]
    assert req["jobQueue"] == "chaos-q" and req["jobDefinition"] == "chaos"
    assert req["jobName"].endswith("-y")


def test_submit_errors(batch, home):
    env = clean_env(home, **batch.env())
    r = run_ctl(["submit", "--queue", "chaos-q", "--job-definition", "nosuch", "a/b.conf"],
                env)
    assert r.returncode == 1 and "nosuch" in r.stderr, describe(r)
    r = run_ctl(["submit", "--queue", "chaos-q", "a/b.conf"], env)
    assert r.returncode == 2 and "--job-definition" in r.stderr, describe(r)
    r = run_ctl(["submit", "--queue", "q", "--job-definition", "d", "-e", "NOVALUE", "x"],
                env)
    assert r.returncode == 2 and "-e" in r.stderr, describe(r)
    r = run_ctl(["submit", "--queue", "q", "--job-definition", "d", "--vcpu", "0", "x"], env)
    assert r.returncode == 2 and "--vcpu" in r.stderr, describe(r)
