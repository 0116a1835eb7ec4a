"""The shell completion in chaosctl's packages: every DEB and RPM carries
the bash and zsh scripts where that system's shells look for them, as
`chaosctl completion` writes them, and bash completes from the installed
DEB the way a user's shell does: bash-completion finds the script by the
command's name on the first <TAB> and loads it. (What the scripts offer
is tested in tests/integration/test_completion.py.)"""

import os
import shutil
import subprocess

import pytest

import pkgtest

BASH = "usr/share/bash-completion/completions/chaosctl"
# Debian's zsh reads vendor-completions; Fedora's and Amazon Linux's read
# site-functions.
ZSH = {"deb": "usr/share/zsh/vendor-completions/_chaosctl",
       "rpm": "usr/share/zsh/site-functions/_chaosctl"}
# The packaged scripts are the host build's output (packaging/build.sh).
HOST_CTL = os.path.join(pkgtest.ROOT, "bin", "chaosctl")

# On <TAB>, bash-completion's default handler loads the command's script
# from its completions directory; then bash calls the function the script
# registered with the command name, the current word and the previous one.
TAB = r'''
. /usr/share/bash-completion/bash_completion
COMP_WORDS=(chaosctl "$1")
COMP_CWORD=1
COMP_LINE="chaosctl $1"
COMP_POINT=${#COMP_LINE}
_completion_loader chaosctl
spec=$(complete -p chaosctl) || exit 3
fn=${spec#*-F }
fn=${fn%% *}
"$fn" chaosctl "$1" chaosctl
printf '%s\n' "${COMPREPLY[@]}"
'''


def completion(shell):
    r = subprocess.run([HOST_CTL, "completion", shell], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("arch,fmt", [("amd64", "deb"), ("amd64", "rpm"),
                                      ("arm64", "deb"), ("arm64", "rpm")])
def test_every_package_carries_both_scripts(workdir, arch, fmt):
    unpack = pkgtest.extract_deb if fmt == "deb" else pkgtest.extract_rpm
    d = unpack(pkgtest.package("chaosctl", arch, fmt),
               os.path.join(workdir, "completion-%s-%s" % (arch, fmt)))
    for path, shell in ((BASH, "bash"), (ZSH[fmt], "zsh")):
        f = os.path.join(d, path)
        assert os.path.isfile(f), "%s %s lacks /%s" % (arch, fmt, path)
        assert os.stat(f).st_mode & 0o777 == 0o644, path
        with open(f) as text:
            assert text.read() == completion(shell), path


def test_bash_completes_from_the_installed_deb(workdir):
    root = pkgtest.Chroot(pkgtest.roots_path("boot"), workdir, "completion-deb")
    try:
        shutil.copy(pkgtest.package("chaosctl", "amd64", "deb"),
                    os.path.join(root.root, "root", "chaosctl.deb"))
        root.run(["dpkg", "-i", "/root/chaosctl.deb"], timeout=120)
        r = root.run(["bash", "--norc", "--noprofile", "-c", TAB, "_", "inj"])
        assert r.stdout.split() == ["inject"], r.stdout + r.stderr
        r = root.run(["bash", "--norc", "--noprofile", "-c", TAB, "_", "re"])
        assert sorted(r.stdout.split()) == ["report", "revert"], r.stdout + r.stderr
        print("bash-completion: 'chaosctl inj<TAB>' -> inject, from /%s" % BASH)
    finally:
        root.stop()
