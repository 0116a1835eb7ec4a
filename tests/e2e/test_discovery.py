"""chaosctl's AWS side against moto with signature checks on: discovery of
agents from an ECS cluster, and the credential chain (environment, shared
files, ECS container credentials, instance metadata v2) with small
loopback servers standing in for the two metadata endpoints."""
import http.server
import json
import os
import threading

import pytest

from conftest import clean_env, run_ctl, describe
from moto import MotoServer

REGION = "us-east-1"


@pytest.fixture(scope="module")
def aws(venv, tmp_path_factory):
    """A moto server holding an ECS cluster of three container instances in
    two zones, then switched to signature checking."""
    s = MotoServer(log_dir=str(tmp_path_factory.mktemp("moto-ecs")))
    s.start()
    try:
        calls = [("ecs", "create_cluster", {"clusterName": "demo"})]
        s.call(calls)
        ids = []
        for az, team in (("us-east-1a", "web"), ("us-east-1b", "db"), ("us-east-1a", "web")):
            r = s.call([("ec2", "run_instances", {
                "ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1,
                "Placement": {"AvailabilityZone": az},
                "TagSpecifications": [{"ResourceType": "instance",
                                       "Tags": [{"Key": "team", "Value": team}]}]})])
            inst = r[0]["Instances"][0]
            ids.append((inst["InstanceId"], inst["PrivateIpAddress"], az))
            doc = json.dumps({"instanceId": inst["InstanceId"], "region": REGION,
                              "availabilityZone": az})
            s.call([("ecs", "register_container_instance",
                     {"cluster": "demo", "instanceIdentityDocument": doc})])
        s.call([("ecs", "register_task_definition", {
            "family": "web", "containerDefinitions": [
                {"name": "app", "image": "x", "memory": 128}]})])
        # ECS puts a service's tasks in group "service:NAME"; moto's ListTasks
        # ignores serviceName, so chaosctl must keep to the group
        s.call([("ecs", "run_task", {"cluster": "demo", "taskDefinition": "web",
                                     "count": 2, "startedBy": "ecs-svc/websvc",
                                     "group": "service:websvc"}),
                ("ecs", "run_task", {"cluster": "demo", "taskDefinition": "web",
                                     "count": 1, "startedBy": "ecs-svc/other",
                                     "group": "service:other"})])
        s.key_id, s.secret = s.create_iam_key(
            user="discovery", policy_actions=("ecs:*", "ec2:*", "s3:*", "sts:*", "iam:*"))
        s._reset_auth(0)          # from now on, every request must be signed right
        s.instances = ids
        yield s
    finally:
        s.stop()


def ctl(aws, home, *args, **env):
    e = clean_env(home, AWS_REGION=REGION, AWS_ACCESS_KEY_ID=aws.key_id,
                  AWS_SECRET_ACCESS_KEY=aws.secret)
    e.update({k: v for k, v in env.items() if v is not None})
    for k, v in env.items():
        if v is None:
            e.pop(k, None)
    return run_ctl(["--endpoint-url", aws.url] + list(args), e)


def hosts(r):
    assert r.returncode == 0, describe(r)
    return json.loads(r.stdout)["hosts"]


def test_cluster_resolves_every_host_with_zone_and_address(aws, home):
    got = hosts(ctl(aws, home, "--cluster", "demo", "--output", "json", "targets"))
    want = {i: (ip, az) for i, ip, az in aws.instances}
    assert {h["instance_id"]: (h["private_ip"], h["availability_zone"]) for h in got} == want
    for h in got:
        assert h["agent"] == "http://%s:8421" % h["private_ip"]
        assert h["container_instance"].startswith("arn:aws:ecs:")


