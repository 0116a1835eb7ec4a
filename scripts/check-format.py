#!/usr/bin/env python3
"""The layout rules of CONTRIBUTING.md that a machine can check, on every C
source and header of the tree (make format-check):

  - the first line is an SPDX license identifier;
  - indentation is tabs, then at most four spaces of continuation (KNF);
  - no line is longer than 100 columns, tabs counted as 8;
  - no trailing white space; the file ends with exactly one newline;
  - a function definition's name starts a line of its own, with its
    return type on the line above (so `grep ^name(` finds it).

.clang-format describes the same layout for editors; clang-format itself
cannot express KNF's four-space continuation indents, so it is not the
check. Prints one line per problem (file:line: rule) and exits 1 if any.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LIMIT = 100
DIRS = ("agent", "common", "controller", "faults", "tests/unit", "tests/fuzz")
# A definition with its name not at column 0: "static int foo(...)\n{" etc.
DEF_SAME_LINE = re.compile(r"^(static |const |unsigned |struct |enum |int |void |bool |char )"
                           r"[^;=()]*\b[a-z_][a-z0-9_]*\([^;]*\)\s*$")


def width(line):
    col = 0
    for ch in line:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def check(path):
    problems = []
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if not lines[0].startswith("/* SPDX-License-Identifier: "):
        problems.append((1, "the first line must be the SPDX license identifier"))
    if not data.endswith(b"\n") or data.endswith(b"\n\n"):
        problems.append((len(lines), "the file must end with exactly one newline"))
    for n, line in enumerate(lines[:-1], 1):
        if line != line.rstrip():
            problems.append((n, "trailing white space"))
        lead = line[:len(line) - len(line.lstrip(" \t"))]
        if lead and not re.fullmatch(r"\t*( {1,4})?", lead):
            problems.append((n, "indent with tabs, then at most 4 spaces of continuation"))
        if width(line) > LIMIT:
            problems.append((n, "longer than %d columns (%d)" % (LIMIT, width(line))))
        if DEF_SAME_LINE.match(line) and n < len(lines) - 1 and lines[n] == "{":
            problems.append((n, "a function's name starts its own line, below its type"))
    return problems


def main():
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                            "--", *DIRS], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    bad = 0
    for rel in sorted(f for f in files if f.endswith((".c", ".h"))):
        for n, why in check(os.path.join(ROOT, rel)):
            print("%s:%d: %s" % (rel, n, why))
            bad += 1
    if bad:
        print("format-check: %d problem(s)" % bad, file=sys.stderr)
        return 1
    print("format-check: %d files follow the layout" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
