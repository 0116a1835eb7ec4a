"""chaos-kit's own Chaos Toolkit activities, used by the experiments of library/.

- chaoskit.load: constant-rate HTTP load and SLO measurements (vegeta)
- chaoskit.guard: the control that interrupts a run whose method did not do
  what it says (an injection refused, a fault not active)
- chaoskit.aws: values the deployed stack publishes (SSM), ECS task counts
  and recovery times, SRE notifications delivered to SQS
"""

__version__ = "0.1.0"


def unresolved(**values):
    """Raise ValueError naming the first value that still holds an
    unsubstituted ${...}: a configuration key Chaos Toolkit could not
    fill, usually an SSM parameter the stack does not publish."""
    for name, v in values.items():
        if isinstance(v, str) and "${" in v:
            raise ValueError("%s is %r: a configuration value was not resolved "
                             "(is its SSM parameter published?)" % (name, v))
