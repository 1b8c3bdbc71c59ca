"""botocore's service models, loaded once per service on first use.

The models ship with boto3 in the local AWS's virtualenv; they carry the
shapes, required members, enums, lengths, ranges and patterns AWS checks.
"""

import threading

from botocore.loaders import Loader

# SigV4 signing name -> botocore service name, for the services validated.
SERVICES = {
    "sagemaker": "sagemaker",
    "application-autoscaling": "application-autoscaling",
    "monitoring": "cloudwatch",
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
