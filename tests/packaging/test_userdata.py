"""packaging/ecs/user-data.sh, rendered as Terraform's templatefile would,
run inside a booted Debian 12 against moto serving S3 (the DEB) and SSM
(the key as a SecureString). Proves: the key arrives with mode 0600 and
never shows in a log or a process listing; a wrong SHA-256 or a missing or
malformed parameter stops the install with a clear line and no agent
running; a second run changes nothing."""

import hashlib
import os
import re
import sys
import threading
import time

import pytest

import pkgtest

sys.path.insert(0, os.path.join(pkgtest.ROOT, "tests", "lib"))
from moto import MotoServer  # noqa: E402

SCRIPT = os.path.join(pkgtest.ROOT, "packaging", "ecs", "user-data.sh")
LOG = "/var/log/chaos-agent-install.log"
INPUTS = ("ecs_cluster", "ecs_config_extra", "package_url", "package_sha256", "key_parameter",
          "agent_port", "listen_address", "allowed_cidrs", "aws_region", "aws_endpoint")


def render(values):
    """What templatefile does with this script: each input placeholder
    becomes its value; any other template sequence would be an error."""
    text = open(SCRIPT).read()
    names = set(re.findall(r"\$\{([a-z0-9_]+)\}", text))
    assert names == set(INPUTS), names
    for name, value in values.items():
        text = text.replace("${%s}" % name, value)
    assert "${" not in text and "%{" not in text
    return text


def test_only_the_inputs_are_template_placeholders():
    text = open(SCRIPT).read()
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"[$%]\{", line):
            assert re.match(r"^[A-Z0-9_]+='\$\{[a-z0-9_]+\}'", line), \
                "line %d would be read by templatefile: %s" % (n, line)


@pytest.fixture(scope="module")
def aws():
    m = MotoServer()
    m.start()
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture(scope="module")
def setup(machine, aws, keyfile):
    deb = pkgtest.package("chaos-agent", "amd64", "deb")
    data = open(deb, "rb").read()
    aws.create_bucket("chaos-packages")
    aws.put_object("chaos-packages", "agent/" + os.path.basename(deb), data)
    key_text = open(keyfile).read()
    aws.call([("ssm", "put_parameter", {"Name": "/chaos/agent-key", "Value": key_text,
                                        "Type": "SecureString"}),
              ("ssm", "put_parameter", {"Name": "/chaos/not-a-key", "Value": "hello world",
                                        "Type": "SecureString"})])
    port = pkgtest.free_port()
    base = {"ecs_cluster": "chaos-test", "ecs_config_extra": "ECS_ENABLE_TASK_IAM_ROLE=true",
            "package_url": "s3://chaos-packages/agent/" + os.path.basename(deb),
            "package_sha256": hashlib.sha256(data).hexdigest(),
            "key_parameter": "/chaos/agent-key", "agent_port": str(port),
            "listen_address": "127.0.0.1", "allowed_cidrs": "", "aws_region": "us-east-1",
            "aws_endpoint": aws.url}
    secret = key_text.split()[1]
    return {"m": machine, "base": base, "secret": secret, "port": port}


class Watch(threading.Thread):
    """Samples every process's command line and environment while the
    installer runs, looking for the key."""

    def __init__(self, secret):
        super().__init__(daemon=True)
        self.secret = secret.encode()
        self.stop = False
        self.hits = []
        self.samples = 0

    def run(self):
        while not self.stop:
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                for f in ("cmdline", "environ"):
                    try:
                        with open("/proc/%s/%s" % (d, f), "rb") as fh:
                            if self.secret in fh.read():
                                self.hits.append((d, f))
                    except OSError:
                        pass
            self.samples += 1
            time.sleep(0.005)


