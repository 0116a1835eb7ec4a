"""Discovery of the chaos-agent sidecars of a service's tasks (Fargate, and
awsvpc on EC2) through ECS DescribeTasks and DescribeTaskDefinition, against
moto in server mode: one agent per task at its ENI's private address and the
sidecar's container port, services that mix host agents and sidecars, the
task-level sample, and the whole chain to a real task-mode agent.

What moto (5.2) lacks, and the tests supply:
- A task ENI's attachment names the ENI's private DNS name, which moto sets
  only in a VPC with DNS hostnames: without EnableDnsHostnames, run_task of
  an awsvpc task fails (AttributeError: no private_dns_name).
- run_task adds up the containers' `memory`, which a Fargate definition may
  leave out (the task-level memory is enough on AWS): each container gets
  one here.
- DescribeTasks lists only the first container of a task (AWS lists them
  all), and chaosctl asks for a task's definition only when the sidecar is
  among its containers: the sidecar comes first in the definitions here.
- moto drops enableFaultInjection and gives tasks no availabilityZone;
  discovery needs neither (the sidecar's /v1/info reports the former).
- An ENI's address is a random 10.x.y.z whatever the subnet; the full chain
  test has moto use 127.0.0.1 (MotoServer(eni_addresses=...)) so that the
  sidecar, a real agent on loopback, is reachable.
"""
import copy
import json
import os
import sys

import pytest

from conftest import ROOT, clean_env, describe, run_ctl
from moto import MotoServer

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from ecs_endpoints import EcsEndpoints  # noqa: E402

with open(os.path.join(ROOT, "packaging", "sidecar", "task-definition.json")) as f:
    SIDECAR_TD = json.load(f)


def sidecar_td(family, port=8421, name="chaos-agent"):
    """The packaged definition (the API and the sidecar), as moto takes it."""
    td = copy.deepcopy(SIDECAR_TD)
    td["family"] = family
    td.pop("enableFaultInjection")      # botocore knows it; moto drops it anyway
    for c in td["containerDefinitions"]:
        c["memory"] = 128
        if c["name"] == "chaos-agent":
            c["name"] = name
            c["portMappings"] = [{"containerPort": port, "protocol": "tcp", "name": name}]
    td["containerDefinitions"].sort(key=lambda c: c["name"] != name)
    return td


def network(s, vpc_cidr="10.0.0.0/16", cidr="10.0.1.0/24"):
    vpc = s.call([("ec2", "create_vpc", {"CidrBlock": vpc_cidr})])[0]["Vpc"]["VpcId"]
    s.call([("ec2", "modify_vpc_attribute", {"VpcId": vpc,
                                             "EnableDnsHostnames": {"Value": True}})])
    sub = s.call([("ec2", "create_subnet", {"VpcId": vpc, "CidrBlock": cidr})]
                 )[0]["Subnet"]["SubnetId"]
    return {"awsvpcConfiguration": {"subnets": [sub], "securityGroups": []}}


def run_fargate(s, family, group, count, net):
    return s.call([("ecs", "run_task", {"cluster": "demo", "taskDefinition": family,
                                        "count": count, "launchType": "FARGATE",
                                        "group": group, "networkConfiguration": net})]
                  )[0]["tasks"]


