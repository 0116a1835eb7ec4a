"""`chaosctl run`: a Chaos Toolkit run described by an INI file.

Dry runs check the chaos command line built from every configuration key;
runs with a stand-in chaos (fake_chaos.py) check what chaos really gets
(argv, cwd), exit statuses and signals; runs with the real Chaos Toolkit
check the run directory, the journal and the experiment's own effects
(marker files); uploads go to moto's S3 with signature checks on and are
read back; every configuration error must stop before chaos starts.
"""

import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

import pytest

from conftest import (CHAOS_BIN, CTL_BIN, FAKE_CHAOS, RUN_DIR_RE, VENV, clean_env, describe, error_line,
                      load_json, proc_alive, proc_children, run_ctl, run_dir_of, wait_for)

STAMP_RE = r"\d{8}_\d{6}"
# The original wrapper drops only . / ' " (the colon stays).
SAMPLE_TITLE_SLUG = "sample:-a-process-fault"


# ---------------------------------------------------------------- helpers


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def make_conf(d, text, name="chaos.conf", experiment="experiment.yaml", files=()):
    """An INI file in directory d, with an (empty) experiment file beside it
    and files (paths relative to d) made too."""
    d.mkdir(parents=True, exist_ok=True)
    for f in ([experiment] if experiment else []) + list(files):
        (d / f).parent.mkdir(parents=True, exist_ok=True)
        (d / f).touch()
    return write(d / name, text)


def dry(args, env, cwd=None, json_out=True):
    """chaosctl run ARGS --dry-run [--output json]: the parsed JSON document."""
    argv = ["run"] + [str(a) for a in args] + ["--dry-run"]
    if json_out:
        argv += ["--output", "json"]
    r = run_ctl(argv, env, cwd=cwd)
    assert r.returncode == 0, describe(r)
    if not json_out:
        return r
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        raise AssertionError("stdout is not one JSON document:\n" + describe(r))
    assert set(doc) >= {"command", "cwd", "run_dir"}, doc
    return doc


def check_stamp(stamp):
    """A run directory's YYYYmmdd_HHMMSS is now (local time or UTC)."""
    t = datetime.datetime.strptime(stamp, "%Y%m%d_%H%M%S")
    now_local = datetime.datetime.now()
    now_utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert min(abs((t - now_local).total_seconds()),
               abs((t - now_utc).total_seconds())) < 120, stamp


def check_run_dir(run_dir, runs_dir, context):
    m = re.fullmatch(re.escape(str(runs_dir)) + "/(" + STAMP_RE + ")_" + re.escape(context),
                     str(run_dir))
    assert m, "run dir %s is not %s/<YYYYmmdd_HHMMSS>_%s" % (run_dir, runs_dir, context)
    check_stamp(m.group(1))


def expected_cmd(run_dir, experiment, rollback="always", middle=(), verbose=False):
    """chaos's argv from [1:] on, as the specification spells it."""
    head = ["--verbose"] if verbose else []
    return head + ["--no-version-check",
                   "--log-file", os.path.join(run_dir, "chaostoolkit.log"),
                   "run",
                   "--journal-path", os.path.join(run_dir, "journal.json"),
                   "--rollback-strategy", rollback] + list(middle) + [str(experiment)]


def check_doc(doc, conf_dir, context="default", experiment=None, chaos="chaos", **kw):
    conf_dir = str(conf_dir)
    assert doc["cwd"] == conf_dir, doc
    check_run_dir(doc["run_dir"], os.path.join(conf_dir, "runs"), context)
    cmd = doc["command"]
    if chaos == "chaos":
        assert os.path.basename(cmd[0]) == "chaos", cmd
    else:
        assert cmd[0] == chaos, cmd
    exp = experiment or os.path.join(conf_dir, "experiment.yaml")
    assert cmd[1:] == expected_cmd(doc["run_dir"], exp, **kw)


def var_args(cmd):
    """The --var and --var-file values of a chaos argv, in order."""
    out = []
    for i, a in enumerate(cmd[:-1]):
        if a in ("--var", "--var-file"):
            out.append((a, cmd[i + 1]))
    return out


def journal_prefix(journal):
    """<start time YYYYmmdd_HHMMSS>_<sanitized title> of a journal (the
    specification's upload prefix), computed independently of chaosctl."""
    start = datetime.datetime.fromisoformat(journal["start"])
    if start.tzinfo is not None:
        start = start.astimezone(datetime.timezone.utc)
    return start.strftime("%Y%m%d_%H%M%S") + "_" + slug(journal["experiment"]["title"])


def slug(title):
    s = title.strip().replace(" ", "-")
    for c in ".", "/", "'", '"':
        s = s.replace(c, "")
    return s.lower()[:50]


# ======================================================== 1. dry runs


