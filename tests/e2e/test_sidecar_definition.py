"""packaging/sidecar/task-definition.json, the task sidecar's example task
definition (docs/sidecar.md), offline: botocore's own validation of a
RegisterTaskDefinition request with it (the service model of the project
virtualenv), and the settings that keep a sidecar's fault short-lived
and its privileges small. tests/integration/test_task_mode.py starts the
agent with its command line."""

import json
import os
import subprocess

from conftest import ROOT, VENV

TASK_DEFINITION = os.path.join(ROOT, "packaging", "sidecar", "task-definition.json")

VALIDATE = r"""
import json, sys
import botocore, botocore.session
from botocore.validate import ParamValidator
model = botocore.session.get_session().get_service_model("ecs")
shape = model.operation_model("RegisterTaskDefinition").input_shape
report = ParamValidator().validate(json.load(open(sys.argv[1])), shape)
print(report.generate_report() if report.has_errors() else "valid")
print(botocore.__version__)
"""


def load():
    with open(TASK_DEFINITION) as f:
        return json.load(f)


def sidecar(td):
    return next(c for c in td["containerDefinitions"] if c["name"] == "chaos-agent")


def test_botocore_accepts_the_task_definition(venv):
    p = subprocess.run([os.path.join(VENV, "bin", "python"), "-c", VALIDATE, TASK_DEFINITION],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    verdict, version = p.stdout.strip().rsplit("\n", 1)
    assert verdict == "valid", verdict
    print("botocore %s: RegisterTaskDefinition input valid" % version)


def test_the_task_lets_the_sidecar_reach_the_endpoints_and_its_processes():
    td = load()
    assert td["networkMode"] == "awsvpc" and td["enableFaultInjection"] is True
    assert td["pidMode"] == "task" and td["requiresCompatibilities"] == ["FARGATE"]
    # Task storage, not a host path: it lives as long as the task.
    assert td["volumes"] == [{"name": "chaos-agent-state"}]


def test_a_killed_sidecar_is_restarted_or_takes_its_task_down():
    c = sidecar(load())
    assert c["essential"] is True
    assert c["restartPolicy"] == {"enabled": True, "restartAttemptPeriod": 60}
    assert c["stopTimeout"] >= 30
    state = c["command"][c["command"].index("--state-dir") + 1]
    assert {"sourceVolume": "chaos-agent-state", "containerPath": state,
            "readOnly": False} in c["mountPoints"]


def test_the_sidecar_asks_for_nothing_more_than_it_uses():
    c = sidecar(load())
    assert c["privileged"] is False and c["readonlyRootFilesystem"] is True
    assert c["linuxParameters"]["capabilities"] == {"add": ["SYS_PTRACE"]}
    assert [m["sourceVolume"] for m in c["mountPoints"]] == ["chaos-agent-state"]
    assert c["secrets"][0]["name"] == "CHAOS_AGENT_KEY"
    assert "key_env=CHAOS_AGENT_KEY" in c["command"] and "mode=task" in c["command"]
    assert not any("docker.sock" in json.dumps(v) for v in c.values())


def test_docs_show_this_container():
    with open(os.path.join(ROOT, "docs", "sidecar.md")) as f:
        text = f.read()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == sidecar(load())
