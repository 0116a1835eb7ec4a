"""`chaosctl report`: a run as one HTML page.

The runs under runs/ are real: journals Chaos Toolkit wrote in the local
sandbox (a completed and a deviated library run) and against a loopback
agent (a burn that completed, one interrupted by SIGINT), with the ledger,
the agents' fault records and run.json that `chaosctl run` kept. Each
report is checked by structure (the elements and counts the journal calls
for) and in a real browser: Debian's headless Chromium loads it with the
network cut off, must log nothing (a blocked fetch, a script or a broken
page shows up as a console message), its DOM must hold the same timeline,
and its screenshot must show the timeline drawn. The screenshots are kept
in build/test-artifacts/report/.

Hostile journals (markup and script in titles, names, outputs and labels;
huge outputs and lists; missing and mistyped fields; bad times) must render
escaped and bounded.
"""

import collections
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CTL_BIN, ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import png  # noqa: E402

RUNS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs")
ARTIFACTS = os.path.join(ROOT, "build", "test-artifacts", "report")
PAGE_MAX = 32 * 1024 * 1024
# The tags the page is made of: anything else came from the journal.
TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
        "span", "section", "table", "tr", "th", "td", "pre", "footer", "svg", "g", "rect",
        "circle", "line", "text", "polyline"}


def ctl(*args, **kw):
    return subprocess.run([CTL_BIN] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, **kw)


def render(src, out):
    r = ctl("report", src, "--out", out)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "chaosctl: wrote %s (%d bytes)" % (out, os.path.getsize(out))
    with open(out, encoding="utf-8") as f:
        return f.read()


class Page(html.parser.HTMLParser):
    """Every element with its attributes, the text of each id'd element."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.text, self._stack = [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag=None, **attrs):
        return [a for t, a in self.elements if (tag is None or t == tag) and
                all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def classes(self, tag, *names, **attrs):
        return [a for a in self.find(tag, **attrs)
                if set(names) <= set(a.get("class", "").split())]

    def all_text(self):
        return "".join(self.text)


def check_markup(page):
    """Only the page's own tags; no event handler, no URL that could be fetched."""
    tags = {t for t, _ in page.elements}
    assert tags <= TAGS, tags - TAGS
    for t, a in page.elements:
        for k, v in a.items():
            assert not k.startswith("on"), (t, a)
            assert k not in ("src", "href"), (t, a)
        if t == "svg":
            # the namespace is the only URL on the page, and nothing loads it
            assert set(a) <= {"id", "viewbox", "role", "xmlns"}, a


def journal_counts(j):
    """What the timeline must draw: probe points, bars by kind."""
    ss = j.get("steady_states") or {}
    runs = [ss.get("before")] + list(ss.get("during") or []) + [ss.get("after")]
    probes = [p for s in runs if s for p in s.get("probes", [])]
    actions = [a for a in j.get("run", []) if a["activity"]["type"] == "action"]
    mprobes = [a for a in j.get("run", []) if a["activity"]["type"] == "probe"]
    return {"hypothesis": len(probes), "action": len(actions), "probe": len(mprobes),
            "rollback": len(j.get("rollbacks", []))}


def load(run, name):
    path = os.path.join(RUNS, run, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f) if name.endswith(".json") else f.read()


# ------------------------------------------------------------ structure