@pytest.fixture(scope="module")
def aws(venv, tmp_path_factory):
    """Cluster demo: service api has three Fargate tasks with the sidecar and
    one EC2 task without (on the one container instance); service plain has
    two Fargate tasks without the sidecar; service alt's one Fargate task
    has the sidecar under another name and port; service other one task
    with the sidecar."""
    s = MotoServer(log_dir=str(tmp_path_factory.mktemp("moto-sidecar")))
    s.start()
    try:
        net = network(s)
        inst = s.call([("ec2", "run_instances", {
            "ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1})])[0]["Instances"][0]
        s.call([("ecs", "create_cluster", {"clusterName": "demo"}),
                ("ecs", "register_container_instance", {
                    "cluster": "demo", "instanceIdentityDocument": json.dumps(
                        {"instanceId": inst["InstanceId"], "region": "us-east-1"})}),
                ("ecs", "register_task_definition", sidecar_td("api")),
                ("ecs", "register_task_definition", sidecar_td("alt", 9100, "chaos")),
                ("ecs", "register_task_definition", {
                    "family": "web", "containerDefinitions": [
                        {"name": "app", "image": "x", "memory": 128}]}),
                ("ecs", "register_task_definition", {
                    "family": "plain", "requiresCompatibilities": ["FARGATE"],
                    "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                    "containerDefinitions": [{"name": "app", "image": "x",
                                              "memory": 128}]})])
        s.api = run_fargate(s, "api", "service:api", 3, net)
        s.web = s.call([("ecs", "run_task", {"cluster": "demo", "taskDefinition": "web",
                                             "count": 1, "group": "service:api"})]
                       )[0]["tasks"]
        run_fargate(s, "plain", "service:plain", 2, net)
        s.alt = run_fargate(s, "alt", "service:alt", 1, net)
        s.other = run_fargate(s, "api", "service:other", 1, net)
        s.host_ip = inst["PrivateIpAddress"]
        s.host_id = inst["InstanceId"]
        yield s
    finally:
        s.stop()


def ctl(aws, home, *args):
    return run_ctl(["--endpoint-url", aws.url] + list(args), clean_env(home, **aws.env()))


def agents(r):
    assert r.returncode == 0, describe(r)
    return json.loads(r.stdout)["hosts"]


def eni_address(aws, task):
    """The task's ENI address as EC2 has it (not as DescribeTasks says)."""
    att = task["attachments"][0]
    eni = [d["value"] for d in att["details"] if d["name"] == "networkInterfaceId"][0]
    r = aws.call([("ec2", "describe_network_interfaces", {"NetworkInterfaceIds": [eni]})])
    return r[0]["NetworkInterfaces"][0]["PrivateIpAddress"]


def test_a_sidecar_per_task_at_its_eni_address_and_the_sidecars_port(aws, home):
    got = agents(ctl(aws, home, "--cluster", "demo", "--service", "api", "--output",
                     "json", "targets"))
    sidecars = [h for h in got if h["kind"] == "sidecar"]
    want = {t["taskArn"]: "http://%s:8421" % eni_address(aws, t) for t in aws.api}
    assert {h["tasks"][0]: h["agent"] for h in sidecars} == want
    assert all(len(h["tasks"]) == 1 and h["instance_id"] == "" for h in sidecars)
    # the EC2 task without the sidecar is still reached through its host
    hosts = [h for h in got if h["kind"] == "host"]
    assert [(h["private_ip"], h["tasks"]) for h in hosts] == \
        [(aws.host_ip, [aws.web[0]["taskArn"]])]
    assert len(got) == 4
    # another service's task with the sidecar is not this service's
    assert aws.other[0]["taskArn"] not in [t for h in got for t in h["tasks"]]
    r = ctl(aws, home, "--cluster", "demo", "--service", "api", "targets")
    assert r.returncode == 0 and r.stdout.count("\nsidecar ") == 3, describe(r)


def test_the_port_and_the_container_name_come_from_the_definition(aws, home):
    got = agents(ctl(aws, home, "--cluster", "demo", "--service", "alt",
                     "--sidecar-container", "chaos", "--output", "json", "targets"))
    assert [h["agent"] for h in got] == \
        ["http://%s:9100" % eni_address(aws, aws.alt[0])]
    # under the default name, alt's tasks have no sidecar: nothing to reach
    r = ctl(aws, home, "--cluster", "demo", "--service", "alt", "targets")
    assert r.returncode == 3 and "without the chaos-agent sidecar" in r.stderr, describe(r)


def test_fargate_tasks_without_the_sidecar_are_said_to_have_no_agent(aws, home):
    r = ctl(aws, home, "--cluster", "demo", "--service", "plain", "targets")
    assert r.returncode == 3, describe(r)
    assert "2 task(s) on Fargate without the chaos-agent sidecar" in r.stderr, describe(r)


def test_task_count_and_percent_sample_the_services_tasks(aws, home):
    seen = set()
    for _ in range(8):
        got = agents(ctl(aws, home, "--cluster", "demo", "--service", "api",
                         "--task-count", "1", "--output", "json", "targets"))
        assert len(got) == 1 and len(got[0]["tasks"]) == 1
        seen.add(got[0]["tasks"][0])
    assert len(seen) > 1, "--task-count should choose at random"
    got = agents(ctl(aws, home, "--cluster", "demo", "--service", "api", "--task-percent",
                     "50", "--output", "json", "targets"))
    assert sum(len(h["tasks"]) for h in got) == 2   # of 4
    r = ctl(aws, home, "--cluster", "demo", "--task-count", "1", "targets")
    assert r.returncode == 2 and "need --cluster and --service" in r.stderr, describe(r)
    r = ctl(aws, home, "--cluster", "demo", "--service", "api", "--task-count", "1",
            "--task-percent", "5", "targets")
    assert r.returncode == 2, describe(r)


def test_host_filters_choose_hosts_and_leave_the_sidecars_out(aws, home):
    got = agents(ctl(aws, home, "--cluster", "demo", "--service", "api", "--instance-id",
                     aws.host_id, "--output", "json", "targets"))
    assert [(h["kind"], h["instance_id"]) for h in got] == [("host", aws.host_id)]
    r = ctl(aws, home, "--cluster", "demo", "--service", "api", "--instance-id",
            "i-nosuch", "targets")
    assert r.returncode == 3 and "matches --instance-id" in r.stderr, describe(r)
    # a host sample leaves the sidecars alone
    got = agents(ctl(aws, home, "--cluster", "demo", "--service", "api", "--host-count",
                     "1", "--output", "json", "targets"))
    assert sorted(h["kind"] for h in got) == ["host"] + ["sidecar"] * 3


def test_inject_through_discovery_reaches_the_tasks_sidecar(venv, tmp_path, home,
                                                          local_agent):
    """moto says the task's ENI is 127.0.0.1; the sidecar there is a real agent
    in task mode whose ECS agent is the stand-in for the endpoints."""
    ep = EcsEndpoints(interval=5.0).start()
    s = MotoServer(log_dir=str(tmp_path), eni_addresses=["127.0.0.1"])
    try:
        cid = "0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6-1"
        ep.add_task(cid, "arn:aws:ecs:us-east-1:123456789012:task/demo/0a1b2c3d")
        side = local_agent(sets={"mode": "task"}, env={"ECS_AGENT_URI": ep.uri(cid)},
                           name="sidecar")
        s.start()
        net = network(s)
        s.call([("ecs", "create_cluster", {"clusterName": "demo"}),
                ("ecs", "register_task_definition", sidecar_td("api", side.port))])
        task = run_fargate(s, "api", "service:api", 1, net)[0]
        env = clean_env(home, **s.env())
        base = ["--endpoint-url", s.url, "--cluster", "demo", "--service", "api",
                "--key-file", side.key, "--output", "json"]
        r = run_ctl(base + ["info"], env)
        assert r.returncode == 0, describe(r)
        info = json.loads(r.stdout)["results"]
        assert [x["agent"] for x in info] == ["http://127.0.0.1:%d" % side.port]
        assert info[0]["body"]["mode"] == "task"
        # a container selector is for host agents: the sidecar's target is its task
        r = run_ctl(base + ["inject", "latency", "--delay", "150ms", "--jitter", "0ms",
                            "--dest", "10.9.0.0/16", "--duration", "2", "--container",
                            "comments-api"], env)
        assert r.returncode == 0, describe(r)
        assert [x["status"] for x in json.loads(r.stdout)["results"]] == [201]
        start = ep.calls("network-latency", "start", 200)
        assert len(start) == 1 and json.loads(start[0]["body"])["DelayMilliseconds"] == 150
        # a container fault keeps its selectors, and the sidecar says why not
        r = run_ctl(base + ["inject", "pause-container", "--container", "comments-api",
                            "--duration", "5"], env)
        res = json.loads(r.stdout)["results"]
        assert r.returncode == 1 and [x["status"] for x in res] == [422], describe(r)
        assert "no Docker socket" in res[0]["body"]["error"]["message"], res
        r = run_ctl(base + ["targets"], env)
        assert [h["tasks"] for h in json.loads(r.stdout)["hosts"]] == [[task["taskArn"]]]
    finally:
        ep.stop()
        s.stop()


def test_a_mixed_service_reaches_its_host_agent_and_its_sidecar(venv, tmp_path, home,
                                                               local_agent):
    """One task on a container instance (127.0.0.1, a host agent) and one on
    Fargate (its ENI 127.0.0.1, a sidecar on another port): one command asks
    both, each the way it can be hit."""
    ep = EcsEndpoints(interval=5.0).start()
    s = MotoServer(log_dir=str(tmp_path), eni_addresses=["127.0.0.1"])
    try:
        cid = "0a1b2c3d4e5f47a8b9c0d1e2f3a4b5c6-2"
        ep.add_task(cid, "arn:aws:ecs:us-east-1:123456789012:task/demo/0a1b2c3e")
        side = local_agent(sets={"mode": "task"}, env={"ECS_AGENT_URI": ep.uri(cid)},
                           name="sidecar")
        host = local_agent(name="host", key=side.key)
        s.start()
        net = network(s, "127.0.0.0/16", "127.0.0.0/24")
        sub = net["awsvpcConfiguration"]["subnets"][0]
        inst = s.call([("ec2", "run_instances", {
            "ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "SubnetId": sub,
            "PrivateIpAddress": "127.0.0.1"})])[0]["Instances"][0]
        s.call([("ecs", "create_cluster", {"clusterName": "demo"}),
                ("ecs", "register_container_instance", {
                    "cluster": "demo", "instanceIdentityDocument": json.dumps(
                        {"instanceId": inst["InstanceId"], "region": "us-east-1"})}),
                ("ecs", "register_task_definition", sidecar_td("api", side.port)),
                ("ecs", "register_task_definition", {
                    "family": "api-ec2", "containerDefinitions": [
                        {"name": "comments-api", "image": "x", "memory": 128}]})])
        fargate = run_fargate(s, "api", "service:api", 1, net)[0]
        ec2 = s.call([("ecs", "run_task", {"cluster": "demo", "taskDefinition": "api-ec2",
                                           "count": 1, "group": "service:api"})]
                     )[0]["tasks"][0]
        env = clean_env(home, **s.env())
        base = ["--endpoint-url", s.url, "--cluster", "demo", "--service", "api",
                "--agent-port", str(host.port), "--key-file", side.key, "--output", "json"]
        r = run_ctl(base + ["targets"], env)
        assert r.returncode == 0, describe(r)
        got = {h["kind"]: (h["agent"], h["tasks"]) for h in json.loads(r.stdout)["hosts"]}
        assert got == {"host": (host.url, [ec2["taskArn"]]),
                       "sidecar": (side.url, [fargate["taskArn"]])}
        r = run_ctl(base + ["info"], env)
        assert r.returncode == 0, describe(r)
        modes = {x["agent"]: x["body"]["mode"] for x in json.loads(r.stdout)["results"]}
        assert modes == {host.url: "host", side.url: "task"}
        # the host agent is asked for the EC2 task's container (it has no
        # Docker engine here: 422), the sidecar for its whole task (201)
        r = run_ctl(base + ["inject", "blackhole", "--dest-port", "5432", "--protocol",
                            "tcp", "--duration", "2", "--container", "comments-api"], env)
        res = {x["agent"]: x for x in json.loads(r.stdout)["results"]}
        assert res[side.url]["status"] == 201, describe(r)
        assert res[host.url]["status"] == 422, describe(r)
        assert json.loads(ep.calls("network-blackhole-port", "start", 200)[0]["body"]) \
            ["Port"] == 5432
    finally:
        ep.stop()
        s.stop()
