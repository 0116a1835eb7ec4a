"""Every experiment of library/: complete (README, experiment, conf with
[DEFAULT]/[live]/[local], variables), its conf understood by chaosctl run
for both contexts, and valid for Chaos Toolkit itself (`chaos validate`
with chaostoolkit-aws installed and chaosctl on PATH)."""
import glob
import json
import os
import subprocess

import pytest

from conftest import ROOT, CHAOS_BIN, clean_env, run_ctl, describe

EXPERIMENTS = sorted(os.path.dirname(p) for p in
                     glob.glob(os.path.join(ROOT, "library", "*", "*", "experiment.yaml")))


def ids():
    return [os.path.relpath(d, os.path.join(ROOT, "library")) for d in EXPERIMENTS]


# The catalogue, written out: an experiment lost or added by accident (a
# renamed folder, a missing experiment.yaml) fails here.
CATALOGUE = [
    "agent/ecs-dependency-blackhole",
    "agent/ecs-fargate-api-latency",
    "agent/ecs-instance-kill-ecs-agent",
    "agent/ecs-service-pause-containers",
    "agent/ecs-task-network-loss",
    "reliability/ecs-instance-asg-fail-az",
    "reliability/ecs-instance-burn-cpu",
    "reliability/ecs-instance-kill-docker",
    "reliability/ecs-instance-termination",
    "reliability/ecs-service-fail-az",
    "reliability/ecs-service-slow-datasource",
    "reliability/ecs-service-slow-dependency",
    "reliability/ecs-service-tasks-failure",
    "reliability/rds-instance-reboot",
    "scalability/ecs-service-autoscaling",
    "scalability/ecs-service-cpu-scaling",
    "scalability/ecs-service-max-capacity-alarm",
    "scalability/ecs-service-scale-in",
    "scalability/ecs-service-scale-out",
]


def test_the_library_holds_exactly_its_catalogue():
    assert ids() == CATALOGUE


@pytest.mark.parametrize("d", EXPERIMENTS, ids=ids())
def test_experiment_is_complete(d):
    for f in ("README.md", "experiment.yaml", "experiment.conf", "variables.yaml"):
        assert os.path.isfile(os.path.join(d, f)), (d, f)
    with open(os.path.join(d, "README.md")) as f:
        readme = f.read()
    assert "chaosctl run" in readme and len(readme) > 400, d
    with open(os.path.join(d, "experiment.conf")) as f:
        conf = f.read()
    for section in ("[DEFAULT]", "[live]", "[local]"):
        assert section in conf, (d, section)


@pytest.mark.parametrize("d", EXPERIMENTS, ids=ids())
def test_conf_is_understood_for_every_context(d, home):
    for ctx in ("live", "local"):
        r = run_ctl(["--output", "json", "run", os.path.join(d, "experiment.conf"),
                     "--context", ctx, "--dry-run"], clean_env(home))
        assert r.returncode == 0, describe(r)
        cmd = json.loads(r.stdout)["command"]
        assert cmd[-1] == os.path.join(d, "experiment.yaml")


@pytest.mark.parametrize("d", EXPERIMENTS, ids=ids())
def test_chaos_validate(d, venv, home, tmp_path):
    env = clean_env(home, AWS_REGION="us-east-1")
    env["PATH"] = os.path.join(ROOT, "bin") + ":" + env.get("PATH", "/usr/bin:/bin")
    # chaos validate takes no var files: the configuration's defaults apply.
    # Its log goes to tmp_path: the library stays untouched.
    p = subprocess.run([CHAOS_BIN, "--no-version-check", "--log-file",
                        str(tmp_path / "chaostoolkit.log"), "validate",
                        os.path.join(d, "experiment.yaml")],
                       env=env, cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "experiment looks valid" in out.lower(), out


def test_template_is_complete_valid_and_outside_the_catalogue(venv, home, tmp_path):
    """library/_template/ is a skeleton to copy: complete, valid for Chaos
    Toolkit, understood by chaosctl run, and never part of the catalogue."""
    d = os.path.join(ROOT, "library", "_template")
    assert d not in EXPERIMENTS
    test_experiment_is_complete(d)
    test_conf_is_understood_for_every_context(d, home)
    test_chaos_validate(d, venv, home, tmp_path)
