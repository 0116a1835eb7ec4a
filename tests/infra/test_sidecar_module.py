"""packaging/sidecar/main.tf, the Terraform of the task sidecar
(docs/sidecar.md): formatted, valid, and its tofu tests pass. It has no
provider, so all of it runs offline."""

import os
import subprocess

from infra import ROOT, TOFU

SIDECAR = os.path.join(ROOT, "packaging", "sidecar")


def tofu(*args, env=None):
    return subprocess.run([TOFU, "-chdir=%s" % SIDECAR] + list(args), capture_output=True,
                          text=True, env=env, timeout=300)


def test_formatted():
    r = subprocess.run([TOFU, "fmt", "-check", "-recursive", "-diff", SIDECAR],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_validate_and_test(tmp_path):
    env = dict(os.environ, TF_DATA_DIR=str(tmp_path / "data"))
    for args in (("init", "-input=false", "-no-color"), ("validate", "-no-color"),
                 ("test", "-no-color")):
        r = tofu(*args, env=env)
        assert r.returncode == 0, "tofu %s:\n%s%s" % (args[0], r.stdout, r.stderr)
    assert "3 passed, 0 failed" in r.stdout, r.stdout