@pytest.mark.parametrize("run", ["completed", "deviated", "interrupted", "local-burn"])
def test_real_run_renders_its_parts(run, tmp_path):
    j = load(run, "journal.json")
    text = render(os.path.join(RUNS, run), tmp_path / "r.html")
    page = Page(text)
    check_markup(page)
    assert page.find("meta", http_equiv="Content-Security-Policy")[0]["content"].startswith(
        "default-src 'none'")
    assert page.find("title")
    # the summary says what the journal says
    verdict = page.find(id="verdict")[0]["class"]
    if j["status"] == "completed" and not j["deviated"]:
        assert "v-held" in verdict
    elif j["deviated"]:
        assert "v-deviated" in verdict
    else:
        assert "v-other" in verdict
    body = page.all_text()
    assert j["experiment"]["title"] in body
    assert j["node"] in body and j["chaoslib-version"] in body
    # one point per steady-state probe run, one bar per activity
    want = journal_counts(j)
    for kind in ("hypothesis",):
        assert len(page.find("circle", data_kind=kind)) == want[kind], kind
    for kind in ("action", "probe", "rollback"):
        assert len(page.find("rect", data_kind=kind)) == want[kind], kind
    # colours follow the tolerance
    ss = j["steady_states"]
    met = [p["tolerance_met"] for s in [ss["before"]] + ss["during"] + [ss["after"]] if s
           for p in s["probes"]]
    assert len(page.classes("circle", "good", data_kind="hypothesis")) == met.count(True)
    assert len(page.classes("circle", "bad", data_kind="hypothesis")) == met.count(False)
    # the tables list every probe run and activity
    assert len(page.find("section", id="hypothesis")) == 1
    for section in ("method", "rollbacks", "faults"):
        assert len(page.find("section", id=section)) == 1
    ledger = load(run, "faults.ledger")
    faults = page.find("rect", data_kind="fault")
    assert len(faults) == (len(ledger.splitlines()) if ledger else 0)


def test_fault_windows_come_from_the_agents_records(tmp_path):
    """The interrupted run's burn was reverted by its rollback: the record
    says so, and its window ends there, drawn solid."""
    rec = load("interrupted", "faults.json")["faults"][0]["fault"]
    assert rec["end_reason"] == "delete_all"
    page = Page(render(os.path.join(RUNS, "interrupted"), tmp_path / "r.html"))
    bars = page.find("rect", data_kind="fault")
    assert len(bars) == 1 and "open" not in bars[0]["class"].split()
    assert "delete_all" in page.all_text()
    lanes = [a for a in page.find("text", data_kind="fault")]
    assert len(lanes) == 1


def test_without_records_windows_run_to_their_deadline(tmp_path):
    """Only the ledger (no key during the run): the window is drawn to the
    fault's deadline, open, and the page says why."""
    d = tmp_path / "run"
    shutil.copytree(os.path.join(RUNS, "interrupted"), d)
    os.unlink(d / "faults.json")
    page = Page(render(d, tmp_path / "r.html"))
    bars = page.find("rect", data_kind="fault")
    assert len(bars) == 1 and "open" in bars[0]["class"].split()
    assert "were not collected" in page.all_text()


def test_load_series_share_the_time_axis(tmp_path):
    """The library's load probe (p50_ms, p99_ms, error_rate): one vertex per
    probe run in each polyline, inside the plot's x range."""
    j = load("deviated", "journal.json")
    n = sum(1 for s in [j["steady_states"]["before"], j["steady_states"]["after"]] if s
            for p in s["probes"] if isinstance(p.get("output"), dict)
            and "p99_ms" in p["output"])
    assert n >= 2
    page = Page(render(os.path.join(RUNS, "deviated"), tmp_path / "r.html"))
    for series in ("p50", "p99", "err"):
        line = page.find("polyline", data_series=series)
        assert len(line) == 1
        xs = [float(v.split(",")[0]) for v in line[0]["points"].split()]
        assert len(xs) == n and xs == sorted(xs)
        assert all(190 <= x <= 950 for x in xs)


def test_journal_file_reads_its_siblings_and_default_out(tmp_path):
    d = tmp_path / "run"
    shutil.copytree(os.path.join(RUNS, "local-burn"), d)
    r = ctl("report", d / "journal.json")
    assert r.returncode == 0, r.stderr
    page = Page((d / "report.html").read_text())
    assert len(page.find("rect", data_kind="fault")) == 1
    assert "root@vm" in page.all_text()     # run.json, beside the journal


def test_out_dash_writes_stdout(tmp_path):
    r = ctl("report", os.path.join(RUNS, "completed"), "--out", "-")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("<!DOCTYPE html>") and r.stdout.endswith("</html>\n")


