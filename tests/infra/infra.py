"""Helpers of the infrastructure tests (tests/infra): where things are, and
HCL read with python-hcl2 into plain Python values.

python-hcl2 keeps the quotes of string literals and block labels
('"aws_vpc"') and marks blocks with "__is_block__"; `load` removes the
quotes and keeps the marker, so that a test can tell a block from an
attribute whose value is an object. Expressions stay as text ("${...}").
"""

import functools
import glob
import os
import re

import hcl2

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
INFRA = os.path.join(ROOT, "infrastructure")
MODULES = os.path.join(INFRA, "modules")
LIVE = os.path.join(INFRA, "live")
TOOLS = os.environ.get("INFRA_TOOLS", os.path.join(ROOT, "build", "infra-tools"))
TOFU = os.path.join(TOOLS, "bin", "tofu")

BLOCK = "__is_block__"


def unquote(s):
    if isinstance(s, str) and len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1]
    return s


def _clean(v):
    if isinstance(v, dict):
        return {unquote(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return unquote(v)


@functools.lru_cache(maxsize=None)
def _load_cached(path, mtime):
    with open(path) as f:
        return _clean(hcl2.load(f))


def load(path):
    """One HCL file as plain values (see the module docstring). Parsed once
    per test run: python-hcl2 is slow."""
    return _load_cached(path, os.stat(path).st_mtime_ns)


def module_names():
    return sorted(d for d in os.listdir(MODULES) if os.path.isdir(os.path.join(MODULES, d)))


class Module:
    """What a module declares: variables (name -> has a default), outputs,
    managed resources and data sources as (type, name, body)."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(MODULES, name)
        self.files = sorted(glob.glob(os.path.join(self.dir, "*.tf")))
        self.variables, self.outputs = {}, set()
        self.resources, self.data, self.ephemerals, self.calls = [], [], [], []
        self.text = ""
        for path in self.files:
            with open(path) as f:
                self.text += f.read() + "\n"
            doc = load(path)
            for block in doc.get("variable", []):
                for vname, body in block.items():
                    self.variables[vname] = "default" in body
            for block in doc.get("output", []):
                self.outputs.update(block.keys())
            for kind, into in (("resource", self.resources), ("data", self.data),
                               ("ephemeral", self.ephemerals)):
                for block in doc.get(kind, []):
                    for rtype, named in block.items():
                        for rname, body in named.items():
                            into.append((rtype, rname, body))
            for block in doc.get("module", []):
                for mname, body in block.items():
                    self.calls.append((mname, body))

    def required_variables(self):
        return {v for v, has_default in self.variables.items() if not has_default}


class Unit:
    """A Terragrunt unit: infrastructure/live/<env>/<unit>/terragrunt.hcl."""

    SOURCE = re.compile(r"^\$\{get_repo_root\(\)\}/infrastructure/modules//([a-z0-9-]+)$")

    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(path)
        self.name = os.path.relpath(self.dir, LIVE)
        with open(path) as f:
            self.text = f.read()
        doc = load(path)
        self.doc = doc
        source = doc["terraform"][0]["source"]
        m = self.SOURCE.match(source)
        assert m, "%s: terraform.source %r is not a module of this repository" % (self.name, source)
        self.module = m.group(1)
        self.inputs = doc.get("inputs", {})
        self.dependencies = {}
        for block in doc.get("dependency", []):
            for dname, body in block.items():
                self.dependencies[dname] = body

    def dependency_unit(self, dname):
        rel = self.dependencies[dname]["config_path"]
        return os.path.normpath(os.path.join(self.dir, rel))

    def referenced_outputs(self):
        """(dependency, output) pairs this unit reads."""
        return set(re.findall(r"dependency\.([a-z0-9_]+)\.outputs\.([a-z0-9_]+)", self.text))


def units():
    return [Unit(p) for p in sorted(glob.glob(os.path.join(LIVE, "*", "*", "terragrunt.hcl")))]
