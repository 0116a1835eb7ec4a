"""Fixtures for the VM tests: the VM layer must be there. A missing qemu or
kernel fails the tests (CI installs them); it never skips them."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import vm  # noqa: E402


@pytest.fixture(scope="session")
def guest():
    """vm.run_guest_ex, once the host has qemu and an up-to-date initramfs
    (the build script is cheap when nothing changed)."""
    if not shutil.which(vm.QEMU):
        pytest.fail("%s is not installed: run scripts/install-deps.sh "
                    "(the VM tests need qemu-system-x86)" % vm.QEMU, pytrace=False)
    for b in ("chaos-agent", "chaosctl"):
        if not os.access(os.path.join(ROOT, "bin", b), os.X_OK):
            pytest.fail("bin/%s is missing: run make all (or make check-vm)" % b,
                        pytrace=False)
    r = subprocess.run([vm.BUILD_SCRIPT], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("tests/vm/build-initramfs.sh failed:\n" + r.stdout + r.stderr,
                    pytrace=False)
    missing = vm.prerequisites()
    if missing:
        pytest.fail("the VM test layer is not set up; missing:\n  " +
                    "\n  ".join(missing), pytrace=False)
    return vm.run_guest_ex