@pytest.mark.parametrize("args,why", [
    ([], "name a run directory or a journal.json"),
    (["/nonexistent/run"], "/nonexistent/run: No such file or directory"),
    (["a", "b"], "one run at a time"),
    (["--out"], "--out needs a value"),
    (["--bogus"], "unknown option '--bogus'"),
])
def test_usage_errors(args, why):
    r = ctl("report", *args)
    assert r.returncode == 2, r.stderr
    assert why in r.stderr


def test_not_a_journal_is_a_usage_error(tmp_path):
    (tmp_path / "journal.json").write_text("[1, 2")
    r = ctl("report", tmp_path)
    assert r.returncode == 2
    assert "is not a JSON object (a Chaos Toolkit journal)" in r.stderr
    assert not (tmp_path / "report.html").exists()
    r = ctl("report", tmp_path / "missing.json")
    assert r.returncode == 2 and "missing.json" in r.stderr


def test_oversized_journal_is_refused(tmp_path):
    with open(tmp_path / "journal.json", "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    r = ctl("report", tmp_path)
    assert r.returncode == 2
    assert "is larger than 67108864 bytes" in r.stderr


def test_unwritable_out_names_it(tmp_path):
    r = ctl("report", os.path.join(RUNS, "completed"), "--out", tmp_path / "no" / "r.html")
    assert r.returncode == 2
    assert "cannot write %s" % (tmp_path / "no" / "r.html") in r.stderr


# ------------------------------------------------------------ hostile input


EVIL = '</td></pre><script>alert(1)</script><img src=x onerror=alert(2)>"\'&<!--'


def activity(name, start, end, output, kind="action", status="succeeded", **kw):
    a = {"activity": {"type": kind, "name": name, "provider": {"type": "process"}},
         "output": output, "start": start, "end": end, "duration": 1.0}
    if status is not None:
        a["status"] = status
    a.update(kw)
    return a


def hostile_journal(n=3, out_len=100):
    t = "2026-01-02T03:04:%02d.5+00:00"
    big = EVIL * (out_len // len(EVIL) + 1)
    probes = [dict(activity(EVIL + str(i), t % (i % 59), t % (i % 59 + 1), big, kind="probe"),
                   tolerance_met=i % 2 == 0) for i in range(n)]
    return {
        "chaoslib-version": EVIL, "platform": EVIL, "node": EVIL,
        "experiment": {"title": EVIL + "\x01\x7f", "description": EVIL},
        "start": t % 0, "end": t % 59, "status": EVIL, "deviated": "yes",
        "steady_states": {"before": {"steady_state_met": True, "probes": probes},
                          "after": None, "during": [{"probes": probes}]},
        "run": [activity(EVIL, t % 1, t % 5, {"status": 3, "stdout": big, "stderr": big}),
                activity("http", t % 5, t % 6, {"status": 500, "body": {"x": big}}),
                activity("exc", t % 6, "not a time", None, status="failed",
                         exception=["Traceback\n", EVIL + "\n"]),
                activity("interrupted", t % 7, None, None, status=None)],
        "rollbacks": [activity(EVIL, t % 50, t % 51, {"nested": [[[[EVIL]]]]})],
        "duration": "long",
        "interruption": {"kind": "signal", "name": EVIL, "reason": EVIL},
    }


def test_hostile_strings_are_escaped(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "journal.json").write_text(json.dumps(hostile_journal()))
    (d / "faults.ledger").write_text(
        "http://a:1 f-0123456789abcdef %s 2026-01-02T03:04:10Z 2026-01-02T03:04:20Z\n"
        % "<b>x</b>" + "garbage\n\n" + "http://<script>:1 f-1 x y z\n")
    (d / "faults.json").write_text(json.dumps({"faults": [
        {"agent": "http://a:1", "id": "f-0123456789abcdef",
         "fault": {"type": EVIL, "state": EVIL, "end_reason": EVIL, "error": EVIL,
                   "created_at": "2026-01-02T03:04:10Z", "ended_at": "2026-01-02T03:04:15Z"}},
        {"agent": EVIL, "id": EVIL, "error": EVIL}, {"agent": 1}, "x"]}))
    (d / "run.json").write_text(json.dumps({"context": EVIL, "user": EVIL, "host": EVIL,
                                            "conf": EVIL, "chaos_status": "x"}))
    text = render(d, tmp_path / "r.html")
    page = Page(text)
    check_markup(page)
    assert "<script" not in text.lower() and "<img" not in text.lower()
    # every hostile string is shown as text, not lost
    body = page.all_text()
    assert body.count("<script>alert(1)</script>") >= 10
    assert "\x01" not in text and "\x7f" not in text and "\ufffd" in body
    # three faults listed (the record, the error, the odd ledger line); only
    # the one with a time has a window
    faults = text[text.index('<section id="faults">'):]
    assert faults[:faults.index("</section>")].count("<tr>") == 1 + 3
    assert len(page.find("rect", data_kind="fault")) == 1
    # the activity without a status, and the one without an end, still drawn
    assert len(page.find("rect", data_kind="action")) == 4
    assert "no status (interrupted)" in body


def test_huge_outputs_and_lists_are_bounded(tmp_path):
    """600 probe runs and activities with outputs over the cut, of characters
    that escaping inflates: every table stops at 300 rows, every output at
    2 KiB, and the page stays below its cap."""
    j = hostile_journal(n=600, out_len=3000)
    j["run"] = [activity("a%d" % i, "2026-01-02T03:04:05Z", "2026-01-02T03:04:06Z",
                         {"status": 0, "stdout": '"' * 3000, "stderr": "<" * 3000})
                for i in range(600)]
    j["rollbacks"] = j["run"][:400]
    d = tmp_path / "run"
    d.mkdir()
    (d / "journal.json").write_text(json.dumps(j))
    text = render(d, tmp_path / "r.html")
    assert len(text.encode()) < PAGE_MAX
    page = Page(text)
    check_markup(page)
    body = page.all_text()
    assert "900 more not shown" in body     # 600 before + 600 during probe runs
    assert "300 more not shown" in body     # 600 method activities
    assert "100 more not shown" in body     # 400 rollbacks
    assert body.count("(cut at") >= 300
    assert max(len(p) for p in body.split("\n")) < 25000
    # the timeline is bounded too, and says what it left out
    assert len(page.find("circle", data_kind="hypothesis")) == 1200
    assert len(page.find("rect", data_kind="action")) == 600


def test_long_lane_names_are_cut_to_their_column(tmp_path):
    """A lane's label is drawn right-aligned in a fixed column: a long name
    is cut with an ellipsis alone (no note that would widen it again); the
    full name is the label's tooltip."""
    long = "revert-the-experiment-faults-on-every-agent-of-the-cluster"
    j = {"start": "2026-01-02T03:04:05Z", "end": "2026-01-02T03:04:30Z",
         "run": [activity("short", "2026-01-02T03:04:06Z", "2026-01-02T03:04:07Z", None)],
         "rollbacks": [activity(long, "2026-01-02T03:04:20Z", "2026-01-02T03:04:21Z", None)]}
    (tmp_path / "journal.json").write_text(json.dumps(j))
    text = render(tmp_path / "journal.json", tmp_path / "r.html")
    labels = dict(re.findall(r'<text class="lane" data-kind="[a-z]+"[^>]*><title>([^<]*)'
                             r'</title>([^<]*)</text>', text))
    assert labels["short"] == "short"
    shown = labels["rollback: " + long]
    assert shown.endswith("\u2026") and "cut at" not in shown, shown
    # report.h's RP_LABEL_MAX, which report_svg.c's label column fits
    assert len(shown) == 34 + 1 and ("rollback: " + long).startswith(shown[:-1]), shown


@pytest.mark.parametrize("journal", [
    "{}",
    '{"steady_states": null, "run": "x", "rollbacks": {}, "experiment": []}',
    '{"start": "2026-13-40T99:99:99", "end": 5, "run": [{"activity": null}]}',
    '{"start": "1970-01-01T00:00:00", "end": "9999-12-31T23:59:59Z", "run": [{"activity":'
    ' {"type": "action", "name": "x"}, "start": "0001-01-01T00:00:00"}]}',
    '{"run": [' + ",".join(['{"activity": {"type": "probe", "name": "%d"}, '
                            '"start": "2026-01-01T00:00:%02dZ"}' % (i, i % 60)
                            for i in range(5000)]) + "]}",
    '{"steady_states": {"during": [' + ",".join(
        ['{"probes": [{"activity": {"name": "p%d"}, "start": "2026-01-01T00:00:00Z",'
         ' "tolerance_met": true}]}' % i for i in range(100)]) + "]}}",
], ids=["empty", "wrong-types", "bad-dates", "extreme-dates", "5000-probes",
        "100-during-rounds"])
def test_missing_and_odd_fields_still_render(journal, tmp_path):
    (tmp_path / "journal.json").write_text(journal)
    page = Page(render(tmp_path / "journal.json", tmp_path / "r.html"))
    check_markup(page)
    assert page.find("section", id="summary")
    # the timeline has at most its bounded rows and items
    assert len(page.find("text", data_kind="probe")) <= 48
    assert len(page.find("rect")) + len(page.find("circle")) <= 4000 + 48 + 10


# ------------------------------------------------------------ a real browser


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed (scripts/install-deps.sh installs it)",
                pytrace=False)


def browser(page, *args, tmp):
    """Chromium headless on page, the network cut off; (stdout, stderr)."""
    r = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", "--disable-background-networking",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=%s" % tmp,
         "--enable-logging=stderr", "--v=0", *args, "file://%s" % page],
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        env=dict(os.environ, HOME=str(tmp)))
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr


