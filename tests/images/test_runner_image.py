"""The runner image (packaging/runner) as AWS Batch would run it.

The container gets only what a Batch job gets: CHAOS_CONFIG_FILE (a path
relative to the work tree, as `chaosctl submit` sends it), CHAOS_CONTEXT,
CHAOS_JOURNALS_BUCKET, and credentials from a container credentials
endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token:
the form of the ECS endpoint the SDKs and chaosctl accept on loopback; on
Batch it is 169.254.170.2 through ..._RELATIVE_URI). AWS is the sandbox's
moto; the experiment runs against the sandbox's agents and containers.
The host network stands in for the job's VPC.
"""

import datetime
import http.server
import json
import os
import re
import threading
import time

import pytest

from conftest import ROOT, run, wait_for

LIBRARY_CONF = "library/agent/ecs-service-pause-containers/experiment.conf"
TOKEN = "runner-test-token"
# the sandbox's SecureString with the agents' key (the conf's [local]
# agent_key_parameter)
KEY_PARAMETER = "/local/chaos/agent_key"


# ------------------------------------------------------------ no Docker


def pins(path):
    out = {}
    for line in open(path):
        m = re.match(r"^([A-Za-z0-9_.\[\]-]+)==([^\s\\;]+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1).split("[")[0]).lower()] = m.group(2)
    return out


def test_runner_pins_are_the_tests_pins():
    image = pins(os.path.join(ROOT, "packaging", "runner", "requirements.txt"))
    tests = pins(os.path.join(ROOT, "tests", "requirements.txt"))
    for name in ("chaostoolkit", "chaostoolkit-lib", "chaostoolkit-aws"):
        assert name in image, name
    differ = {n: (v, tests.get(n)) for n, v in image.items() if tests.get(n) != v}
    assert not differ, "runner pins that tests/requirements.txt pins otherwise: %s" % differ
    for line in open(os.path.join(ROOT, "packaging", "runner", "requirements.txt")):
        if "==" in line:
            assert line.rstrip().endswith("\\"), "no --hash for " + line


# ------------------------------------------------------------- helpers


class CredentialsEndpoint:
    """The ECS container credentials endpoint's answer, on 127.0.0.1: the
    temporary credentials of a role, for requests carrying the token."""

    def __init__(self, creds):
        key_id, secret, token = creds
        self.calls = []
        doc = json.dumps({
            "AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token,
            "RoleArn": "arn:aws:iam::123456789012:role/chaos-runner",
            "Expiration": (datetime.datetime.now(datetime.timezone.utc)
                           + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }).encode()
        calls = self.calls

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                ok = self.headers.get("Authorization") == TOKEN
                calls.append((self.path, ok))
                self.send_response(200 if ok else 403)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(doc if ok else b'{"message":"bad token"}')

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/v2/credentials/chaos-runner" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Job:
    """Runner containers with a Batch job's environment, on the build engine."""

    def __init__(self, engine, image, sandbox, bucket, moto, creds):
        self.engine, self.image, self.sandbox = engine, image, sandbox
        self.bucket, self.moto, self.creds = bucket, moto, creds
        self.started = []

    def start(self, name, command=()):
        """command: the job definition's command, appended to the entry
        point (chaosctl run --runs-dir ...)."""
        env = {
            "CHAOS_CONFIG_FILE": LIBRARY_CONF,
            "CHAOS_CONTEXT": "local",
            "CHAOS_JOURNALS_BUCKET": self.bucket,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.sandbox.moto_url,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.creds.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        argv = ["run", "-d", "--name", name, "--network", "host"]
        for k, v in env.items():
            argv += ["-e", "%s=%s" % (k, v)]
        self.engine.docker(*argv, self.image, *command)
        self.started.append(name)
        return name

    def wait(self, name, timeout):
        """The container's exit code once it has exited."""
        return int(self.engine.docker("wait", name, timeout=timeout))

    def logs(self, name):
        p = run(["docker", "-H", "unix://" + self.engine.socket, "logs", name], check=False)
        return (p.stdout + p.stderr)[-6000:]

    def remove(self):
        for name in self.started:
            self.engine.docker("rm", "-f", name, check=False)


@pytest.fixture
def job(sandbox, engine, images):
    moto = sandbox.moto()
    bucket = "journals-%x" % (int(time.time() * 1000) & 0xffffff)
    moto.create_bucket(bucket)
    creds = CredentialsEndpoint(moto.assume_role_credentials())
    j = Job(engine, images["runner"], sandbox, bucket, moto, creds)
    try:
        yield j
    finally:
        j.remove()
        creds.close()


def uploaded(moto, bucket):
    """{file name: bytes} of the one run the bucket holds."""
    keys = moto.list_keys(bucket)
    prefixes = {k.rsplit("/", 1)[0] for k in keys}
    assert len(prefixes) == 1, keys
    return {k.rsplit("/", 1)[1]: moto.get_object(bucket, k) for k in keys}


class Sampler:
    """fn() every interval seconds in a thread, kept in .values."""

    def __init__(self, fn, interval=0.5):
        self.fn, self.interval, self.values = fn, interval, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop.is_set():
            try:
                self.values.append((time.monotonic(), self.fn()))
            except Exception as exc:  # noqa: BLE001 (kept for the assertions)
                self.values.append((time.monotonic(), exc))
            self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def all_running(sandbox):
    states = sandbox.api_containers()
    return states and all(s == "running" for s in states.values()) and states


# --------------------------------------------------------------- tests


def test_runner_image_is_small_and_ready_for_batch(engine, images):
    size = images["size"][images["runner"]]
    print("runner image: %.0f MB" % (size / 1e6))
    assert size < 400e6, "the runner image is %.0f MB" % (size / 1e6)
    cfg = json.loads(engine.docker("image", "inspect", images["runner"]))[0]["Config"]
    assert cfg["User"] == "10001:10001", cfg["User"]
    assert cfg["Entrypoint"][:4] == ["/usr/bin/tini", "--", "chaosctl", "run"], cfg
    assert cfg["WorkingDir"] == "/opt/chaos-kit"
    # As the job's user, with the image's PATH: what the experiments' process
    # activities will find.
    out = engine.docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh",
                        images["runner"], "-c",
                        "id -u; command -v chaosctl; command -v chaos; command -v vegeta; "
                        "chaosctl version; chaos --version; "
                        # go install sets no version string: the build info has it
                        "grep -a -o 'mod.github.com/tsenart/vegeta/v12.v[0-9.]*' "
                        "/usr/local/bin/vegeta | head -1 | tr '\\t' ' '; "
                        # the library's extension: on the path once it exists
                        "cat \"$(python3 -c 'import sysconfig; "
                        "print(sysconfig.get_path(\"purelib\"))')/chaos-kit-library.pth\"; "
                        "test -w \"$HOME\" && echo home-ok; "
                        "test -f " + LIBRARY_CONF + " && echo library-ok")
    lines = out.splitlines()
    assert lines[0] == "10001", out
    assert lines[1:4] == ["/usr/bin/chaosctl", "/opt/chaostoolkit/bin/chaos",
                          "/usr/local/bin/vegeta"], out
    assert re.search(r"chaosctl %s \(libcurl [0-9.]+, OpenSSL 1\.1\.1w .*\(Debian "
                     r"1\.1\.1w-0\+deb11u\d+\)\)" % re.escape(
                         open(os.path.join(ROOT, "VERSION")).read().strip()), out), out
    assert re.search(r"^chaos, version 1\.21\.4$", out, re.M), out
    assert "mod github.com/tsenart/vegeta/v12 v12.13.0" in out, out
    assert re.search(r"^/opt/chaos-kit/library/python$", out, re.M), out
    assert "home-ok" in out and "library-ok" in out, out


def alarms_clear(sandbox):
    alarms = sandbox.moto().call([("cloudwatch", "describe_alarms", {})])[0]
    return all(a["StateValue"] != "ALARM" for a in alarms["MetricAlarms"])


def test_job_runs_a_library_experiment_and_uploads_its_journal(sandbox, job):
    assert all_running(sandbox), sandbox.api_containers()
    with Sampler(sandbox.api_containers, 0.5) as states:
        # the job definition's command gives chaosctl run the agents' key
        # (a global option after the command): the report then shows how
        # each fault really ended, from the agents' own records
        name = job.start("runner-pause", ["--key-ssm-parameter", KEY_PARAMETER])
        code = job.wait(name, 300)
    logs = job.logs(name)
    assert "no agent key" not in logs, logs
    files = uploaded(job.moto, job.bucket)
    assert sorted(files) == ["chaostoolkit.log", "journal.json", "report.html"], files.keys()
    report = files["report.html"]
    assert b"<svg" in report and b"pause-container" in report, report[:300]
    journal = json.loads(files["journal.json"])
    # In the sandbox the pause is meant to hurt: users behind the frozen
    # task time out and the SLO probe or the 5xx alarm says so (the
    # library's own test, tests/e2e/test_library_sandbox.py). The job's
    # exit status is chaosctl run's verdict on the journal: 1 when the
    # experiment deviated, 0 when it held.
    assert journal["status"] == "completed", journal["status"]
    assert code == (1 if journal["deviated"] else 0), "the job exited %d:\n%s" % (code, logs)
    act = [a for a in journal["run"] if a["activity"]["name"] == "pause-service-containers"][0]
    out = json.loads(act["output"]["stdout"])
    assert [r["status"] for r in out["results"]] == [201], out
    # the pause really happened, on one of the two instances, and ended
    paused = {k for _, v in states.values if isinstance(v, dict)
              for k, s in v.items() if s == "paused"}
    assert len({k for k, _ in paused}) == 1, states.values[-5:]
    assert all_running(sandbox), sandbox.api_containers()
    # credentials came from the endpoint, with the token
    assert job.creds.calls and all(ok for _, ok in job.creds.calls), job.creds.calls
    print("job: exit %d (deviated: %s), journal, log and report in s3://%s/, "
          "%d credentials requests" % (code, journal["deviated"], job.bucket,
                                       len(job.creds.calls)))


def test_sigterm_at_the_job_timeout_still_uploads_and_reverts(sandbox, job):
    """Batch ends a job at its timeout as ECS stops a task: SIGTERM to pid 1,
    SIGKILL 30 s later. Sent while a container is paused: the rollback
    reverts the pause and the journal reaches S3 before the SIGKILL."""
    # A fault of an earlier test may have set off the sandbox's alarms:
    # the experiment's steady state needs them clear again (they look at
    # the last ALARM_WINDOW seconds).
    wait_for(lambda: alarms_clear(sandbox), 120, interval=2,
             desc="the sandbox's alarms to clear")
    name = job.start("runner-sigterm")

    def paused():
        st = sandbox.api_containers()
        return [k for k, s in st.items() if s == "paused"]
    try:
        victims = wait_for(paused, 120, interval=0.2, desc="the job to pause a container")
    except AssertionError:
        raise AssertionError("no container paused:\n" + job.logs(name))
    t0 = time.monotonic()   # the fault has 20 s to run from about now
    job.engine.docker("stop", "-t", "30", name, timeout=60)   # SIGTERM, SIGKILL after 30 s
    stopped = time.monotonic() - t0
    state = json.loads(job.engine.docker("inspect", name))[0]["State"]
    logs = job.logs(name)
    assert state["ExitCode"] not in (137, 0), "exit %d:\n%s" % (state["ExitCode"], logs)
    assert re.search(r"uploaded the journal, the log(, the report)? to s3://%s/"
                     % re.escape(job.bucket), logs), logs
    files = uploaded(job.moto, job.bucket)
    journal = json.loads(files["journal.json"])
    # Chaos Toolkit records the run as interrupted, or as failed: seen with
    # the library's background load still running when the signal came.
    # Either way the rollback below must have run and reverted the fault.
    assert journal["status"] in ("interrupted", "failed"), journal["status"]
    rollbacks = [a["activity"]["name"] for a in journal["rollbacks"]]
    assert rollbacks == ["revert-experiment-faults"], rollbacks
    out = json.loads(journal["rollbacks"][0]["output"]["stdout"])
    reverted = [f["type"] for r in out["results"] for f in (r.get("body") or {}).get("faults", [])]
    assert "pause-container" in reverted or "pause-container" in json.dumps(out), out
    # the paused container runs again, before the fault's own deadline
    assert all_running(sandbox), (victims, sandbox.api_containers())
    assert time.monotonic() - t0 < 18, "checked too late to tell the rollback from the deadline"
    print("SIGTERM -> journal in S3 and the job ended after %.1f s (exit %d); "
          "paused %s reverted by the rollback" % (stopped, state["ExitCode"], victims))
