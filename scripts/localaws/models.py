"""botocore's service models, loaded once per service on first use.

The models ship with boto3 in the local AWS's virtualenv; they carry the
shapes, required members, enums, lengths, ranges and patterns AWS checks.
"""

import re
import threading

from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader

# SigV4 signing name -> botocore service name, for the services validated.
SERVICES = {
    "sagemaker": "sagemaker",
    "application-autoscaling": "application-autoscaling",
    "monitoring": "cloudwatch",
    "sts": "sts",
    "iam": "iam",
}

_loader = Loader()
_lock = threading.Lock()
_cache = {}


def model(signing_name):
    """The service model as a dict, or None for a service not validated."""
    service = SERVICES.get(signing_name)
    if service is None:
        return None
    with _lock:
        if service not in _cache:
            _cache[service] = _loader.load_service_model(service, "service-2")
        return _cache[service]


def rest_operation(signing_name, method, path):
    """The operation a REST request (method and path) calls, from the model
    of the service named like its signing name (lambda), or None."""
    with _lock:
        if signing_name not in _rest_routes:
            _rest_routes[signing_name] = _routes(signing_name)
        routes = _rest_routes[signing_name]
    for route_method, pattern, name in routes:
        if route_method == method and pattern.fullmatch(path):
            return name
    return None


_rest_routes = {}


def _routes(service):
    try:
        loaded = _loader.load_service_model(service, "service-2")
    except DataNotFoundError:  # no such service: no routes
        return []
    routes = []
    for name, op in loaded["operations"].items():
        http = op.get("http", {})
        uri = http.get("requestUri", "").split("?", 1)[0]
        # {Name+} spans slashes, {Name} does not.
        parts = re.split(r"(\{[^}]+\})", uri)
        regex = "".join((".+" if p.endswith("+}") else "[^/]+") if p.startswith("{") else re.escape(p)
                        for p in parts)
        routes.append((http.get("method"), re.compile(regex), name))
    return routes