def userdata(s, **over):
    values = dict(s["base"], **over)
    m = s["m"]
    with open(m.path("/root/user-data.sh"), "w") as f:
        f.write(render(values))
    os.chmod(m.path("/root/user-data.sh"), 0o700)
    watch = Watch(s["secret"])
    watch.start()
    try:
        # On EC2 the credentials come from the instance role.
        r = m.run(["/root/user-data.sh"], check=False, timeout=600,
                  env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    finally:
        watch.stop = True
        watch.join()
    assert watch.samples > 10
    assert watch.hits == [], "the key showed in /proc: %s" % watch.hits
    return r


def agent_state(m):
    return m.run(["systemctl", "show", "-p", "ActiveState", "--value", "chaos-agent"],
                 check=False).stdout.strip()


def no_secret_anywhere(s, r):
    m = s["m"]
    for text in (r.stdout, r.stderr, open(m.path(LOG)).read(),
                 m.run(["journalctl", "--no-pager", "-o", "cat"], check=False).stdout):
        assert s["secret"] not in text


def test_wrong_sha256_stops_before_installing(setup):
    s = setup
    r = userdata(s, package_sha256="0" * 64)
    assert r.returncode == 1
    assert re.search(r"FAILED: package checksum mismatch: .* expected 0{64}; not installing",
                     r.stdout), r.stdout
    assert s["m"].run(["dpkg", "-s", "chaos-agent"], check=False).returncode != 0
    assert agent_state(s["m"]) in ("", "inactive")
    # Every step is in the log, mode 0600.
    assert "FAILED: package checksum mismatch" in open(s["m"].path(LOG)).read()
    assert os.stat(s["m"].path(LOG)).st_mode & 0o777 == 0o600


def test_missing_parameter_stops_with_no_agent_running(setup):
    s = setup
    r = userdata(s, key_parameter="/chaos/missing")
    assert r.returncode == 1
    assert "FAILED: cannot read the key from SSM parameter /chaos/missing" in r.stdout, r.stdout
    assert agent_state(s["m"]) != "active"
    assert not os.path.exists(s["m"].path("/etc/chaos-agent/agent.key"))


def test_malformed_parameter_stops_with_no_agent_running(setup):
    s = setup
    r = userdata(s, key_parameter="/chaos/not-a-key")
    assert r.returncode == 1
    assert "FAILED: SSM parameter /chaos/not-a-key does not hold a key file" in r.stdout
    assert "hello world" not in r.stdout + open(s["m"].path(LOG)).read()
    assert agent_state(s["m"]) != "active"


def test_install_from_s3_with_the_key_from_ssm(setup, ctl_bin, keyfile):
    s = setup
    m = s["m"]
    t0 = time.monotonic()
    r = userdata(s)
    assert r.returncode == 0, r.stdout + r.stderr
    print("user data: installed and healthy in %.1f s" % (time.monotonic() - t0))
    st = os.stat(m.path("/etc/chaos-agent/agent.key"))
    assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, 0, 0)
    assert open(m.path("/etc/chaos-agent/agent.key")).read().strip() == open(keyfile).read().strip()
    assert open(m.path("/etc/ecs/ecs.config")).read() == \
        "ECS_CLUSTER=chaos-test\nECS_ENABLE_TASK_IAM_ROLE=true\n"
    # The package came in with the earlier run that then missed its key.
    assert "package sha256 verified" in open(m.path(LOG)).read()
    # This container has no modules: the log says network faults are off.
    assert re.search(r"sch_netem (loaded|cannot be loaded.*will be unavailable)", r.stdout)
    assert agent_state(m) == "active"
    assert "listen = 127.0.0.1:%d" % s["port"] in open(m.path("/etc/chaos-agent/agent.conf")).read()
    out = pkgtest.Ctl(ctl_bin, "http://127.0.0.1:%d" % s["port"], keyfile)("info")
    assert out["results"][0]["ok"], out
    no_secret_anywhere(s, r)


def snapshot(m):
    files = ["/etc/ecs/ecs.config", "/etc/chaos-agent/agent.key", "/etc/chaos-agent/agent.conf",
             "/var/lib/chaos-agent-install/package.sha256"]
    snap = {f: (os.stat(m.path(f)).st_mtime_ns, open(m.path(f), "rb").read()) for f in files}
    snap["pid"] = m.run(["systemctl", "show", "-p", "MainPID", "--value", "chaos-agent"]).stdout
    return snap


def test_second_run_changes_nothing(setup):
    s = setup
    before = snapshot(s["m"])
    r = userdata(s)
    assert r.returncode == 0, r.stdout + r.stderr
    assert snapshot(s["m"]) == before
    for line in ("/etc/ecs/ecs.config unchanged", "already installed",
                 "/etc/chaos-agent/agent.key unchanged", "already running"):
        assert line in r.stdout, (line, r.stdout)
    no_secret_anywhere(s, r)


def test_a_later_failure_stops_the_running_agent(setup):
    s = setup
    assert agent_state(s["m"]) == "active"
    r = userdata(s, key_parameter="/chaos/missing")
    assert r.returncode == 1 and "chaos-agent is stopped" in r.stdout
    assert agent_state(s["m"]) != "active"
