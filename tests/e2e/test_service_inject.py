"""The whole chain of --service: moto holds the ECS cluster (its one host is
127.0.0.1, where a real agent listens), a private Docker engine runs the
task containers labelled with moto's task ARNs, and chaosctl pauses the
app container of exactly the service's tasks."""
import json
import os
import sys

import pytest

from conftest import ROOT, clean_env, run_ctl, describe
from moto import MotoServer

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from dockerd import Dockerd, ECS_CONTAINER, ECS_FAMILY, ECS_TASK_ARN  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    d = Dockerd(prefix="ckd-e2e")
    try:
        d.start()
        d.ensure_image()
        yield d
    finally:
        d.stop()


def test_service_faults_hit_only_the_service_tasks(venv, tmp_path, engine, local_agent,
                                                  home):
    a = local_agent(docker_socket=engine.socket)
    port, key = a.port, a.key
    s = MotoServer(log_dir=str(tmp_path))
    s.start()
    try:
        vpc = s.call([("ec2", "create_vpc", {"CidrBlock": "127.0.0.0/16"})])[0]["Vpc"]["VpcId"]
        sub = s.call([("ec2", "create_subnet", {"VpcId": vpc, "CidrBlock": "127.0.0.0/24"})]
                     )[0]["Subnet"]["SubnetId"]
        inst = s.call([("ec2", "run_instances", {
            "ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "SubnetId": sub,
            "PrivateIpAddress": "127.0.0.1"})])[0]["Instances"][0]
        s.call([("ecs", "create_cluster", {"clusterName": "demo"}),
                ("ecs", "register_container_instance", {
                    "cluster": "demo", "instanceIdentityDocument": json.dumps(
                        {"instanceId": inst["InstanceId"], "region": "us-east-1"})}),
                ("ecs", "register_task_definition", {
                    "family": "web", "containerDefinitions": [
                        {"name": "app", "image": "x", "memory": 128}]})])
        tasks = s.call([("ecs", "run_task", {"cluster": "demo", "taskDefinition": "web",
                                             "count": 2, "startedBy": "ecs-svc/websvc",
                                             "group": "service:websvc"})]
                       )[0]["tasks"]
        arns = [t["taskArn"] for t in tasks]
        ids = {}
        for i, arn in enumerate(arns + ["arn:aws:ecs:us-east-1:123456789012:task/demo/other"]):
            ids[arn] = engine.run("svc-%d" % i, {ECS_TASK_ARN: arn, ECS_FAMILY: "web",
                                                 ECS_CONTAINER: "app"})
        env = clean_env(home, **s.env())
        r = run_ctl(["--cluster", "demo", "--service", "websvc", "--agent-port", str(port),
                     "--key-file", key, "--output", "json", "inject", "pause-container",
                     "--container", "app", "--duration", "30"], env)
        assert r.returncode == 0, describe(r)
        results = json.loads(r.stdout)["results"]
        assert len(results) == 2 and all(x["status"] == 201 for x in results), results
        for arn in arns:
            assert engine.state(ids[arn]) == "paused", arn
        other = ids["arn:aws:ecs:us-east-1:123456789012:task/demo/other"]
        assert engine.state(other) == "running"
        hit = {c["id"] for x in results for c in x["body"]["detail"]["containers"]}
        assert hit == {ids[a] for a in arns}
        r = run_ctl(["--cluster", "demo", "--agent-port", str(port), "--key-file", key,
                     "revert", "--all"], env)
        assert r.returncode == 0, describe(r)
        for arn in arns:
            assert engine.state(ids[arn]) == "running"
    finally:
        engine.remove_all()
        s.stop()
