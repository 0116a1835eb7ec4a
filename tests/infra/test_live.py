"""Cross-checks of the Terragrunt live configuration against the modules it
deploys: Terragrunt itself cannot be installed here, and the AWS provider
cannot be downloaded, so no plan runs. What a plan would reject first is
checked instead: inputs that are no variable, variables left without a
value, outputs read from a unit whose module has no such output, and the
names the library's live contexts expect."""

import glob
import os
import re

import yaml
from infra import LIVE, Module, ROOT, load, module_names, units


def submodules():
    """Modules other modules call (../name): building blocks, not units."""
    called = set()
    for name in module_names():
        for _, body in Module(name).calls:
            assert body["source"].startswith("../"), "%s calls %s: only local modules" % (name, body["source"])
            called.add(body["source"][3:])
    return called


def test_there_is_a_unit_for_every_module_but_the_building_blocks():
    used = {u.module for u in units()}
    assert submodules() >= {"agent-user-data", "kms-key", "private-bucket"}
    assert used == set(module_names()) - submodules()
    assert not used & submodules()


def test_every_input_is_a_variable_of_the_units_module():
    for u in units():
        m = Module(u.module)
        unknown = set(u.inputs) - set(m.variables)
        assert not unknown, "%s passes %s, which %s does not declare" % (u.name, sorted(unknown), u.module)


def test_every_required_variable_gets_a_value():
    for u in units():
        m = Module(u.module)
        missing = m.required_variables() - set(u.inputs)
        assert not missing, "%s leaves %s of %s without a value" % (u.name, sorted(missing), u.module)


def test_every_dependency_output_read_exists_in_that_units_module():
    by_dir = {u.dir: u for u in units()}
    for u in units():
        for dname, output in u.referenced_outputs():
            assert dname in u.dependencies, "%s reads dependency.%s, which it does not declare" % (u.name, dname)
            dep = by_dir.get(u.dependency_unit(dname))
            assert dep is not None, "%s: dependency %s points at %s, which is no unit" % (
                u.name, dname, u.dependencies[dname]["config_path"])
            outputs = Module(dep.module).outputs
            assert output in outputs, "%s reads %s.outputs.%s; module %s has no such output" % (
                u.name, dname, output, dep.module)


def test_mock_outputs_are_real_outputs_and_cover_every_read():
    by_dir = {u.dir: u for u in units()}
    for u in units():
        reads = u.referenced_outputs()
        for dname, body in u.dependencies.items():
            dep = by_dir[u.dependency_unit(dname)]
            mocks = set(body.get("mock_outputs", {}))
            extra = mocks - Module(dep.module).outputs
            assert not extra, "%s mocks %s of %s, which are no outputs" % (u.name, sorted(extra), dname)
            read = {o for d, o in reads if d == dname}
            assert read <= mocks, "%s reads %s of %s without a mock (plan before apply fails)" % (
                u.name, sorted(read - mocks), dname)


def test_dependencies_form_no_cycle():
    by_dir = {u.dir: u for u in units()}
    state = {}

    def visit(u, path):
        if state.get(u.dir) == "done":
            return
        assert state.get(u.dir) != "open", "dependency cycle: %s" % " -> ".join(path + [u.name])
        state[u.dir] = "open"
        for dname in u.dependencies:
            visit(by_dir[u.dependency_unit(dname)], path + [u.name])
        state[u.dir] = "done"

    for u in units():
        visit(u, [])


def test_remote_state_is_encrypted_s3_with_lock_files():
    root = load(os.path.join(LIVE, "root.hcl"))
    rs = root["remote_state"][0]
    assert rs["backend"] == "s3"
    cfg = rs["config"]
    assert cfg["encrypt"] is True
    assert cfg["use_lockfile"] is True
    assert "dynamodb_table" not in cfg
    assert "${path_relative_to_include()}" in cfg["key"]


def test_every_unit_includes_the_root():
    for u in units():
        inc = u.doc["include"][0]["root"]
        assert inc["path"] == '${find_in_parent_folders("root.hcl")}', u.name


def env_locals(env):
    """The environment's locals with ${local.x} references resolved."""
    raw = load(os.path.join(LIVE, env, "env.hcl"))["locals"][0]
    values = {k: v for k, v in raw.items() if isinstance(v, (str, int)) and "${get_env" not in str(v)}
    for _ in range(5):
        for k, v in values.items():
            if isinstance(v, str):
                values[k] = re.sub(r"\$\{local\.([a-z_]+)\}", lambda m: str(values[m.group(1)]), v)
    return values


def unit_value(env, unit, key):
    """An input of a unit, with the environment's locals filled in."""
    loc = env_locals(env)
    u = [x for x in units() if x.name == "%s/%s" % (env, unit)][0]
    v = u.inputs[key]
    return re.sub(r"\$\{include\.root\.locals\.env\.([a-z_]+)\}", lambda m: str(loc[m.group(1)]), v)


def library_parameter_names():
    """Every SSM parameter name the library's experiments read with
    chaoskit.aws.get_parameter (their configurations look the deployed
    names up instead of naming them), for environment "live"; any other
    variable in a name becomes "X"."""
    out = {}

    def walk(node, exp):
        if isinstance(node, dict):
            p = node.get("provider")
            if isinstance(p, dict) and p.get("func") == "get_parameter" and \
                    p.get("module") == "chaoskit.aws":
                name = (p.get("arguments") or {}).get("name", "")
                name = name.replace("${environment}", "live")
                out.setdefault(re.sub(r"\$\{[^}]+\}", "X", name), set()).add(exp)
            for v in node.values():
                walk(v, exp)
        elif isinstance(node, list):
            for v in node:
                walk(v, exp)
    for path in glob.glob(os.path.join(ROOT, "library", "*", "*", "experiment.yaml")):
        with open(path) as f:
            walk(yaml.safe_load(f), os.path.basename(os.path.dirname(path)))
    return out


def published_parameter_patterns(env):
    """The names the published-values unit writes, as regular expressions
    (a key of a for expression matches one path segment)."""
    path = os.path.join(LIVE, env, "published-values", "terragrunt.hcl")
    with open(path) as f:
        text = f.read()
    pats = []
    for name in re.findall(r'"(/\$\{local\.env\}/[^"]+)"', text):
        name = name.replace("${local.env}", env)
        parts = re.split(r"(\$\{[^}]+\})", name)
        pats.append("^" + "".join("[^/]+" if x.startswith("${") else re.escape(x)
                                  for x in parts) + "$")
    return pats


def test_the_names_the_library_reads_are_the_names_the_live_stack_publishes():
    names = library_parameter_names()
    pats = published_parameter_patterns("live")
    assert len(pats) >= 20, pats
    assert len(names) >= 10, "only %d parameter names found in the library" % len(names)
    for name, exps in sorted(names.items()):
        assert any(re.match(p, name) for p in pats), \
            "%s read by %s is not published by live/published-values" % (name, sorted(exps))
    # and the cluster the library finds there is the one the stack deploys
    assert unit_value("live", "ecs-cluster", "cluster_name") == "live-chaos-comment-cluster"
