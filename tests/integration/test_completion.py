"""`chaosctl completion bash|zsh`: the script is run, not read.

bash: the script is sourced into a real bash and its completion function
is called on partial command lines (COMP_WORDS, COMP_CWORD), as bash's
programmable completion would; what lands in COMPREPLY is checked. zsh:
the script is loaded into a real zsh with compadd and _files standing in
for the completion system, and the words offered are checked the same
way. The offered flags are compared with each fault's own --help, so the
script cannot drift from the program.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import CTL_BIN

BASH_DRIVER = r'''
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_chaosctl
printf '%s\n' "${COMPREPLY[@]}"
'''

ZSH_DRIVER = r'''
compadd() { shift; print -rl -- "$@"; }
_files() { print -r -- "<files>"; }
body=$(<"$1")
shift
eval "${body%_chaosctl \"\$@\"}"
words=("$@")
CURRENT=$#
_chaosctl
'''


def script(shell, tmp_path):
    r = subprocess.run([CTL_BIN, "completion", shell], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    path = tmp_path / ("chaosctl." + shell)
    path.write_text(r.stdout)
    return path


def bash_complete(path, *words):
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "_", str(path),
                        "chaosctl", *words], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [w for w in r.stdout.split("\n") if w]


def zsh_complete(path, *words, prefix=""):
    """The words zsh would offer for the last word (compadd filters by prefix)."""
    r = subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER, "_", str(path), "chaosctl", *words],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [w for w in r.stdout.split("\n") if w and w.startswith(words[-1])]


@pytest.fixture
def bash_script(tmp_path):
    return script("bash", tmp_path)


@pytest.mark.parametrize("words,want", [
    (["re"], ["report", "revert"]),
    (["inject", "bu"], ["burn-cpu"]),
    (["inject", "burn-cpu", "--lo"], ["--load"]),
    (["--agent", "http://10.0.0.1:8421", "inject", "latency", "--distribution", ""],
     ["uniform", "normal", "pareto", "paretonormal"]),
    (["inject", "loss", "--percent", "5", "--protocol", "u"], ["udp"]),
    (["inject", "kill-process", "--signal", "K"], ["KILL"]),
    (["faults", "--state", "a"], ["active"]),
    (["--output", ""], ["text", "json"]),
    (["completion", ""], ["bash", "zsh"]),
    (["help", "in"], ["inject", "info"]),
    (["run", "--no"], ["--no-report"]),
    (["report", "--o"], ["--out", "--output"]),
    # a global option's value is skipped: the command is still found after it
    (["--key-file", "k", "faults", "--st"], ["--state"]),
])
def test_bash_completes_partial_lines(bash_script, words, want):
    assert sorted(bash_complete(bash_script, *words)) == sorted(want)


def test_bash_completes_file_names(bash_script, tmp_path):
    (tmp_path / "runs-a").mkdir()
    (tmp_path / "runs-b.txt").write_text("")
    got = bash_complete(bash_script, "report", str(tmp_path / "runs-"))
    assert sorted(got) == [str(tmp_path / "runs-a"), str(tmp_path / "runs-b.txt")]
    got = bash_complete(bash_script, "run", "--runs-dir", str(tmp_path / "runs-"))
    assert got == [str(tmp_path / "runs-a")]


def test_every_fault_and_its_help_flags_are_offered(bash_script):
    faults = bash_complete(bash_script, "inject", "")
    assert "burn-cpu" in faults and "latency" in faults and len(faults) >= 10
    for fault in faults:
        r = subprocess.run([CTL_BIN, "inject", fault, "--help"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        helped = set(re.findall(r"(?m)^\s+(--[a-z][a-z-]*)", r.stdout))
        offered = set(bash_complete(bash_script, "inject", fault, "--"))
        assert helped, fault
        assert helped <= offered, (fault, helped - offered)


def test_every_command_is_offered(bash_script):
    r = subprocess.run([CTL_BIN, "--help"], capture_output=True, text=True, timeout=30)
    listed = re.findall(r"(?m)^  ([a-z]+) ", r.stdout.split("commands:")[1].split("\n\n")[0])
    assert sorted(bash_complete(bash_script, "")) == sorted(listed)


def test_zsh_completes_partial_lines(tmp_path):
    if shutil.which("zsh") is None:
        pytest.fail("zsh is not installed (scripts/install-deps.sh installs it)",
                    pytrace=False)
    path = script("zsh", tmp_path)
    assert path.read_text().startswith("#compdef chaosctl\n")
    assert zsh_complete(path, "inject", "latency", "--distribution", "p") == \
        ["pareto", "paretonormal"]
    assert zsh_complete(path, "re") == ["revert", "report"]
    assert zsh_complete(path, "inject", "burn-cpu", "--co") == \
        ["--cores", "--container-id", "--container", "--container-count",
         "--container-percent", "--count"]
    r = subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER, "_", str(path), "chaosctl", "report",
                        ""], capture_output=True, text=True, timeout=30)
    assert r.stdout.strip() == "<files>"


@pytest.mark.parametrize("args", [[], ["fish"], ["bash", "zsh"]])
def test_completion_needs_one_known_shell(args):
    r = subprocess.run([CTL_BIN, "completion", *args], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "chaosctl: completion:" in r.stderr.splitlines()[-1]
    assert os.path.basename(CTL_BIN) == "chaosctl"
