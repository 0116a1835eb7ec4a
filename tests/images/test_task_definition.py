"""packaging/daemon/task-definition.json, offline: botocore's own validation
of a RegisterTaskDefinition request (the service model botocore ships,
from the project virtualenv; the runner's Batch job definition too), and
what the daemon service must hold: the
capabilities of docs/security.md and nothing else, no privileged mode, a
read-only root, the key from an SSM secret into a tmpfs, the host's state
directory. The Terraform module must build its task definition from the
same file."""

import json
import os
import re
import subprocess

from conftest import ROOT, VENV_PY

DAEMON = os.path.join(ROOT, "packaging", "daemon")
TASK_DEFINITION = os.path.join(DAEMON, "task-definition.json")

VALIDATE = r"""
import json, sys
import botocore.session
from botocore.validate import ParamValidator
service, operation, path = sys.argv[1:4]
model = botocore.session.get_session().get_service_model(service)
shape = model.operation_model(operation).input_shape
report = ParamValidator().validate(json.load(open(path)), shape)
print(report.generate_report() if report.has_errors() else "valid")
print(__import__("botocore").__version__)
"""


def validate(service, operation, path):
    assert os.access(VENV_PY, os.X_OK), "%s missing: run scripts/setup-venv.sh" % VENV_PY
    p = subprocess.run([VENV_PY, "-c", VALIDATE, service, operation, path],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    verdict, version = p.stdout.strip().rsplit("\n", 1)
    return verdict, version


def load():
    with open(TASK_DEFINITION) as f:
        return json.load(f)


def security_table_caps():
    """The capabilities of docs/security.md's table, without CAP_."""
    with open(os.path.join(ROOT, "docs", "security.md")) as f:
        text = f.read()
    return {c for row in re.findall(r"^\s*\| (`CAP_[^|]+)\|", text, re.M)
            for c in re.findall(r"`CAP_([A-Z_]+)`", row)}


def test_botocore_accepts_the_task_definition():
    verdict, version = validate("ecs", "RegisterTaskDefinition", TASK_DEFINITION)
    assert verdict == "valid", verdict
    print("botocore %s: RegisterTaskDefinition input valid" % version)


def test_botocore_accepts_the_runners_job_definition():
    path = os.path.join(ROOT, "packaging", "runner", "job-definition.json")
    verdict, version = validate("batch", "RegisterJobDefinition", path)
    assert verdict == "valid", verdict
    with open(path) as f:
        props = json.load(f)["containerProperties"]
    assert ":".join(props["image"].rsplit("/", 1)[1].split(":")[:1]) == "chaos-kit-runner"
    assert {e["name"] for e in props["environment"]} == {"CHAOS_CONTEXT", "CHAOS_JOURNALS_BUCKET"}


def test_botocore_check_is_not_a_rubber_stamp(tmp_path):
    bad = load()
    bad["containerDefinitions"][0]["linuxParameters"]["capabilities"]["add"] = "KILL"
    bad["pidMode"] = 7
    path = str(tmp_path / "bad.json")
    with open(path, "w") as f:
        json.dump(bad, f)
    verdict, _ = validate("ecs", "RegisterTaskDefinition", path)
    assert "Invalid type for parameter containerDefinitions[0].linuxParameters" \
        ".capabilities.add" in verdict and "pidMode" in verdict, verdict


def test_a_daemon_task_with_the_security_tables_capabilities_only():
    td = load()
    assert td["requiresCompatibilities"] == ["EC2"]
    assert td["networkMode"] == "host" and td["pidMode"] == "host"
    (c,) = td["containerDefinitions"]
    assert not c.get("privileged"), "privileged: the capabilities below are enough"
    caps = c["linuxParameters"]["capabilities"]
    assert caps["drop"] == ["ALL"]
    table = security_table_caps()
    assert len(table) == 7, table
    assert set(caps["add"]) == table, (caps["add"], table)
    assert c["readonlyRootFilesystem"] is True
    # the key: an ECS secret from SSM, written by the entry point to a tmpfs
    assert [s["name"] for s in c["secrets"]] == ["CHAOS_AGENT_KEY"]
    assert re.match(r"^arn:aws:ssm:[a-z0-9-]+:\d{12}:parameter/", c["secrets"][0]["valueFrom"])
    assert "CHAOS_AGENT_KEY" not in json.dumps(c.get("environment", []))
    tmpfs = {t["containerPath"]: t for t in c["linuxParameters"]["tmpfs"]}
    assert "/run/chaos-agent" in tmpfs and "noexec" in tmpfs["/run/chaos-agent"]["mountOptions"]
    with open(os.path.join(DAEMON, "agent.conf")) as f:
        assert re.search(r"^key_file = /run/chaos-agent/agent\.key$", f.read(), re.M)
    # the host's Docker socket, state directory and cgroups
    volumes = {v["name"]: v["host"]["sourcePath"] for v in td["volumes"]}
    mounts = {m["containerPath"]: volumes[m["sourceVolume"]] for m in c["mountPoints"]}
    assert mounts == {"/var/run/docker.sock": "/var/run/docker.sock",
                      "/var/lib/chaos-agent": "/var/lib/chaos-agent",
                      "/sys/fs/cgroup": "/sys/fs/cgroup"}, mounts
    # SIGTERM reverts everything: give it the unit's stop timeout
    with open(os.path.join(ROOT, "packaging", "chaos-agent.service")) as f:
        unit_stop = int(re.search(r"^TimeoutStopSec=(\d+)$", f.read(), re.M).group(1))
    assert c["stopTimeout"] == unit_stop


def test_terraform_builds_the_daemon_service_from_the_same_file():
    with open(os.path.join(DAEMON, "main.tf")) as f:
        tf = f.read()
    assert 'jsondecode(file("${path.module}/task-definition.json"))' in tf
    assert re.search(r'scheduling_strategy\s+=\s+"DAEMON"', tf)
    for field in ("networkMode", "pidMode", "requiresCompatibilities", "volumes", "family"):
        assert "local.task.%s" % field in tf, field
