"""Wrapper details where `chaosctl run` must do what the original wrapper
(start-chaos.py) did, found in the comparison of issue 16.

1. The S3 prefix cuts the sanitized title at 50 *characters* and lower-cases
   it as Python's str.lower() does (Unicode-aware), never splitting a UTF-8
   character (controller/slug.c).
2. Configuration values are interpolated as configparser's BasicInterpolation
   does: %(name)s is the value of key `name` of the same section (or of
   [DEFAULT]), %% is a literal %; a lone % is an error (exit 2, one line
   naming the key and the '%') (controller/run_conf.c).
3. CHAOS_VERBOSE, read by the original through click's CHAOS_ environment
   prefix, turns on --verbose (chaos --verbose ...) when it is 1, true, t,
   yes, y or on (any case), and leaves it off for 0, false, f, no, n, off
   (controller/cmd_run.c).
"""
import hashlib
import json
import subprocess

import pytest

from conftest import CTL_BIN, clean_env, describe, run_ctl, run_dir_of
from test_run import check_uploaded, dry, make_conf, var_args


def upload_with_title(moto, bucket, tmp_path, home, fake, title):
    journal = dict(start="2024-02-29T23:59:58.999+00:00", experiment={"title": title},
                   status="completed", deviated=False)
    d = tmp_path / "exp"
    conf = make_conf(d, "[DEFAULT]\n")
    # bytes that are not UTF-8 (a split character) must fail the test's
    # assertions, not its decoding
    r = subprocess.run([CTL_BIN, "run", str(conf), "--chaos", fake.path, "--journals-bucket",
                        bucket], env=clean_env(home, **moto.env(),
                                               **fake.env(journal=json.dumps(journal))),
                       capture_output=True, text=True, errors="replace", timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, describe(r)
    return r


@pytest.fixture
def bucket(moto, request):
    b = "pending-%s" % hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    moto.create_bucket(b)
    return b


def original_slug(title):
    """start-chaos.py's sanitize_name_for_path(title, 50), in Python."""
    s = title.strip().replace(" ", "-").replace(".", "").replace("/", "")
    return s.replace("'", "").replace('"', "").lower()[:50]


@pytest.mark.parametrize("title", [
    "a" * 49 + "é" + "tail",            # byte 50 falls inside "é"
    "Ünïcödé Übung " + "Ä" * 60,        # upper case beyond ASCII, longer than 50
], ids=["split-character", "unicode-upper"])
def test_s3_prefix_cuts_the_title_at_50_characters_and_lowercases_unicode(
        moto, bucket, tmp_path, home, fake, title):
    r = upload_with_title(moto, bucket, tmp_path, home, fake, title)
    want = original_slug(title)
    assert len(want) == 50
    check_uploaded(moto, bucket, run_dir_of(r), prefix="20240229_235958_" + want)


def test_percent_interpolation_as_configparser(tmp_path, home):
    d = tmp_path / "exp"
    # only keys chaosctl knows can be referenced (it refuses unknown keys)
    conf = make_conf(d, "[DEFAULT]\nhypothesis_frequency = 30\n\n[c]\n"
                        "experiment_path = %(hypothesis_frequency)s.yaml\n"
                        "var_overrides =\n"
                        "    probe_every = every %(hypothesis_frequency)s s\n"
                        "    share = 50%%\n", experiment="30.yaml")
    doc = dry([conf, "--context", "c"], clean_env(home))
    assert doc["command"][-1] == str(d / "30.yaml"), doc["command"]
    assert var_args(doc["command"]) == [("--var", "probe_every=every 30 s"),
                                        ("--var", "share=50%")]


def test_a_lone_percent_is_refused_with_the_key_named(tmp_path, home):
    d = tmp_path / "exp"
    conf = make_conf(d, "[c]\nvar_overrides =\n    share = 50%\n")
    r = run_ctl(["run", conf, "--context", "c", "--dry-run"], clean_env(home))
    assert r.returncode == 2, describe(r)
    line = r.stderr.strip()
    assert line.startswith("chaosctl:") and "%" in line and "var_overrides" in line, line


def test_default_values_interpolate_with_the_contexts_keys(tmp_path, home):
    """configparser looks a reference up in the section read, then in
    [DEFAULT], and interpolates what it finds (nested references too)."""
    d = tmp_path / "exp"
    conf = make_conf(d, "[DEFAULT]\nhypothesis_strategy = default\n"
                        "hypothesis_frequency = %(hypothesis_strategy)s-%(fail_fast)s\n"
                        "fail_fast = false\n\n"
                        "[c]\nhypothesis_strategy = continuously\n"
                        "rollback_strategy = %(hypothesis_frequency)s\n")
    cmd = dry([conf, "--context", "c"], clean_env(home))["command"]
    assert cmd[cmd.index("--rollback-strategy") + 1] == "continuously-false", cmd
    assert cmd[cmd.index("--hypothesis-frequency") + 1] == "continuously-false", cmd


@pytest.mark.parametrize("value,why", [
    ("%(nope)s", "names no key"),
    ("%(rollback_strategy", "bad interpolation variable reference"),
    ("%(rollback_strategy)s", "deeper than 10"),
], ids=["missing-key", "unclosed", "self-reference"])
def test_bad_references_are_refused_before_chaos_starts(tmp_path, home, value, why):
    d = tmp_path / "exp"
    conf = make_conf(d, "[c]\nrollback_strategy = %s\n" % value)
    r = run_ctl(["run", conf, "--context", "c", "--dry-run"], clean_env(home))
    assert r.returncode == 2, describe(r)
    assert "rollback_strategy" in r.stderr and why in r.stderr, describe(r)


@pytest.mark.parametrize("value", ["1", "true", "Yes", "on"])
def test_chaos_verbose_from_the_environment(tmp_path, home, value):
    d = tmp_path / "exp"
    conf = make_conf(d, "[DEFAULT]\n")
    doc = dry([conf], clean_env(home, CHAOS_VERBOSE=value))
    assert doc["command"][1] == "--verbose", doc["command"]


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_chaos_verbose_off_values_leave_it_off(tmp_path, home, value):
    d = tmp_path / "exp"
    conf = make_conf(d, "[DEFAULT]\n")
    doc = dry([conf], clean_env(home, CHAOS_VERBOSE=value))
    assert "--verbose" not in doc["command"], doc["command"]


def test_chaos_verbose_that_is_no_boolean_is_refused(tmp_path, home):
    """click refuses it as a usage error; so does chaosctl, before chaos starts."""
    d = tmp_path / "exp"
    conf = make_conf(d, "[DEFAULT]\n")
    r = run_ctl(["run", conf, "--dry-run"], clean_env(home, CHAOS_VERBOSE="loud"))
    assert r.returncode == 2 and "CHAOS_VERBOSE" in r.stderr, describe(r)
