"""AWS's answers where moto 5.2.5's differ, kept apart from moto and the validator.

- DeleteScalingPolicy / DeregisterScalableTarget on something missing: AWS
  answers ObjectNotFoundException; moto answers ValidationException with the
  same message, so the error type is rewritten.
- DeleteScheduledAction on a missing action: AWS answers
  ObjectNotFoundException; moto succeeds silently.
- PutScalingPolicy / PutScheduledAction on a target that is not registered:
  AWS answers ObjectNotFoundException; moto accepts them.
- RegisterScalableTarget with MinCapacity above MaxCapacity: AWS answers
  ValidationException; moto accepts it.
- DeregisterScalableTarget: AWS deletes the target's scaling policies and
  scheduled actions with it; moto leaves them behind.
- DeleteAlarms on a missing alarm succeeds on AWS, and on moto too: nothing
  to change.
- sts:AssumeRole of a role that does not exist: AWS answers AccessDenied;
  moto hands out credentials for any role ARN (see accounts.py).
Lookups go through moto with the caller's own signature, hence its account.
"""

import io
import json

from . import accounts, errors

_NOT_FOUND_PREFIXES = {
    "DeleteScalingPolicy": "No scaling policy found",
    "DeregisterScalableTarget": "No scalable target found",
}
_TARGET_KEYS = ("ServiceNamespace", "ResourceId", "ScalableDimension")


def answer(req, environ, moto):
    """The answer to a request, AWS's where moto errs.

    moto: environ -> (status, headers, body), runs a request on moto.
    """
    if req.service == "sts" and req.operation == "AssumeRole":
        return _assume_role(req, environ, moto)
    if req.service != "application-autoscaling":
        return moto(environ)
    params = req.json_params() or {}
    target_given = all(isinstance(params.get(k), str) for k in _TARGET_KEYS)
    if target_given and req.operation in ("PutScalingPolicy", "PutScheduledAction"):
        if not _target_exists(environ, moto, params):
            return _not_found("No scalable target registered for " + _describe(params))
    if req.operation == "RegisterScalableTarget":
        low, high = params.get("MinCapacity"), params.get("MaxCapacity")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            return errors.answer("json", 400, "ValidationException",
                                 f"Minimum capacity ({low}) cannot be greater than maximum capacity ({high})")
    if target_given and req.operation == "DeleteScheduledAction" and isinstance(
            params.get("ScheduledActionName"), str):
        if not _scheduled_actions(environ, moto, params, [params["ScheduledActionName"]]):
            return _not_found(f"No scheduled action found for {_describe(params)}, "
                              f"scheduled action name: {params['ScheduledActionName']}")
    status, headers, body = moto(_rewound(environ, req.body))
    prefix = _NOT_FOUND_PREFIXES.get(req.operation)
    if prefix and status.startswith("400"):
        error = _json(body)
        message = error.get("message") or error.get("Message") or ""
        if error.get("__type", "").endswith("ValidationException") and message.startswith(prefix):
            return _not_found(message)
    if target_given and req.operation == "DeregisterScalableTarget" and status.startswith("200"):
        _delete_scaling_of(environ, moto, params)
    return status, headers, body


def _assume_role(req, environ, moto):
    role_arn = dict(req.form_params()).get("RoleArn")
    if accounts.missing_role(role_arn):
        return errors.answer("query", 403, "AccessDenied",
                             f"User: {accounts.caller_arn(req)} is not authorized to perform: "
                             f"sts:AssumeRole on resource: {role_arn}")
    return moto(_rewound(environ, req.body))


def _not_found(message):
    return errors.answer("json", 400, "ObjectNotFoundException", message)


def _describe(params):
    return (f"service namespace: {params['ServiceNamespace']}, resource ID: {params['ResourceId']}, "
            f"scalable dimension: {params['ScalableDimension']}")


def _ask(environ, moto, operation, params):
    """Runs one Application Auto Scaling operation on moto; its JSON answer or None."""
    body = json.dumps(params).encode()
    probe = dict(environ)
    probe.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                  "HTTP_X_AMZ_TARGET": f"AnyScaleFrontendService.{operation}"})
    status, _, answer = moto(probe)
    return _json(answer) if status.startswith("200") else None


def _rewound(environ, body):
    environ["wsgi.input"] = io.BytesIO(body)
    return environ


def _json(body):
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _same_target(item, params):
    return all(item.get(k) == params[k] for k in ("ResourceId", "ScalableDimension"))


def _target_exists(environ, moto, params):
    found = _ask(environ, moto, "DescribeScalableTargets", {
        "ServiceNamespace": params["ServiceNamespace"], "ResourceIds": [params["ResourceId"]],
        "ScalableDimension": params["ScalableDimension"]})
    # If the lookup itself fails, let moto answer the request as it would.
    return found is None or any(_same_target(t, params) for t in found.get("ScalableTargets", []))


def _scheduled_actions(environ, moto, params, names=None):
    query = {"ServiceNamespace": params["ServiceNamespace"], "ResourceId": params["ResourceId"],
             "ScalableDimension": params["ScalableDimension"]}
    if names:
        query["ScheduledActionNames"] = names
    found = _ask(environ, moto, "DescribeScheduledActions", query) or {"ScheduledActions": [{}]}
    return [a for a in found.get("ScheduledActions", []) if not a or _same_target(a, params)]


def _delete_scaling_of(environ, moto, params):
    target = {k: params[k] for k in _TARGET_KEYS}
    policies, token = [], None
    while True:
        query = {"ServiceNamespace": params["ServiceNamespace"], "ResourceId": params["ResourceId"],
                 "ScalableDimension": params["ScalableDimension"]}
        if token:
            query["NextToken"] = token
        page = _ask(environ, moto, "DescribeScalingPolicies", query) or {}
        policies += [p for p in page.get("ScalingPolicies", []) if _same_target(p, params)]
        token = page.get("NextToken")
        if not token:
            break
    for policy in policies:
        _ask(environ, moto, "DeleteScalingPolicy", dict(target, PolicyName=policy["PolicyName"]))
    for action in _scheduled_actions(environ, moto, params):
        if action:
            _ask(environ, moto, "DeleteScheduledAction",
                 dict(target, ScheduledActionName=action["ScheduledActionName"]))
