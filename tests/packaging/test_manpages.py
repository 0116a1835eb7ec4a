"""The man pages say what the programs say: every option that a --help
text names is in the man page, and every option the man page names is in
some --help text. Faults likewise. The binaries are the host build
(bin/), whose help texts are the same code as the packaged ones."""

import os
import re
import subprocess

import pkgtest

ROOT = pkgtest.ROOT
MAN = os.path.join(ROOT, "packaging", "man")
AGENT = os.path.join(ROOT, "bin", "chaos-agent")
CTL = os.path.join(ROOT, "bin", "chaosctl")

# A long option, or a short one standing alone ("-v", "-e,").
OPT = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z](?![\w-]))")


def helptext(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, (argv, r.stderr)
    return r.stdout


def man_text(name):
    """The page's source with roff escapes of '-' undone, comments dropped."""
    lines = [l for l in open(os.path.join(MAN, name)).read().splitlines()
             if not l.startswith('.\\"')]
    return "\n".join(lines).replace("\\-", "-").replace("\\fB", "").replace(
        "\\fI", "").replace("\\fR", "").replace("\\fP", "")


def options(text):
    return set(OPT.findall(text))


def compare(helps, page):
    h, m = options(helps), options(page)
    assert h - m == set(), "in --help but not in the man page: %s" % sorted(h - m)
    assert m - h == set(), "in the man page but in no --help: %s" % sorted(m - h)
    return h


def test_chaos_agent_8_matches_its_help():
    opts = compare(helptext([AGENT, "--help"]), man_text("chaos-agent.8"))
    print("chaos-agent(8): %d options match --help" % len(opts))


def faults():
    text = helptext([CTL, "help", "inject"])
    return re.findall(r"^  ([a-z][a-z-]+)\s{2,}\S", text, re.M)


def test_chaosctl_1_matches_every_help_text():
    text = helptext([CTL, "--help"])
    cmds = re.findall(r"^  ([a-z]+)\s{2,}\S", text.split("commands:")[1].split("\n\n")[0], re.M)
    assert "inject" in cmds and "keygen" in cmds
    for c in cmds:
        text += helptext([CTL, "help", c])
    for f in faults():
        text += helptext([CTL, "inject", f, "--help"])
    opts = compare(text, man_text("chaosctl.1"))
    print("chaosctl(1): %d options of %d commands and %d faults match their help"
          % (len(opts), len(cmds), len(faults())))


def test_chaosctl_1_names_every_fault_and_no_other():
    page = man_text("chaosctl.1")
    section = page.split(".SH FAULTS")[1].split(".SH ")[0]
    named = set()
    lines = section.splitlines()
    # Each fault (or group of faults) is the tag line after a .TP.
    for prev, line in zip(lines, lines[1:]):
        if prev == ".TP":
            named |= set(re.findall(r"[a-z]+(?:-[a-z]+)*", line.split(" ", 1)[1]))
    assert set(faults()) == named, (sorted(faults()), sorted(named))


def test_pages_render_without_warnings():
    for page in ("chaos-agent.8", "chaosctl.1"):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z",
                            os.path.join(MAN, page)], capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == "", (page, r.stderr)
