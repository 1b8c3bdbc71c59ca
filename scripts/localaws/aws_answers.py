"""AWS's answers where moto 5.2.5's differ, kept apart from moto and the validator.

- DeleteScalingPolicy / DeregisterScalableTarget on something missing: AWS
  answers ObjectNotFoundException; moto answers ValidationException with the
  same message, so the error type is rewritten.
- DeleteScheduledAction on a missing action: AWS answers
  ObjectNotFoundException; moto succeeds silently, so the action is looked up
  first (through moto, with the caller's own signature, hence its account).
- DeleteAlarms on a missing alarm succeeds on AWS, and on moto too: nothing
  to change.
"""

import io
import json

from . import errors

_NOT_FOUND_PREFIXES = {
    "DeleteScalingPolicy": "No scaling policy found",
    "DeregisterScalableTarget": "No scalable target found",
}


def answer(req, environ, moto):
    """The answer to an Application Auto Scaling request, AWS's where moto errs.

    moto: environ -> (status, headers, body), runs the request on moto.
    """
    if req.service != "application-autoscaling":
        return moto(environ)
    if req.operation == "DeleteScheduledAction":
        missing = _missing_scheduled_action(req, environ, moto)
        if missing:
            return errors.answer("json", 400, "ObjectNotFoundException", missing)
    status, headers, body = moto(environ)
    prefix = _NOT_FOUND_PREFIXES.get(req.operation)
    if prefix and status.startswith("400"):
        try:
            error = json.loads(body)
        except ValueError:
            error = {}
        message = error.get("message") or error.get("Message") or ""
        if error.get("__type", "").endswith("ValidationException") and message.startswith(prefix):
            return errors.answer("json", 400, "ObjectNotFoundException", message)
    return status, headers, body


def _missing_scheduled_action(req, environ, moto):
    """AWS's not-found message if the action to delete does not exist, else ''."""
    params = req.json_params() or {}
    keys = ("ServiceNamespace", "ResourceId", "ScalableDimension", "ScheduledActionName")
    if not all(isinstance(params.get(k), str) for k in keys):
        return ""  # the validator has answered already
    query = json.dumps({
        "ServiceNamespace": params["ServiceNamespace"],
        "ResourceId": params["ResourceId"],
        "ScalableDimension": params["ScalableDimension"],
        "ScheduledActionNames": [params["ScheduledActionName"]],
    }).encode()
    probe = dict(environ)
    probe.update({
        "wsgi.input": io.BytesIO(query),
        "CONTENT_LENGTH": str(len(query)),
        "HTTP_X_AMZ_TARGET": "AnyScaleFrontendService.DescribeScheduledActions",
    })
    status, _, body = moto(probe)
    environ["wsgi.input"] = io.BytesIO(req.body)
    if not status.startswith("200"):
        return ""
    found = [a for a in json.loads(body).get("ScheduledActions", [])
             if a.get("ResourceId") == params["ResourceId"]
             and a.get("ScalableDimension") == params["ScalableDimension"]
             and a.get("ScheduledActionName") == params["ScheduledActionName"]]
    if found:
        return ""
    return ("No scheduled action found for service namespace: {ServiceNamespace}, resource ID: "
            "{ResourceId}, scalable dimension: {ScalableDimension}, scheduled action name: "
            "{ScheduledActionName}".format(**params))
