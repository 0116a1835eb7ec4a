"""A local AWS (moto's server mode) for tests: S3 for chaosctl's journal uploads.

Standard library only. The moto_server program and boto3 come from the
project virtualenv .venv/ (scripts/setup-venv.sh); the test process itself
may be Debian's python3 without boto3, so every client call from the test
side runs a small snippet with .venv/bin/python.

    with MotoServer() as moto:
        moto.create_bucket("journals")
        env = dict(os.environ, **moto.env())   # for the program under test
        ...
        moto.list_keys("journals")             # -> ["prefix/journal.json", ...]
        moto.get_object("journals", key)       # -> bytes

Signature checking. moto accepts any request (signed or not) by default.
It verifies SigV4 signatures, and IAM permissions, once it has served
INITIAL_NO_AUTH_ACTION_COUNT requests: the environment variable read when
the server starts (default: infinity, i.e. never), which can be changed at
run time with `POST /moto-api/reset-auth` and the new count as the body (this
also resets the request counter). A checked request must be signed with an
access key that exists in moto's IAM, whose user has a policy allowing the
action: the usual 'testing'/'testing' keys are then rejected
(InvalidAccessKeyId). MotoServer(verify_signatures=True) therefore creates
an IAM user with an s3:* policy and an access key while checks are off,
then turns them on with reset-auth 0; env() and the helpers use that key
from then on. A request with a wrong signature then gets 403
SignatureDoesNotMatch, with an unknown key 403 InvalidAccessKeyId.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VENV = os.path.join(ROOT, ".venv")

REGION = "us-east-1"
TEST_KEY_ID = "testing"
TEST_SECRET = "testing"


class MotoError(RuntimeError):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Runs in .venv/bin/python: reads {"endpoint", "key_id", "secret", "token",
# "region", "calls": [[service, method, kwargs], ...]} on stdin, prints
# {"ok": true, "results": [...]} or {"ok": false, "code", "message", "index"}.
# Body-like results (StreamingBody) are read and returned as latin-1 text.
_SNIPPET = r"""
import json, sys, datetime
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
req = json.load(sys.stdin)
sess = boto3.session.Session(aws_access_key_id=req["key_id"],
                             aws_secret_access_key=req["secret"],
                             aws_session_token=req.get("token"),
                             region_name=req["region"])
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
clients = {}
def conv(v):
    if hasattr(v, "read"):
        return {"__bytes__": v.read().decode("latin-1")}
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, bytes):
        return {"__bytes__": v.decode("latin-1")}
    if isinstance(v, dict):
        return {k: conv(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [conv(x) for x in v]
    return v
results = []
for i, (service, method, kwargs) in enumerate(req["calls"]):
    c = clients.get(service)
    if c is None:
        c = clients[service] = sess.client(service, endpoint_url=req["endpoint"], config=cfg)
    for k, v in list(kwargs.items()):
        if isinstance(v, dict) and "__bytes__" in v:
            kwargs[k] = v["__bytes__"].encode("latin-1")
    try:
        results.append(conv(getattr(c, method)(**kwargs)))
    except ClientError as e:
        err = e.response.get("Error", {})
        print(json.dumps({"ok": False, "index": i, "code": err.get("Code"),
                          "message": err.get("Message") or str(e)}))
        sys.exit(0)
print(json.dumps({"ok": True, "results": results}))
"""


class AwsCallError(MotoError):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


# moto_server with the addresses of awsvpc tasks' ENIs chosen by the test.
# moto (5.2) gives each task ENI a random 10.x.y.z, whatever its subnet, so
# a test that must reach a task's sidecar (on loopback) supplies them:
# MOTO_ECS_ENI_ADDRESSES is a comma-separated list, used in turn.
_ENI_SERVER = r"""
import itertools, os, sys
import moto.ecs.models
from moto.server import main
addrs = itertools.cycle(os.environ["MOTO_ECS_ENI_ADDRESSES"].split(","))
moto.ecs.models.random_private_ip = lambda *a, **k: next(addrs)
sys.argv[0] = "moto_server"
sys.exit(main())
"""


class MotoServer:
    """moto_server on 127.0.0.1 and a free port, in its own process group.
    eni_addresses: the private addresses moto gives awsvpc tasks' ENIs, in
    turn (default: moto's own random 10.x.y.z)."""

    def __init__(self, venv=VENV, verify_signatures=False, log_dir=None, eni_addresses=None):
        self.eni_addresses = eni_addresses
        self.venv = venv
        self.moto_bin = os.path.join(venv, "bin", "moto_server")
        self.python = os.path.join(venv, "bin", "python")
        self.verify_signatures = verify_signatures
        self._own_dir = log_dir is None
        self.dir = log_dir or tempfile.mkdtemp(prefix="moto-")
        self.log = os.path.join(self.dir, "moto_server.log")
        self.proc = None
        self.port = None
        self.key_id = TEST_KEY_ID
        self.secret = TEST_SECRET

    @classmethod
    def client(cls, port, log_dir):
        """A handle on a server that runs already (started elsewhere), for
        call() and the helpers; stop() on it does nothing."""
        m = cls(log_dir=log_dir)
        m.port = port
        return m

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60.0):
        if not os.access(self.moto_bin, os.X_OK):
            raise MotoError("%s missing: run scripts/setup-venv.sh" % self.moto_bin)
        last = ""
        for _attempt in range(3):  # the free port may be taken in between
            self.port = free_port()
            env = dict(os.environ)
            env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
            argv = [self.moto_bin]
            if self.eni_addresses:
                env["MOTO_ECS_ENI_ADDRESSES"] = ",".join(self.eni_addresses)
                argv = [self.python, "-c", _ENI_SERVER]
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    argv + ["-H", "127.0.0.1", "-p", str(self.port)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                    start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._answers():
                    if self.verify_signatures:
                        try:
                            self._enable_signature_checks()
                        except BaseException:
                            self._kill()
                            raise
                    return self
                time.sleep(0.1)
            last = self.log_tail()
            self._kill()
        raise MotoError("moto_server did not start:\n" + last)

    def _answers(self):
        try:
            with urllib.request.urlopen(self.url + "/moto-api/", timeout=1) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL); always safe to call."""
        self._kill()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _kill(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # ---------------------------------------------------------- environment

    def env(self, key_id=None, secret=None, token=None):
        """Environment variables that point an AWS client at this server."""
        e = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": key_id or self.key_id,
            "AWS_SECRET_ACCESS_KEY": secret or self.secret,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
        if token:
            e["AWS_SESSION_TOKEN"] = token
        return e

    @staticmethod
    def scrub_env(env):
        """A copy of env without any AWS_* variable (no real profile leaks in)."""
        return {k: v for k, v in env.items() if not k.startswith("AWS_")}

    # -------------------------------------------------------------- clients

    def call(self, calls, key_id=None, secret=None, token=None):
        """Run boto3 calls [(service, method, kwargs), ...] in the venv.

        Returns the list of results; raises AwsCallError on the first
        ClientError (with its code), MotoError if the snippet fails."""
        req = {
            "endpoint": self.url,
            "key_id": key_id or self.key_id,
            "secret": secret or self.secret,
            "token": token,
            "region": REGION,
            "calls": [[s, m, k] for s, m, k in calls],
        }
        env = self.scrub_env(os.environ)
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        p = subprocess.run([self.python, "-c", _SNIPPET], input=json.dumps(req),
                           capture_output=True, text=True, timeout=60, env=env)
        if p.returncode != 0:
            raise MotoError("boto3 snippet failed (%d):\n%s" % (p.returncode, p.stderr))
        out = json.loads(p.stdout)
        if not out["ok"]:
            raise AwsCallError(out["code"], out["message"])
        return out["results"]

    def create_bucket(self, bucket):
        self.call([("s3", "create_bucket", {"Bucket": bucket})])

    def list_keys(self, bucket, prefix=""):
        """Every key of bucket under prefix, sorted."""
        keys, token = [], None
        while True:
            kw = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            r = self.call([("s3", "list_objects_v2", kw)])[0]
            keys += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                return sorted(keys)
            token = r["NextContinuationToken"]

    def get_object(self, bucket, key):
        r = self.call([("s3", "get_object", {"Bucket": bucket, "Key": key})])[0]
        return r["Body"]["__bytes__"].encode("latin-1")

    def put_object(self, bucket, key, data):
        if isinstance(data, str):
            data = data.encode()
        self.call([("s3", "put_object",
                    {"Bucket": bucket, "Key": key,
                     "Body": {"__bytes__": data.decode("latin-1")}})])

    # ---------------------------------------------------- signature checks

    def _reset_auth(self, count):
        req = urllib.request.Request(self.url + "/moto-api/reset-auth",
                                     data=str(count).encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def create_iam_key(self, user="chaos-test", policy_actions=("s3:*", "sts:*")):
        """An IAM user allowed policy_actions on everything, and its access key.

        Returns (key_id, secret). Works while checks are off; with checks on,
        the current key (self.key_id) must be allowed iam:*."""
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": list(policy_actions), "Resource": "*"}]})
        r = self.call([
            ("iam", "create_user", {"UserName": user}),
            ("iam", "put_user_policy", {"UserName": user, "PolicyName": "allow",
                                        "PolicyDocument": doc}),
            ("iam", "create_access_key", {"UserName": user}),
        ])
        k = r[2]["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def _enable_signature_checks(self):
        self.key_id, self.secret = self.create_iam_key()
        self._reset_auth(0)

    def assume_role_credentials(self, role=None):
        """Temporary credentials (key_id, secret, session_token) from STS.

        The role may do s3:*; with signature checks on, moto then checks the
        session token (X-Amz-Security-Token) as well."""
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
        role = role or "chaos-test-role-%d" % time.monotonic_ns()
        checks = self.verify_signatures
        if checks:
            self._reset_auth("inf")
        try:
            r = self.call([
                ("iam", "create_role", {"RoleName": role, "AssumeRolePolicyDocument": trust}),
                ("iam", "put_role_policy", {"RoleName": role, "PolicyName": "s3",
                                            "PolicyDocument": doc}),
            ])
            arn = r[0]["Role"]["Arn"]
            c = self.call([("sts", "assume_role", {"RoleArn": arn,
                                                   "RoleSessionName": "chaosctl-test"})])
            creds = c[0]["Credentials"]
        finally:
            if checks:
                self._reset_auth(0)
        return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
