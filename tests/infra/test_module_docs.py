"""Every module has a README whose inputs and outputs tables match its
variables.tf and outputs.tf (module_docs.py --write updates them)."""

import os

import pytest

from infra import module_names
import module_docs


@pytest.mark.parametrize("name", module_names())
def test_readme_lists_the_modules_inputs_and_outputs(name):
    path = module_docs.readme(name)
    assert os.path.exists(path), "%s has no README.md" % name
    with open(path) as f:
        text = f.read()
    assert module_docs.BEGIN in text, "%s has no generated inputs/outputs part" % path
    assert text == module_docs.expected(name), \
        "%s is out of date: build/infra-tools/pytest/bin/python tests/infra/module_docs.py --write" % path
    intro = text.split(module_docs.BEGIN)[0]
    assert len(intro.split()) > 20, "%s needs a few sentences of its own before the tables" % path