def test_filters_and_sampling(aws, home):
    a_zone = {i for i, _, az in aws.instances if az == "us-east-1a"}
    got = hosts(ctl(aws, home, "--cluster", "demo", "--az", "us-east-1a", "--output",
                    "json", "targets"))
    assert {h["instance_id"] for h in got} == a_zone
    got = hosts(ctl(aws, home, "--cluster", "demo", "--tag", "team=db", "--output",
                    "json", "targets"))
    assert [h["availability_zone"] for h in got] == ["us-east-1b"]
    one = aws.instances[1][0]
    got = hosts(ctl(aws, home, "--cluster", "demo", "--instance-id", one, "--agent-port",
                    "9000", "--output", "json", "targets"))
    assert [h["instance_id"] for h in got] == [one] and got[0]["agent"].endswith(":9000")
    seen = set()
    for _ in range(8):
        got = hosts(ctl(aws, home, "--cluster", "demo", "--host-count", "1", "--output",
                        "json", "targets"))
        assert len(got) == 1
        seen.add(got[0]["instance_id"])
    assert len(seen) > 1, "--host-count should choose at random"
    assert len(hosts(ctl(aws, home, "--cluster", "demo", "--host-percent", "50",
                         "--output", "json", "targets"))) == 2  # ceil(1.5)


def test_service_lists_its_tasks_per_host(aws, home):
    got = hosts(ctl(aws, home, "--cluster", "demo", "--service", "websvc", "--output",
                    "json", "targets"))
    tasks = [t for h in got for t in h["tasks"]]
    assert len(tasks) == 2 and all(":task/demo/" in t for t in tasks)
    other = hosts(ctl(aws, home, "--cluster", "demo", "--service", "other", "--output",
                      "json", "targets"))
    assert [t for h in other for t in h["tasks"]] not in ([], tasks)
    assert len([t for h in other for t in h["tasks"]]) == 1
    r = ctl(aws, home, "--cluster", "demo", "--service", "nosuch", "targets")
    assert r.returncode == 3 and "nosuch" in r.stderr and "no running tasks" in r.stderr, \
        describe(r)
    r = ctl(aws, home, "--cluster", "demo", "--service", "websvc", "targets")
    assert r.returncode == 0 and "INSTANCE" in r.stdout, describe(r)


def test_errors_are_one_clear_line(aws, home):
    r = ctl(aws, home, "--cluster", "demo", "targets", AWS_SECRET_ACCESS_KEY="wrong")
    assert r.returncode == 3 and "discovery" in r.stderr and "403" in r.stderr, describe(r)
    r = ctl(aws, home, "--cluster", "demo", "targets", AWS_ACCESS_KEY_ID=None,
            AWS_SECRET_ACCESS_KEY=None)
    assert r.returncode == 3 and "no AWS credentials" in r.stderr, describe(r)
    r = run_ctl(["--endpoint-url", "http://127.0.0.1:1", "--cluster", "demo", "targets"],
                clean_env(home, AWS_REGION=REGION, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                          AWS_SECRET_ACCESS_KEY="x"))
    assert r.returncode == 3 and "127.0.0.1" in r.stderr, describe(r)
    r = ctl(aws, home, "--cluster", "nosuch", "targets")
    assert r.returncode == 3 and "nosuch" in r.stderr, describe(r)
    r = ctl(aws, home, "--az", "us-east-1a", "targets")
    assert r.returncode == 2 and "--cluster" in r.stderr, describe(r)
    r = ctl(aws, home, "--cluster", "demo", "--host-count", "0", "targets")
    assert r.returncode == 2 and "--host-count" in r.stderr, describe(r)


class Metadata(http.server.BaseHTTPRequestHandler):
    """Instance metadata v2 (a token is required) and ECS container
    credentials (an authorization token is required)."""
    creds = None
    token = "imds-token-123"
    auth = "container-auth-456"
    seen = []

    def log_message(self, *a):
        pass

    def reply(self, code, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        self.seen.append(("PUT", self.path))
        if self.path == "/latest/api/token" and \
                self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, self.token)
        self.reply(400, "bad")

    def do_GET(self):
        self.seen.append(("GET", self.path))
        c = json.dumps({"AccessKeyId": self.creds[0], "SecretAccessKey": self.creds[1],
                        "Token": "", "Expiration": "2099-01-01T00:00:00Z"})
        if self.path == "/creds":
            if self.headers.get("Authorization") != self.auth:
                return self.reply(401, "no")
            return self.reply(200, c)
        if self.headers.get("X-aws-ec2-metadata-token") != self.token:
            return self.reply(401, "token required")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.reply(200, "chaos-role")
        if self.path == "/latest/meta-data/iam/security-credentials/chaos-role":
            return self.reply(200, c)
        if self.path == "/latest/meta-data/placement/region":
            return self.reply(200, REGION)
        self.reply(404, "")


