"""Constant-rate HTTP load and what users saw, measured by vegeta.

vegeta (MIT, github.com/tsenart/vegeta) sends requests at a fixed rate
whatever the answers take (an open model: a slow service does not slow
the load down, so its latency is not hidden), and reports the success
ratio and the latency percentiles. scripts/install-vegeta.sh builds it;
it must be on PATH (or named by the `vegeta` argument).

One function serves two uses:

- as a steady-state probe, a short window whose summary within_slo
  judges (a `type: probe` tolerance: an error rate and a p99 latency);
- as a background action of the method, the users' traffic while the
  fault is on; its summary stays in the journal.
"""

import json
import subprocess

from chaoslib.exceptions import ActivityFailed

from chaoskit import unresolved

__all__ = ["constant_rate", "within_slo"]

MAX_RATE = 1000          # requests per second
MAX_DURATION = 3600      # seconds
NS_PER_MS = 1e6


def constant_rate(url: str, rate: int = 10, duration: float = 5, timeout: float = 2,
                  method: str = "GET", vegeta: str = "vegeta") -> dict:
    """Send `rate` requests per second to `url` for `duration` seconds, each
    with a `timeout`, and return what users saw:

        {"url", "requests", "rate", "duration_s", "error_rate", "success",
         "p50_ms", "p90_ms", "p99_ms", "max_ms", "status_codes", "errors"}

    error_rate counts every answer that is not 2xx or 3xx, time-outs and
    refused connections included. Raises ActivityFailed when vegeta cannot
    run or reports nothing."""
    unresolved(url=url)
    rate, duration, timeout = int(rate), float(duration), float(timeout)
    if not 0 < rate <= MAX_RATE:
        raise ActivityFailed("rate %d is out of range (1 to %d per second)" % (rate, MAX_RATE))
    if not 0 < duration <= MAX_DURATION:
        raise ActivityFailed("duration %g is out of range (0 to %d s)" % (duration, MAX_DURATION))
    if not 0 < timeout <= 600:
        raise ActivityFailed("timeout %g is out of range (0 to 600 s)" % timeout)
    target = "%s %s\n" % (method.upper(), url)
    attack = [vegeta, "attack", "-rate", "%d/s" % rate, "-duration", "%gs" % duration,
              "-timeout", "%gs" % timeout, "-keepalive=false"]
    try:
        a = subprocess.run(attack, input=target.encode(), capture_output=True,
                           timeout=duration + timeout + 60)
        if a.returncode != 0:
            raise ActivityFailed("vegeta attack exited %d: %s"
                                 % (a.returncode, a.stderr.decode(errors="replace").strip()))
        r = subprocess.run([vegeta, "report", "-type", "json"], input=a.stdout,
                           capture_output=True, timeout=60)
    except FileNotFoundError:
        raise ActivityFailed("%s is not installed (scripts/install-vegeta.sh)" % vegeta)
    except subprocess.TimeoutExpired:
        raise ActivityFailed("vegeta did not finish in time")
    if r.returncode != 0:
        raise ActivityFailed("vegeta report exited %d: %s"
                             % (r.returncode, r.stderr.decode(errors="replace").strip()))
    return summary(url, json.loads(r.stdout))


def summary(url, report):
    """What a person reads: milliseconds, an error rate, the first errors."""
    lat = report.get("latencies", {})
    requests = int(report.get("requests", 0))
    if requests == 0:
        raise ActivityFailed("vegeta sent no request")
    success = float(report.get("success", 0.0))

    def ms(key):
        return round(lat.get(key, 0) / NS_PER_MS, 1)
    return {
        "url": url,
        "requests": requests,
        "rate": round(float(report.get("rate", 0.0)), 2),
        "duration_s": round(report.get("duration", 0) / 1e9, 2),
        "error_rate": round(1.0 - success, 4),
        "success": round(success, 4),
        "p50_ms": ms("50th"),
        "p90_ms": ms("90th"),
        "p99_ms": ms("99th"),
        "max_ms": ms("max"),
        "status_codes": report.get("status_codes", {}),
        "errors": (report.get("errors") or [])[:5],
    }


def within_slo(value: dict = None, max_error_rate: float = 0.01,
               max_p99_ms: float = 1000) -> bool:
    """The tolerance of an SLO probe (`type: probe`): True when the window
    `value` (constant_rate's summary) failed at most `max_error_rate` of its
    requests and answered 99 % of them within `max_p99_ms`."""
    if not isinstance(value, dict) or "error_rate" not in value:
        return False
    return (value["error_rate"] <= float(max_error_rate)
            and value["p99_ms"] <= float(max_p99_ms))
