"""Calls between modules (ecs-cluster -> agent-user-data, the building
blocks kms-key, private-bucket, task-execution-role): every argument is a
variable of the called module, every required variable is given, and every
module.<name>.<output> read exists. tofu validate would say so, but it
needs the AWS provider."""

import os
import re

import pytest

from infra import Module, module_names

META = {"source", "count", "for_each", "depends_on", "providers", "version"}


def calls():
    for name in module_names():
        for call, body in Module(name).calls:
            yield name, call, body


@pytest.mark.parametrize("caller,call,body", list(calls()), ids=lambda v: v if isinstance(v, str) else "")
def test_arguments_are_the_called_modules_variables(caller, call, body):
    target = Module(os.path.basename(body["source"]))
    args = {k for k in body if k not in META and not k.startswith("__")}
    unknown = args - set(target.variables)
    assert not unknown, "%s: module.%s passes %s, which %s does not declare" % (
        caller, call, sorted(unknown), target.name)
    missing = target.required_variables() - args
    assert not missing, "%s: module.%s leaves %s of %s unset" % (caller, call, sorted(missing), target.name)


@pytest.mark.parametrize("name", module_names())
def test_module_outputs_read_exist(name):
    m = Module(name)
    targets = {call: Module(os.path.basename(body["source"])) for call, body in m.calls}
    for call, output in set(re.findall(r"\bmodule\.([a-z0-9_]+)\.([a-z0-9_]+)", m.text)):
        assert call in targets, "%s reads module.%s, which it does not call" % (name, call)
        assert output in targets[call].outputs, "%s reads module.%s.%s; %s has no such output" % (
            name, call, output, targets[call].name)


def test_the_building_blocks_are_called():
    assert {c for _, c, _ in calls()} >= {"user_data", "key", "journals", "lb_logs", "execution_role"}
