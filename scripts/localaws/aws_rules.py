"""Rules AWS enforces that the service models only state in prose.

Checked after the model validation passes, and answered the same way (a
validation error naming operation, member and rule):
- Application Auto Scaling step adjustments (StepAdjustment docs): bounds
  not both null in one step; at most one null lower and one null upper bound;
  a negative lower bound needs a step with a null lower bound, a positive
  upper bound one with a null upper bound; ranges neither overlap nor gap.
- CloudWatch alarms (PutMetricAlarm docs): Period is 10, 30 or a multiple of
  60; Period x EvaluationPeriods is at most 7 days, and at most 1 day when
  Period is under an hour; DatapointsToAlarm is at most EvaluationPeriods.
- Scheduled actions (PutScheduledAction docs): Schedule is at(...), rate(...)
  or a six-field cron(...); Timezone is a canonical IANA zone (an alias such
  as US/Eastern is refused, naming the canonical zone).
"""

import re
import zoneinfo

_AT = re.compile(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)")
_RATE = re.compile(r"rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_zones = None


def check(service, operation, params):
    """Problems as (member path, value, rule) triples."""
    rule = _RULES.get((service, operation))
    return rule(operation, params) if rule else []


def _steps(operation, params):
    config = params.get("StepScalingPolicyConfiguration")
    if not isinstance(config, dict) or not config.get("StepAdjustments"):
        return []
    path = f"{operation}.StepScalingPolicyConfiguration.StepAdjustments"
    steps = config["StepAdjustments"]
    lower = [s.get("MetricIntervalLowerBound") for s in steps]
    upper = [s.get("MetricIntervalUpperBound") for s in steps]
    problems = []
    for i, (lo, hi) in enumerate(zip(lower, upper)):
        if lo is None and hi is None:
            problems.append((f"{path}[{i}]", None, "the lower and upper bound can't both be null"))
        elif lo is not None and hi is not None and float(lo) >= float(hi):
            problems.append((f"{path}[{i}]", None, "the lower bound must be less than the upper bound"))
    if lower.count(None) > 1:
        problems.append((path, None, "at most one step adjustment can have a null lower bound"))
    if upper.count(None) > 1:
        problems.append((path, None, "at most one step adjustment can have a null upper bound"))
    if any(lo is not None and float(lo) < 0 for lo in lower) and None not in lower:
        problems.append((path, None, "a negative lower bound needs a step adjustment with a null lower bound"))
    if any(hi is not None and float(hi) > 0 for hi in upper) and None not in upper:
        problems.append((path, None, "a positive upper bound needs a step adjustment with a null upper bound"))
    if problems:
        return problems
    ordered = sorted(zip(lower, upper), key=lambda b: float("-inf") if b[0] is None else float(b[0]))
    for (_, hi), (lo, _) in zip(ordered, ordered[1:]):
        if hi is None or lo is None or float(hi) != float(lo):
            kind = "overlap" if hi is None or lo is None or float(hi) > float(lo) else "gap"
            problems.append((path, None, f"the step ranges can't overlap or have a gap ({kind} at {hi} / {lo})"))
            break
    return problems


def _alarm(operation, params):
    problems = []
    period, evaluations = _int(params.get("Period")), _int(params.get("EvaluationPeriods"))
    if period is not None and period not in (10, 30) and period % 60:
        problems.append((f"{operation}.Period", period, "Member must be 10, 30 or a multiple of 60"))
    if period is not None and evaluations is not None:
        limit = 86_400 if period < 3_600 else 604_800
        if period * evaluations > limit:
            problems.append((f"{operation}.EvaluationPeriods", evaluations,
                             f"Period x EvaluationPeriods must be at most {limit} seconds "
                             f"when Period is {'under' if period < 3_600 else 'at least'} 3600"))
    datapoints = _int(params.get("DatapointsToAlarm"))
    if datapoints is not None and evaluations is not None and datapoints > evaluations:
        problems.append((f"{operation}.DatapointsToAlarm", datapoints,
                         "Member must be less than or equal to EvaluationPeriods"))
    return problems


def _scheduled(operation, params):
    global _zones
    problems = []
    schedule = params.get("Schedule")
    if isinstance(schedule, str) and not (_AT.fullmatch(schedule) or _RATE.fullmatch(schedule)):
        cron = _CRON.fullmatch(schedule)
        if not cron or len(cron.group(1).split()) != 6:
            problems.append((f"{operation}.Schedule", schedule,
                             "Member must be at(yyyy-mm-ddThh:mm:ss), rate(value unit) or a six-field cron(...)"))
    zone = params.get("Timezone")
    if isinstance(zone, str):
        if _zones is None:
            _zones = zoneinfo.available_timezones(), _links()
        zones, links = _zones
        if zone in links:
            problems.append((f"{operation}.Timezone", zone,
                             f"Member must be a canonical IANA time zone name ({zone} is an alias of {links[zone]})"))
        elif zone not in zones:
            problems.append((f"{operation}.Timezone", zone, "Member must be a time zone name of the IANA database"))
    return problems


def _links():
    """Alias -> canonical zone, from the system's compiled tz database."""
    links = {}
    try:
        with open("/usr/share/zoneinfo/tzdata.zi") as f:
            for line in f:
                if line.startswith("L "):
                    _, target, alias = line.split()
                    links[alias] = target
        links.pop("UTC", None)  # Joda-Time's own canonical id for UTC
    except OSError:
        pass  # no alias list here: only unknown zones are rejected
    return links


def _int(value):
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


_RULES = {
    ("application-autoscaling", "PutScalingPolicy"): _steps,
    ("monitoring", "PutMetricAlarm"): _alarm,
    ("application-autoscaling", "PutScheduledAction"): _scheduled,
}