@pytest.fixture
def metadata(aws):
    Metadata.creds = (aws.key_id, aws.secret)
    Metadata.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


def test_credential_chain_order(aws, home, metadata):
    base = clean_env(home)
    base.pop("AWS_EC2_METADATA_DISABLED", None)
    cmd = ["--endpoint-url", aws.url, "--cluster", "demo", "-v", "targets"]

    def run(**env):
        e = dict(base)
        e.update(env)
        return run_ctl(cmd, e)

    # Shared files with AWS_PROFILE; the region from the config file.
    creds = os.path.join(str(home), "credentials")
    conf = os.path.join(str(home), "config")
    with open(creds, "w") as f:
        f.write("[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = x\n\n"
                "[chaos]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (aws.key_id, aws.secret))
    with open(conf, "w") as f:
        f.write("[profile chaos]\nregion = %s\n" % REGION)
    r = run(AWS_PROFILE="chaos", AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=conf)
    assert r.returncode == 0 and "credentials: profile chaos" in r.stderr, describe(r)
    # The environment beats the profile (whose default keys are wrong).
    r = run(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_REGION=REGION,
            AWS_ACCESS_KEY_ID=aws.key_id, AWS_SECRET_ACCESS_KEY=aws.secret)
    assert r.returncode == 0 and "credentials: environment" in r.stderr, describe(r)
    # The profile beats container credentials: wrong default keys fail.
    r = run(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_REGION=REGION,
            AWS_CONTAINER_CREDENTIALS_FULL_URI=metadata + "/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN=Metadata.auth)
    assert r.returncode == 3 and "403" in r.stderr, describe(r)
    # Without files: ECS container credentials, with their authorization token.
    r = run(AWS_REGION=REGION, AWS_CONTAINER_CREDENTIALS_FULL_URI=metadata + "/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN=Metadata.auth,
            AWS_EC2_METADATA_SERVICE_ENDPOINT=metadata)
    assert r.returncode == 0 and "credentials: ECS container credentials" in r.stderr, \
        describe(r)
    r = run(AWS_REGION=REGION, AWS_CONTAINER_CREDENTIALS_FULL_URI=metadata + "/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong")
    assert r.returncode == 3 and "container credentials" in r.stderr, describe(r)
    # Last: instance metadata v2, token first; the region comes from it too.
    Metadata.seen = []
    r = run(AWS_EC2_METADATA_SERVICE_ENDPOINT=metadata)
    assert r.returncode == 0 and "credentials: instance metadata" in r.stderr, describe(r)
    assert "region us-east-1" in r.stderr
    assert Metadata.seen[0] == ("PUT", "/latest/api/token"), Metadata.seen


def test_bad_session_token_and_access_denied_are_clear(aws, home):
    # A session token that does not belong to the key (as an expired one
    # would be): moto refuses it, chaosctl says so and exits 3.
    r = ctl(aws, home, "--cluster", "demo", "targets", AWS_SESSION_TOKEN="FwoGZXIvYXdzEXPIRED")
    assert r.returncode == 3 and "403" in r.stderr, describe(r)
    assert len(r.stderr.strip().splitlines()) == 1, describe(r)
    # A user allowed ECS but not EC2: AWS's own refusal, named.
    aws._reset_auth("inf")
    try:
        key, secret = aws.create_iam_key(user="ecs-only", policy_actions=("ecs:*",))
    finally:
        aws._reset_auth(0)
    r = ctl(aws, home, "--cluster", "demo", "targets", AWS_ACCESS_KEY_ID=key,
            AWS_SECRET_ACCESS_KEY=secret)
    assert r.returncode == 3 and "ec2" in r.stderr and "403" in r.stderr, describe(r)
