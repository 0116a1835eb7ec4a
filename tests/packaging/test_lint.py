"""Static checks of the built packages and their scripts: lintian, rpmlint,
shellcheck, the glibc ceiling, and the unit under systemd-analyze (verify,
and the security exposure score, which must stay at or below 3.5)."""

import glob
import os
import re
import subprocess

import pkgtest

ROOT = pkgtest.ROOT
UNIT = os.path.join(ROOT, "packaging", "chaos-agent.service")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)


def test_every_package_was_built():
    for arch in ("amd64", "arm64"):
        for name in ("chaos-agent", "chaosctl"):
            for fmt in ("deb", "rpm"):
                path = pkgtest.package(name, arch, fmt)
                print("%-45s %6d KiB" % (os.path.basename(path), os.path.getsize(path) // 1024))


def test_lintian_is_clean():
    debs = glob.glob(os.path.join(pkgtest.DIST, "*.deb"))
    assert len(debs) == 4
    # Overrides, each with its reason, ship in the packages themselves
    # (packaging/deb/*.lintian-overrides).
    r = run(["lintian", "--fail-on", "error,warning", "--info"] + debs)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr


def test_rpmlint_is_clean():
    rpms = glob.glob(os.path.join(pkgtest.DIST, "*.rpm"))
    assert len(rpms) == 4
    r = run(["rpmlint", "--config", os.path.join(ROOT, "packaging", "rpm", "rpmlintrc")] + rpms)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"\b0 errors, 0 warnings", r.stdout), r.stdout


def test_shellcheck_on_every_packaging_script():
    scripts = [p for p in glob.glob(os.path.join(ROOT, "packaging", "**", "*"), recursive=True)
               if os.path.isfile(p) and open(p, "rb").read(2) == b"#!"]
    assert any(p.endswith("user-data.sh") for p in scripts)
    assert any(p.endswith(".postinst") for p in scripts)
    r = run(["shellcheck", "-x"] + scripts, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    print("shellcheck: %d scripts clean" % len(scripts))


def test_binaries_need_glibc_231_at_most(workdir):
    for arch in ("amd64", "arm64"):
        d = pkgtest.extract_deb(pkgtest.package("chaos-agent", arch, "deb"),
                                os.path.join(workdir, "glibc-" + arch))
        pkgtest.extract_deb(pkgtest.package("chaosctl", arch, "deb"), d)
        bins = [os.path.join(d, "usr/sbin/chaos-agent"), os.path.join(d, "usr/bin/chaosctl")]
        r = run([os.path.join(ROOT, "packaging", "check-glibc.sh"), "2.31"] + bins)
        print(r.stdout.replace(d, arch))
        assert r.returncode == 0, r.stdout + r.stderr
        # Nothing but glibc is loaded at run time.
        for b in bins:
            needed = re.findall(r"\(NEEDED\).*\[(.+)\]", run(["readelf", "-d", b]).stdout)
            assert needed and all(re.match(r"(libc|libm|libdl|libpthread|librt)\.so\.\d$|ld-linux",
                                           n) for n in needed), (b, needed)


def test_the_check_fails_on_a_newer_symbol():
    # The host's own build (glibc 2.36) needs symbols newer than 2.31.
    host_bin = os.path.join(ROOT, "bin", "chaosctl")
    r = run([os.path.join(ROOT, "packaging", "check-glibc.sh"), "2.31", host_bin])
    assert r.returncode == 1 and "newer than 2.31" in r.stderr, r.stdout + r.stderr


def test_security_exposure_score_at_most_3_5():
    r = run(["systemd-analyze", "security", "--offline=true", "--no-pager", UNIT])
    m = re.search(r"Overall exposure level for chaos-agent.service: ([0-9.]+)", r.stdout)
    assert m, r.stdout + r.stderr
    score = float(m.group(1))
    print("systemd-analyze security: %.1f" % score)
    assert score <= 3.5, r.stdout


def test_bounding_set_is_the_table_of_security_md():
    text = open(UNIT).read()
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M).group(1).split()
    doc = open(os.path.join(ROOT, "docs", "security.md")).read()
    table = doc.split("| capability | needed by |")[1].split("\n\n")[0]
    documented = re.findall(r"`(CAP_[A-Z_]+)`", table)
    assert len(documented) >= 5, table
    assert sorted(caps) == sorted(documented), (caps, documented)
    for c in caps:  # each one has a comment naming its use
        assert re.search(r"^# %s\s+\S" % c, text, re.M), c