class TestDryRun:
    def test_defaults(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        doc = dry([conf], clean_env(home))
        check_doc(doc, d)

    def test_text_output_names_the_command(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nrollback_strategy = never\n")
        r = dry([conf], clean_env(home), json_out=False)
        out = r.stdout
        for word in ("--no-version-check", "--log-file", "--journal-path",
                     "--rollback-strategy never", str(d / "experiment.yaml"),
                     str(d / "runs")):
            assert word in out, "%r not in:\n%s" % (word, describe(r))

    def test_output_json_before_the_command(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["--output", "json", "run", conf, "--dry-run"], clean_env(home))
        assert r.returncode == 0, describe(r)
        check_doc(json.loads(r.stdout), d)

    def test_dry_run_starts_nothing(self, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        doc = dry([conf, "--chaos", fake.path], clean_env(home, **fake.env()))
        assert doc["command"][0] == fake.path
        assert not fake.ran(), "--dry-run started chaos"
        assert not os.path.exists(os.path.join(doc["run_dir"], "journal.json"))

    def test_every_key(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            experiment_path = sub/exp.json
            rollback_strategy = deviated
            hypothesis_strategy = before-method-only
            hypothesis_frequency = 5
            fail_fast = true
            var_files = v1.yaml, sub/v2.json
            var_overrides =
                plain = hello
                count:int = 3
                ratio:float = 0.5
                flag:bool = true
            """, experiment="sub/exp.json", files=["v1.yaml", "sub/v2.json"])
        doc = dry([conf], clean_env(home))
        check_doc(doc, d, experiment=d / "sub" / "exp.json", rollback="deviated", middle=[
            "--hypothesis-strategy", "before-method-only",
            "--hypothesis-frequency", "5",
            "--fail-fast",
            "--var-file", str(d / "v1.yaml"),
            "--var-file", str(d / "sub" / "v2.json"),
            "--var", "plain=hello",
            "--var", "count:int=3",
            "--var", "ratio:float=0.5",
            "--var", "flag:bool=true",
        ])

    @pytest.mark.parametrize("value", ["always", "never", "deviated"])
    def test_rollback_strategy(self, tmp_path, home, value):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nrollback_strategy = %s\n" % value)
        check_doc(dry([conf], clean_env(home)), d, rollback=value)

    @pytest.mark.parametrize("value", ["default", "before-method-only", "after-method-only",
                                       "during-method-only", "continuously"])
    def test_hypothesis_strategy(self, tmp_path, home, value):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nhypothesis_strategy = %s\n" % value)
        check_doc(dry([conf], clean_env(home)), d,
                  middle=["--hypothesis-strategy", value])

    def test_hypothesis_frequency_alone(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nhypothesis_frequency = 1.5\n")
        check_doc(dry([conf], clean_env(home)), d, middle=["--hypothesis-frequency", "1.5"])

    @pytest.mark.parametrize("value,on", [("true", True), ("yes", True), ("1", True),
                                          ("True", True), ("false", False), ("no", False),
                                          ("0", False)])
    def test_fail_fast(self, tmp_path, home, value, on):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nfail_fast = %s\n" % value)
        doc = dry([conf], clean_env(home))
        assert ("--fail-fast" in doc["command"]) == on, doc["command"]
        check_doc(doc, d, middle=["--fail-fast"] if on else [])

    def test_var_files_span_lines_and_are_absolute(self, tmp_path, home):
        d = tmp_path / "exp"
        absolute = tmp_path / "abs" / "c.yaml"
        absolute.parent.mkdir()
        absolute.touch()
        conf = make_conf(d, """
            [DEFAULT]
            var_files = a.yaml,
                dir/b.yaml ,
                %s
            """ % absolute, files=["a.yaml", "dir/b.yaml"])
        doc = dry([conf], clean_env(home))
        assert var_args(doc["command"]) == [
            ("--var-file", str(d / "a.yaml")),
            ("--var-file", str(d / "dir" / "b.yaml")),
            ("--var-file", str(absolute)),
        ]

    def test_var_overrides_types_and_values(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            var_overrides = first = 1
                greeting = hello world
                url:str = http://h/?a=b
                n:int=42
            """)
        doc = dry([conf], clean_env(home))
        assert var_args(doc["command"]) == [
            ("--var", "first=1"),
            ("--var", "greeting=hello world"),
            ("--var", "url:str=http://h/?a=b"),
            ("--var", "n:int=42"),
        ]

    def test_context_falls_back_to_default(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            rollback_strategy = never
            fail_fast = yes
            hypothesis_strategy = continuously

            [staging]
            hypothesis_frequency = 3
            """)
        doc = dry([conf, "--context", "staging"], clean_env(home))
        check_doc(doc, d, context="staging", rollback="never", middle=[
            "--hypothesis-strategy", "continuously", "--hypothesis-frequency", "3",
            "--fail-fast"])

    def test_context_replaces_a_default_key(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            rollback_strategy = never
            fail_fast = true
            experiment_path = experiment.yaml
            var_overrides = a = 1

            [prod]
            rollback_strategy = always
            fail_fast = false
            experiment_path = prod.yaml
            var_overrides = b:int = 2
            """)
        (d / "prod.yaml").touch()
        doc = dry([conf, "--context", "prod"], clean_env(home))
        check_doc(doc, d, context="prod", experiment=d / "prod.yaml", rollback="always",
                  middle=["--var", "b:int=2"])

    def test_context_falls_back_to_default_only(self, tmp_path, home):
        """Keys of another context never leak into the chosen one."""
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            rollback_strategy = deviated

            [a]
            fail_fast = true
            hypothesis_strategy = continuously

            [b]
            """)
        doc = dry([conf, "--context", "b"], clean_env(home))
        check_doc(doc, d, context="b", rollback="deviated")

    def test_no_context_uses_default_section(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            rollback_strategy = never
            [other]
            rollback_strategy = deviated
            """)
        check_doc(dry([conf], clean_env(home)), d, rollback="never")

    def test_chaos_context_env(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            [ctx1]
            rollback_strategy = never
            """)
        doc = dry([conf], clean_env(home, CHAOS_CONTEXT="ctx1"))
        check_doc(doc, d, context="ctx1", rollback="never")

    def test_context_flag_beats_env(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            [DEFAULT]
            [ctx1]
            rollback_strategy = never
            [ctx2]
            rollback_strategy = deviated
            """)
        doc = dry([conf, "--context", "ctx2"], clean_env(home, CHAOS_CONTEXT="ctx1"))
        check_doc(doc, d, context="ctx2", rollback="deviated")

    def test_chaos_config_file_env(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nrollback_strategy = never\n")
        doc = dry([], clean_env(home, CHAOS_CONFIG_FILE=conf), cwd=str(tmp_path))
        check_doc(doc, d, rollback="never")

    def test_from_another_cwd_relative_conf(self, tmp_path, home):
        d = tmp_path / "a" / "b"
        conf = make_conf(d, """
            [DEFAULT]
            experiment_path = x/e.yaml
            var_files = v.yaml
            """, experiment="x/e.yaml", files=["v.yaml"])
        other = tmp_path / "elsewhere"
        other.mkdir()
        doc = dry([os.path.relpath(conf, other)], clean_env(home), cwd=str(other))
        check_doc(doc, d, experiment=d / "x" / "e.yaml",
                  middle=["--var-file", str(d / "v.yaml")])

    def test_runs_dir(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n[c]\n")
        runs = tmp_path / "elsewhere" / "runs"
        doc = dry([conf, "--runs-dir", runs, "--context", "c"], clean_env(home))
        check_run_dir(doc["run_dir"], runs, "c")
        assert doc["command"][1:] == expected_cmd(doc["run_dir"], d / "experiment.yaml")

    def test_chaos_path_and_verbose(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        doc = dry([conf, "--chaos", "/opt/x/bin/chaos", "-v"], clean_env(home))
        check_doc(doc, d, chaos="/opt/x/bin/chaos", verbose=True)

    def test_comments_and_blank_lines(self, tmp_path, home):
        d = tmp_path / "exp"
        conf = make_conf(d, """
            # a comment
            ; another one

            [DEFAULT]
            # rollback_strategy = never
            ; fail_fast = true
            rollback_strategy = deviated

            [c]
              # indented comment
            """)
        check_doc(dry([conf, "--context", "c"], clean_env(home)), d, context="c",
                  rollback="deviated")

    def test_sample_conf(self, sample, home):
        """The shipped sample: [vars] has a var-file list spanning two lines."""
        doc = dry([sample / "experiment.conf", "--context", "vars"], clean_env(home))
        check_doc(doc, sample, context="vars", middle=[
            "--var-file", str(sample / "vars.yaml"),
            "--var-file", str(sample / "vars2.yaml"),
            "--var", "broken_file=not-this-one",
            "--var", "action_seconds:int=0"])
        doc = dry([sample / "experiment.conf", "--context", "failfast"], clean_env(home))
        check_doc(doc, sample, context="failfast", rollback="deviated", middle=[
            "--hypothesis-strategy", "continuously", "--hypothesis-frequency", "2",
            "--fail-fast"])


# ================================ what chaos really gets (stand-in chaos)


class TestLaunch:
    def test_argv_cwd_and_run_dir(self, sample, home, fake, tmp_path):
        env = clean_env(home, **fake.env())
        other = tmp_path / "cwd"
        other.mkdir()
        r = run_ctl(["run", sample / "experiment.conf", "--context", "vars",
                     "--chaos", fake.path], env, cwd=str(other))
        assert r.returncode == 0, describe(r)
        run_dir = run_dir_of(r)
        check_run_dir(run_dir, sample / "runs", "vars")
        rec = fake.record()
        assert rec is not None, "chaos was not started:\n" + describe(r)
        assert rec["cwd"] == str(sample)
        assert rec["argv"] == expected_cmd(run_dir, sample / "experiment.yaml", middle=[
            "--var-file", str(sample / "vars.yaml"),
            "--var-file", str(sample / "vars2.yaml"),
            "--var", "broken_file=not-this-one",
            "--var", "action_seconds:int=0"])
        # the run directory exists and holds what chaos wrote
        assert os.path.isfile(os.path.join(run_dir, "journal.json"))
        assert os.path.getsize(os.path.join(run_dir, "chaostoolkit.log")) > 0

    def test_same_command_as_dry_run(self, sample, home, fake):
        env = clean_env(home, **fake.env())
        conf = sample / "experiment.conf"
        doc = dry([conf, "--context", "failfast", "--chaos", fake.path, "-v"], env)
        r = run_ctl(["run", conf, "--context", "failfast", "--chaos", fake.path, "-v"], env)
        assert r.returncode == 0, describe(r)
        run_dir = run_dir_of(r)
        got = fake.record()["argv"]
        want = [a.replace(doc["run_dir"], run_dir) for a in doc["command"][1:]]
        assert got == want

    def test_chaos_found_on_path(self, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        bindir = tmp_path / "bin"
        bindir.mkdir()
        os.symlink(FAKE_CHAOS, bindir / "chaos")
        env = clean_env(home, PATH="%s:%s" % (bindir, os.environ["PATH"]), **fake.env())
        r = run_ctl(["run", conf], env)
        assert r.returncode == 0, describe(r)
        assert fake.ran(), "chaos on PATH was not started"
        assert fake.record()["argv"][-1] == str(d / "experiment.yaml")

    def test_runs_dir_created(self, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        runs = tmp_path / "deep" / "er" / "runs"
        r = run_ctl(["run", conf, "--runs-dir", runs, "--chaos", fake.path],
                    clean_env(home, **fake.env()))
        assert r.returncode == 0, describe(r)
        run_dir = run_dir_of(r)
        check_run_dir(run_dir, runs, "default")
        assert os.path.isfile(os.path.join(run_dir, "journal.json"))

    @pytest.mark.parametrize("rc", [1, 3, 20])
    def test_exit_status_is_chaos_s(self, tmp_path, home, fake, rc):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path], clean_env(home, **fake.env(rc=rc)))
        assert r.returncode == rc, describe(r)

    @pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
    def test_chaos_killed_by_signal(self, tmp_path, home, fake, sig):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path],
                    clean_env(home, **fake.env(signal=int(sig))))
        assert r.returncode == 128 + int(sig), describe(r)

    def test_chaos_that_cannot_be_forked_exits_4(self, home):
        """No process left for chaos: chaosctl's own failure (4), not a usage
        error (2) and not an exit status of chaos's."""
        d = tempfile.mkdtemp(prefix="ctl-nofork-", dir="/tmp")
        try:
            os.chmod(d, 0o777)  # nobody writes the run directory there
            conf = make_conf(pathlib.Path(d), "[DEFAULT]\n")
            # LeakSanitizer (SANITIZE builds) needs a thread at exit: none is left.
            r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                "--clear-groups", "prlimit", "--nproc=0", CTL_BIN, "run",
                                str(conf), "--chaos", "/bin/true"],
                               env=clean_env(home, ASAN_OPTIONS=":".join(filter(None, [
                                   os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"]))),
                               capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        finally:
            shutil.rmtree(d)
        assert r.returncode == 4, describe(r)
        assert "run: fork:" in r.stderr and "chaos exited" not in r.stderr, describe(r)

    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
    def test_signal_forwarded_and_waited_for(self, tmp_path, home, fake, reap, sig):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        p = subprocess.Popen([CTL_BIN, "run", str(conf), "--chaos", fake.path],
                             env=clean_env(home, **fake.env(sleep=60, grace=1.5)),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        reap.append(p)
        wait_for(fake.ran, 20, desc="the stand-in chaos to start")
        chaos_pid = fake.record()["pid"]
        p.send_signal(sig)  # chaosctl alone, not its process group
        out, err = p.communicate(timeout=30)
        assert p.returncode != 0, "rc=%d\n%s" % (p.returncode, err)
        with open(fake.record_file + ".signal") as f:
            assert int(f.read()) == int(sig), "chaos got another signal"
        assert os.path.exists(fake.record_file + ".ended"), "chaosctl did not wait for chaos"
        assert not proc_alive(chaos_pid), "chaosctl exited before chaos"


# ================================================ 2. the real Chaos Toolkit


def real_run(conf, env, *args, timeout=180):
    return run_ctl(["run", conf, "--chaos", CHAOS_BIN] + list(args), env, timeout=timeout)


@pytest.mark.usefixtures("venv")
class TestRealChaos:
    def test_completed(self, sample, home, out_dir):
        r = real_run(sample / "experiment.conf", clean_env(home, SAMPLE_OUT=out_dir),
                     "--context", "local")
        assert r.returncode == 0, describe(r)
        run_dir = run_dir_of(r)
        check_run_dir(run_dir, sample / "runs", "local")
        j = load_json(os.path.join(run_dir, "journal.json"))
        assert j["status"] == "completed", j["status"]
        assert j["deviated"] is False
        assert j["experiment"]["title"] == "Sample: a process fault"
        assert [x["activity"]["name"] for x in j["rollbacks"]] == ["write-rollback-marker"]
        assert (out_dir / "action.done").read_text() == "fault\n"
        assert (out_dir / "rollback.done").read_text() == "rolled back\n"
        log = os.path.join(run_dir, "chaostoolkit.log")
        assert os.path.getsize(log) > 0
        with open(log) as f:
            assert "Sample: a process fault" in f.read()

    def test_var_file_reaches_the_experiment(self, sample, home, out_dir):
        r = real_run(sample / "experiment.conf", clean_env(home, SAMPLE_OUT=out_dir),
                     "--context", "vars")
        assert r.returncode == 0, describe(r)
        j = load_json(os.path.join(run_dir_of(r), "journal.json"))
        assert j["status"] == "completed"
        # vars.yaml renamed the fault's marker
        assert (out_dir / "from-var-file.done").read_text() == "fault\n"
        assert not (out_dir / "action.done").exists()
        assert (out_dir / "rollback.done").exists()

    def test_var_override_beats_var_file(self, sample, home, out_dir):
        write(sample / "override.conf", """
            [DEFAULT]
            var_files = vars.yaml
            var_overrides =
                fault_file = from-override.done
                action_seconds:int = 1
            """)
        r = real_run(sample / "override.conf", clean_env(home, SAMPLE_OUT=out_dir))
        assert r.returncode == 0, describe(r)
        j = load_json(os.path.join(run_dir_of(r), "journal.json"))
        action = [x for x in j["run"] if x["activity"]["name"] == "inject-process-fault"]
        assert action and action[0]["duration"] >= 1.0, "action_seconds:int = 1 was not used"
        assert (out_dir / "from-override.done").exists()
        assert not (out_dir / "from-var-file.done").exists()
        assert not (out_dir / "action.done").exists()

    def test_deviation_exits_1(self, sample, home, out_dir):
        write(sample / "deviating.conf", """
            [DEFAULT]
            experiment_path = deviating.yaml
            """)
        r = real_run(sample / "deviating.conf", clean_env(home, SAMPLE_OUT=out_dir))
        assert r.returncode == 1, describe(r)
        j = load_json(os.path.join(run_dir_of(r), "journal.json"))
        assert j["status"] == "completed" and j["deviated"] is True
        assert (out_dir / "rollback.done").exists()
        assert "not met before the method" not in r.stderr

    def test_hypothesis_not_met_before_the_method_exits_1(self, sample, home, out_dir):
        # chaos itself says completed and exits 0: nothing ran, which chaosctl
        # must not let pass for a run that held
        write(sample / "deviating.conf", """
            [DEFAULT]
            experiment_path = deviating.yaml
            """)
        (out_dir / "broken").write_text("already\n")
        r = real_run(sample / "deviating.conf", clean_env(home, SAMPLE_OUT=out_dir))
        assert r.returncode == 1, describe(r)
        assert "chaosctl: chaos exited with status 0" in r.stderr
        assert "hypothesis was not met before the method" in r.stderr, describe(r)
        j = load_json(os.path.join(run_dir_of(r), "journal.json"))
        assert j["status"] == "completed" and j["deviated"] is False
        assert j["steady_states"]["before"]["steady_state_met"] is False
        assert j["run"] == []
        assert (out_dir / "broken").read_text() == "already\n"

    def test_a_failed_action_fails_the_run(self, sample, home, out_dir):
        # chaos keeps an action that exits non-zero "succeeded" and the run
        # "completed" with 0; chaosctl names the action and exits 1
        write(sample / "failing.yaml", """
            version: 1.0.0
            title: "Sample: an injection that fails"
            description: "the action exits 3"
            method:
              - type: action
                name: inject-that-fails
                provider:
                  type: process
                  path: /bin/sh
                  arguments: ["-c", "echo working; echo 'no agent took the fault' >&2; exit 3"]
              - type: probe
                name: probe-exiting-1-is-fine
                provider:
                  type: process
                  path: /bin/false
            rollbacks:
              - type: action
                name: revert-that-fails
                provider:
                  type: process
                  path: /bin/sh
                  arguments: ["-c", "exit 4"]
            """)
        write(sample / "failing.conf", """
            [DEFAULT]
            experiment_path = failing.yaml
            """)
        r = real_run(sample / "failing.conf", clean_env(home, SAMPLE_OUT=out_dir))
        assert r.returncode == 1, describe(r)
        assert "chaosctl: chaos exited with status 0" in r.stderr
        assert ("chaosctl: method action 'inject-that-fails' exited 3: no agent took the "
                "fault") in r.stderr, describe(r)
        assert "chaosctl: rollback action 'revert-that-fails' exited 4" in r.stderr
        assert "'probe-exiting-1-is-fine' exited" not in r.stderr
        j = load_json(os.path.join(run_dir_of(r), "journal.json"))
        assert j["status"] == "completed" and j["run"][0]["status"] == "succeeded"

    def test_chaos_on_path(self, sample, home, out_dir):
        env = clean_env(home, SAMPLE_OUT=out_dir,
                        PATH="%s:%s" % (os.path.join(VENV, "bin"), os.environ["PATH"]))
        r = run_ctl(["run", sample / "experiment.conf"], env, timeout=180)
        assert r.returncode == 0, describe(r)
        assert load_json(os.path.join(run_dir_of(r), "journal.json"))["status"] == "completed"
        assert (out_dir / "rollback.done").exists()

    def test_deviated(self, sample, home, out_dir):
        r = real_run(sample / "experiment.conf", clean_env(home, SAMPLE_OUT=out_dir),
                     "--context", "deviating")
        assert r.returncode == 1, describe(r)
        run_dir = run_dir_of(r)
        j = load_json(os.path.join(run_dir, "journal.json"))
        assert j["deviated"] is True
        assert j["status"] == "completed"
        assert (out_dir / "broken").exists()
        assert (out_dir / "rollback.done").exists(), "rollback_strategy always: rollbacks run"
        assert os.path.getsize(os.path.join(run_dir, "chaostoolkit.log")) > 0

    def test_deviated_with_var_override(self, sample, home, out_dir):
        """The main experiment deviates when a --var makes the fault write the
        file the hypothesis checks for."""
        write(sample / "dev.conf", """
            [DEFAULT]
            var_overrides =
                fault_file = broken
            """)
        r = real_run(sample / "dev.conf", clean_env(home, SAMPLE_OUT=out_dir))
        assert r.returncode == 1, describe(r)
        assert load_json(os.path.join(run_dir_of(r), "journal.json"))["deviated"] is True

    # ---------------------------------------------- 3. interrupting a run

    @pytest.mark.parametrize("sig,ignored", [(signal.SIGINT, False), (signal.SIGTERM, False),
                                             (signal.SIGINT, True)])
    def test_interrupted_runs_rollbacks(self, sample, home, out_dir, reap, sig, ignored):
        # ignored: chaosctl starts with the signal ignored, as a background job
        # of a script does; chaos must still act on what chaosctl passes on.
        p = subprocess.Popen(
            [CTL_BIN, "run", str(sample / "experiment.conf"), "--context", "long",
             "--chaos", CHAOS_BIN],
            env=clean_env(home, SAMPLE_OUT=out_dir), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
            preexec_fn=(lambda: signal.signal(sig, signal.SIG_IGN)) if ignored else None)
        reap.append(p)
        started = out_dir / "action.started"
        try:
            wait_for(lambda: started.exists() and started.read_text().strip(), 90,
                     desc="the long action to start")
        except AssertionError:
            p.kill()
            out, err = p.communicate()
            raise AssertionError("the long action did not start:\n" + err)
        sleep_pid = int(started.read_text())
        chaos_pids = proc_children(p.pid)
        assert chaos_pids, "chaosctl has no child"
        p.send_signal(sig)  # chaosctl only: it must forward the signal
        out, err = p.communicate(timeout=60)
        assert p.returncode != 0, "rc=0 after %s\n%s" % (sig.name, err)
        assert (out_dir / "rollback.done").exists(), "rollbacks did not run:\n" + err
        run_dir = run_dir_of(subprocess.CompletedProcess([], p.returncode, out, err))
        j = load_json(os.path.join(run_dir, "journal.json"))
        assert j["status"] == "interrupted", j["status"]
        assert [x["activity"]["name"] for x in j["rollbacks"]] == ["write-rollback-marker"]
        for pid in chaos_pids + [sleep_pid]:
            assert not proc_alive(pid), "pid %d still alive after chaosctl exited" % pid


# ======================================================= 4. S3 uploads


def unique_bucket(request):
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return ("jr-%s-%x" % (name, int(time.time() * 1e6) & 0xfffff))[:63].strip("-")


@pytest.fixture
def bucket(moto, request):
    b = unique_bucket(request)
    moto.create_bucket(b)
    return b


def check_uploaded(moto, bucket, run_dir, prefix=None):
    """The journal, the log and the report (when the run made one) are in the
    bucket under the journal's prefix, byte for byte; the report as HTML."""
    journal_file = os.path.join(run_dir, "journal.json")
    log_file = os.path.join(run_dir, "chaostoolkit.log")
    report_file = os.path.join(run_dir, "report.html")
    journal = load_json(journal_file)
    prefix = prefix or journal_prefix(journal)
    keys = moto.list_keys(bucket)
    want = [prefix + "/chaostoolkit.log", prefix + "/journal.json"]
    if os.path.exists(report_file):
        want.append(prefix + "/report.html")
    assert keys == sorted(want), keys
    with open(journal_file, "rb") as f:
        assert moto.get_object(bucket, prefix + "/journal.json") == f.read()
    with open(log_file, "rb") as f:
        assert moto.get_object(bucket, prefix + "/chaostoolkit.log") == f.read()
    if os.path.exists(report_file):
        with open(report_file, "rb") as f:
            assert moto.get_object(bucket, prefix + "/report.html") == f.read()
        head = moto.call([("s3", "head_object", {"Bucket": bucket,
                                                 "Key": prefix + "/report.html"})])[0]
        assert head["ContentType"].split(";")[0] == "text/html", head
    return prefix


class TestUpload:
    def test_real_run_uploads(self, moto, bucket, sample, home, out_dir):
        env = clean_env(home, SAMPLE_OUT=out_dir, **moto.env())
        r = real_run(sample / "experiment.conf", env, "--journals-bucket", bucket)
        assert r.returncode == 0, describe(r)
        run_dir = run_dir_of(r)
        prefix = check_uploaded(moto, bucket, run_dir)
        assert re.fullmatch(STAMP_RE + "_" + SAMPLE_TITLE_SLUG, prefix), prefix
        assert (out_dir / "rollback.done").exists()
        # The run made its report, and it went up with the journal.
        assert prefix + "/report.html" in moto.list_keys(bucket)

    def test_no_report_makes_and_uploads_none(self, moto, bucket, sample, home, out_dir):
        env = clean_env(home, SAMPLE_OUT=out_dir, **moto.env())
        r = real_run(sample / "experiment.conf", env, "--journals-bucket", bucket,
                     "--no-report")
        assert r.returncode == 0, describe(r)
        run_dir = run_dir_of(r)
        assert not os.path.exists(os.path.join(run_dir, "report.html"))
        prefix = check_uploaded(moto, bucket, run_dir)
        assert prefix + "/report.html" not in moto.list_keys(bucket)

    def test_deviated_run_still_uploads(self, moto, bucket, sample, home, out_dir):
        env = clean_env(home, SAMPLE_OUT=out_dir, **moto.env())
        r = real_run(sample / "experiment.conf", env, "--context", "deviating",
                     "--journals-bucket", bucket)
        assert r.returncode == 1, describe(r)
        prefix = check_uploaded(moto, bucket, run_dir_of(r))
        assert prefix.endswith("_sample:-a-deviating-hypothesis"), prefix

    def test_prefix_is_the_journal_start_and_title(self, moto, bucket, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket],
                    clean_env(home, **moto.env(), **fake.env()))
        assert r.returncode == 0, describe(r)
        check_uploaded(moto, bucket, run_dir_of(r),
                       prefix="20231122_101500_" + SAMPLE_TITLE_SLUG)

    @pytest.mark.parametrize("title,want", [
        ("  It's a \"big\" test/case v1.2  ", "its-a-big-testcase-v12"),
        ("UPPER lower", "upper-lower"),
        ("x" * 40 + " " + "y" * 40, "x" * 40 + "-" + "y" * 9),
    ])
    def test_title_sanitized(self, moto, bucket, tmp_path, home, fake, title, want):
        assert len(want) <= 50
        journal = dict(start="2024-02-29T23:59:58.999+00:00",
                       experiment={"title": title}, status="completed", deviated=False)
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket],
                    clean_env(home, **moto.env(), **fake.env(journal=json.dumps(journal))))
        assert r.returncode == 0, describe(r)
        check_uploaded(moto, bucket, run_dir_of(r), prefix="20240229_235958_" + want)

    def test_chaos_killed_still_uploads(self, moto, bucket, tmp_path, home, fake):
        """Whatever the outcome: chaos dies of SIGKILL after writing its journal."""
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket],
                    clean_env(home, **moto.env(), **fake.env(signal=int(signal.SIGKILL))))
        assert r.returncode == 128 + int(signal.SIGKILL), describe(r)
        check_uploaded(moto, bucket, run_dir_of(r))

    def test_bucket_from_env_and_endpoint_region_flags(self, moto, bucket, tmp_path, home,
                                                       fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        env = clean_env(home, CHAOS_JOURNALS_BUCKET=bucket, **moto.env(), **fake.env())
        for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
            del env[k]
        r = run_ctl(["run", conf, "--chaos", fake.path, "--endpoint-url", moto.url,
                     "--region", "eu-west-1"], env)
        assert r.returncode == 0, describe(r)
        check_uploaded(moto, bucket, run_dir_of(r))

    def test_default_region_env(self, moto, bucket, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        env = clean_env(home, **moto.env(), **fake.env())
        del env["AWS_REGION"]
        env["AWS_DEFAULT_REGION"] = "eu-central-1"
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket], env)
        assert r.returncode == 0, describe(r)
        check_uploaded(moto, bucket, run_dir_of(r))

    def test_session_token(self, moto, bucket, tmp_path, home, fake):
        key, secret, token = moto.assume_role_credentials()
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        env = clean_env(home, **moto.env(key_id=key, secret=secret, token=token),
                        **fake.env())
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket], env)
        assert r.returncode == 0, describe(r)
        check_uploaded(moto, bucket, run_dir_of(r))

    def test_profile_in_shared_credentials_file(self, moto, bucket, tmp_path, home, fake):
        creds = write(tmp_path / "aws" / "credentials", """
            [default]
            aws_access_key_id = AKIANOTTHEONE0000000
            aws_secret_access_key = wrong

            [chaos]
            aws_access_key_id = %s
            aws_secret_access_key = %s
            """ % (moto.key_id, moto.secret))
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        env = clean_env(home, **moto.env(), **fake.env())
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        env.update(AWS_PROFILE="chaos", AWS_SHARED_CREDENTIALS_FILE=str(creds))
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket], env)
        assert r.returncode == 0, describe(r)
        check_uploaded(moto, bucket, run_dir_of(r))

    def _failed_upload(self, r, run_dir, rc):
        assert r.returncode == rc, describe(r)
        # the run-directory line, the "chaos exited with status N" note and
        # the report's path are not errors
        errors = [l for l in r.stderr.splitlines()
                  if l.startswith("chaosctl:") and not RUN_DIR_RE.match(l)
                  and not re.match(r"chaosctl: chaos exited with status \d+$", l)
                  and not re.match(r"chaosctl: report .* \(\d+ bytes\)$", l)]
        assert len(errors) == 1, "want one error line:\n" + describe(r)
        assert os.path.isfile(os.path.join(run_dir, "journal.json")), "local journal gone"
        assert os.path.getsize(os.path.join(run_dir, "chaostoolkit.log")) > 0
        return errors[0]

    def test_missing_bucket(self, moto, request, sample, home, out_dir):
        missing = unique_bucket(request)
        env = clean_env(home, SAMPLE_OUT=out_dir, **moto.env())
        r = real_run(sample / "experiment.conf", env, "--journals-bucket", missing)
        run_dir = run_dir_of(r)
        line = self._failed_upload(r, run_dir, 1)
        assert missing in line or "NoSuchBucket" in line, line
        assert load_json(os.path.join(run_dir, "journal.json"))["status"] == "completed"
        assert (out_dir / "rollback.done").exists()

    def test_failed_upload_keeps_chaos_failure_status(self, moto, request, tmp_path, home,
                                                      fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket",
                     unique_bucket(request)],
                    clean_env(home, **moto.env(), **fake.env(rc=3)))
        self._failed_upload(r, run_dir_of(r), 3)

    def test_wrong_secret_is_rejected(self, moto, bucket, tmp_path, home, fake):
        """moto checks the signature: a wrong secret must fail the upload."""
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        env = clean_env(home, **moto.env(secret="not-the-secret"), **fake.env())
        r = run_ctl(["run", conf, "--chaos", fake.path, "--journals-bucket", bucket], env)
        self._failed_upload(r, run_dir_of(r), 1)
        assert moto.list_keys(bucket) == []

    def test_no_upload_without_bucket(self, moto, bucket, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n")
        r = run_ctl(["run", conf, "--chaos", fake.path], clean_env(home, **moto.env(),
                                                                   **fake.env()))
        assert r.returncode == 0, describe(r)
        assert moto.list_keys(bucket) == []


# ============================================== 5. configuration errors


class TestErrors:
    """Each error: exit 2, one 'chaosctl:' line on stderr, chaos not started."""

    def run(self, args, home, fake, **env):
        r = run_ctl(["run"] + [str(a) for a in args] + ["--chaos", fake.path],
                    clean_env(home, **fake.env(), **env))
        line = error_line(r)
        assert not fake.ran(), "chaos was started:\n" + describe(r)
        return line

    def test_missing_conf_file(self, tmp_path, home, fake):
        missing = tmp_path / "nope" / "chaos.conf"
        line = self.run([missing], home, fake)
        assert str(missing) in line or "chaos.conf" in line, line

    def test_missing_conf_file_from_env(self, tmp_path, home, fake):
        missing = tmp_path / "env.conf"
        line = self.run([], home, fake, CHAOS_CONFIG_FILE=missing)
        assert "env.conf" in line, line

    def test_no_conf_at_all(self, home, fake):
        """A usage error: exit 2, may come with the usage text."""
        r = run_ctl(["run", "--chaos", fake.path], clean_env(home, **fake.env()))
        assert r.returncode == 2, describe(r)
        assert r.stderr.strip().splitlines()[-1].startswith("chaosctl:"), describe(r)
        assert not fake.ran()

    @pytest.mark.parametrize("text,lineno", [
        ("[DEFAULT]\nrollback_strategy always\n", 2),
        ("# c\n[DEFAULT]\n\n[broken\n", 4),
        ("[DEFAULT]\nfail_fast = true\n= value\n", 3),
    ])
    def test_malformed_line(self, tmp_path, home, fake, text, lineno):
        conf = make_conf(tmp_path / "exp", text)
        line = self.run([conf], home, fake)
        assert "%s:%d" % (conf, lineno) in line or "chaos.conf:%d" % lineno in line, line

    def test_unknown_key(self, tmp_path, home, fake):
        conf = make_conf(tmp_path / "exp", "[DEFAULT]\n\n[c]\nrollback_stratgy = never\n")
        line = self.run([conf, "--context", "c"], home, fake)
        assert "chaos.conf:4" in line, line
        assert "rollback_stratgy" in line, line

    def test_unknown_key_in_default(self, tmp_path, home, fake):
        conf = make_conf(tmp_path / "exp", "[DEFAULT]\nexperiment = x.yaml\n")
        line = self.run([conf], home, fake)
        assert "chaos.conf:2" in line and "experiment" in line, line

    def test_unknown_context(self, tmp_path, home, fake):
        conf = make_conf(tmp_path / "exp", "[DEFAULT]\n[staging]\n[prod]\n")
        line = self.run([conf, "--context", "qa"], home, fake)
        assert "qa" in line, line
        assert "staging" in line and "prod" in line, line

    def test_unknown_context_from_env(self, tmp_path, home, fake):
        conf = make_conf(tmp_path / "exp", "[DEFAULT]\n[staging]\n")
        line = self.run([conf], home, fake, CHAOS_CONTEXT="qa")
        assert "qa" in line and "staging" in line, line

    @pytest.mark.parametrize("text,lineno", [
        ("[DEFAULT]\nvar_overrides = bad_on_the_key_line\n", 2),
        ("[DEFAULT]\nvar_overrides = a = 1\n    b = 2\n    bad_line\n    c = 3\n", 4),
        ("[DEFAULT]\nvar_overrides =\n    bad_first_continuation\n", 3),
        ("[DEFAULT]\nvar_overrides =\n    good = 1\n    bad_line_without_equals\n", 4),
        ("[DEFAULT]\nvar_overrides =\n# comment\n    good = 1\n    bad_after_comment\n", 5),
        ("[DEFAULT]\n[c]\nvar_overrides = a = 1\n  ; comment\n  bad_in_context\n", 5),
    ])
    def test_var_override_without_equals(self, tmp_path, home, fake, text, lineno):
        conf = make_conf(tmp_path / "exp", text)
        ctx = ["--context", "c"] if "[c]" in text else []
        line = self.run([conf] + ctx, home, fake)
        assert "chaos.conf:%d:" % lineno in line, line

    def test_missing_experiment(self, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nexperiment_path = nothere.yaml\n")
        line = self.run([conf], home, fake)
        assert str(d / "nothere.yaml") in line or "nothere.yaml" in line, line

    def test_missing_default_experiment(self, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\n", experiment=None)
        line = self.run([conf], home, fake)
        assert "experiment.yaml" in line, line

    def test_missing_var_file(self, tmp_path, home, fake):
        d = tmp_path / "exp"
        conf = make_conf(d, "[DEFAULT]\nvar_files = there.yaml, gone.yaml\n")
        (d / "there.yaml").write_text("configuration: {}\n")
        line = self.run([conf], home, fake)
        assert "gone.yaml" in line, line

    def test_errors_in_dry_run_too(self, tmp_path, home, fake):
        conf = make_conf(tmp_path / "exp", "[DEFAULT]\nbogus = 1\n")
        r = run_ctl(["run", conf, "--dry-run", "--chaos", fake.path],
                    clean_env(home, **fake.env()))
        assert "bogus" in error_line(r)


_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_relative_chaos_path_is_the_callers(tmp_path, home, sample):
    """chaos runs in the conf's directory; --chaos relative to where chaosctl
    was started must still name the same program."""
    r = run_ctl(["--output", "json", "run", str(sample / "experiment.conf"), "--chaos",
                 os.path.relpath(CHAOS_BIN, _ROOT), "--dry-run"], clean_env(home), cwd=_ROOT)
    assert r.returncode == 0, describe(r)
    assert json.loads(r.stdout)["command"][0] == CHAOS_BIN
