"""A control that stops a run whose method did not do what it says.

Chaos Toolkit judges only the steady-state hypothesis. An action of the
method whose process exits non-zero (a `chaosctl inject` every agent
refused) still "succeeds", and the tolerance of a probe of the method (the
fault is active) is never looked at, so a run whose fault never took would
go on to observe an untouched service and report that it held.

Declared once at the top of an experiment:

    controls:
      - name: stop-when-the-method-fails
        provider:
          type: python
          module: chaoskit.guard

it looks at each activity of the method once it has run (background ones
aside: the load runs beside the method, and its summary is only recorded)
and interrupts the run (status "interrupted"; rollbacks play with
rollback_strategy = always) when:

- the activity failed (an exception, a time-out);
- a process action exited non-zero;
- a probe has a tolerance and its output is not within it (the same
  judgement Chaos Toolkit makes for the hypothesis).

The reason is logged and kept in the journal's run record under
"guard". Hypothesis probes and rollbacks are left to Chaos Toolkit.
"""

import logging

from chaoslib.exceptions import InterruptExecution
from chaoslib.hypothesis import within_tolerance

__all__ = ["after_activity_control"]

logger = logging.getLogger("chaostoolkit")


def in_method(experiment, activity):
    return any(a is activity for a in (experiment or {}).get("method", []))


def verdict(activity, run, configuration=None, secrets=None):
    """Why the activity's run must stop the experiment, or None."""
    name = activity.get("name", "?")
    if run.get("status") == "failed":
        last = (run.get("exception") or ["failed"])[-1].strip()
        return "method %s '%s' failed: %s" % (activity.get("type"), name, last)
    out = run.get("output")
    provider = activity.get("provider", {})
    if activity.get("type") == "action" and provider.get("type") == "process" \
            and isinstance(out, dict) and out.get("status", 0) != 0:
        err = (out.get("stderr") or "").strip().splitlines()
        return "method action '%s' exited %s%s" % (name, out.get("status"),
                                                  ": " + err[-1] if err else "")
    if activity.get("type") == "probe" and "tolerance" in activity:
        if not within_tolerance(activity["tolerance"], out, configuration=configuration,
                                secrets=secrets):
            return "method probe '%s' is not within its tolerance" % name
    return None


def after_activity_control(context, state, experiment=None, configuration=None,
                           secrets=None, **kwargs):
    """Raise InterruptExecution when a method activity did not do its job."""
    if not in_method(experiment, context) or context.get("background"):
        return
    why = verdict(context, state or {}, configuration, secrets)
    if why:
        state["guard"] = why
        logger.error("guard: %s: interrupting the run (rollbacks follow)", why)
        raise InterruptExecution(why)