# Colours of the timeline's lanes and marks (report.c's style), as RGB.
LANE_BG = {(250, 250, 250), (240, 240, 240)}
MARKS = {"good": (46, 125, 50), "bad": (198, 40, 40), "action": (21, 101, 192),
         "probe": (0, 131, 143), "rollback": (106, 27, 154), "fault": (239, 108, 0)}


def near(p, c, tol=8):
    return all(abs(a - b) <= tol for a, b in zip(p, c))


@pytest.mark.parametrize("run", ["completed", "deviated", "interrupted", "local-burn"])
def test_chromium_loads_and_draws_the_timeline(run, tmp_path):
    out = tmp_path / "r.html"
    render(os.path.join(RUNS, run), out)
    j = load(run, "journal.json")
    # 1. the DOM Chromium built holds the same timeline
    dom, log = browser(out, "--dump-dom", tmp=tmp_path / "p1")
    assert ":CONSOLE" not in log, log
    page = Page(dom)
    want = journal_counts(j)
    assert len(page.find("circle", data_kind="hypothesis")) == want["hypothesis"]
    assert len(page.find("rect", data_kind="action")) == want["action"]
    assert not page.find("script")
    # 2. the screenshot shows it
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, run + ".png")
    if os.path.exists(shot):
        os.unlink(shot)
    _, log = browser(out, "--window-size=1100,1600", "--screenshot=%s" % shot,
                     tmp=tmp_path / "p2")
    assert ":CONSOLE" not in log, log
    width, height, rows = png.read(shot)
    # the timeline's area: the box of its lanes' background stripes
    ys = [y for y in range(height) if any(
        (rows[y][x], rows[y][x + 1], rows[y][x + 2]) in LANE_BG
        for x in range(0, 60 * 3, 3))]
    assert ys, "no timeline lanes in the screenshot"
    top, bottom = min(ys), max(ys)
    assert bottom - top > 20
    colours = collections.Counter()
    for y in range(top, bottom + 1):
        row = rows[y]
        colours.update(zip(row[0::3], row[1::3], row[2::3]))
    seen = {k: sum(n for p, n in colours.items() if near(p, c)) for k, c in MARKS.items()}
    # every kind of mark the journal has is drawn with visible pixels
    met = [p.get("tolerance_met") for s in [j["steady_states"]["before"]] +
           j["steady_states"]["during"] + [j["steady_states"]["after"]] if s
           for p in s["probes"]]
    if True in met:
        assert seen["good"] > 20, seen
    if False in met:
        assert seen["bad"] > 20, seen
    if want["action"]:
        assert seen["action"] > 20, seen
    if want["rollback"]:
        assert seen["rollback"] > 20, seen
    if load(run, "faults.ledger"):
        assert seen["fault"] > 200, seen
