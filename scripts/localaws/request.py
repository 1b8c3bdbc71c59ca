"""What an AWS request is: service, operation, caller and parameters.

Read once from the WSGI environ so that every layer sees the same answer and
moto still gets the untouched body.
"""

import io
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from . import models

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/,\s]+)/aws4_request")
READ_PREFIXES = ("Describe", "List", "Get", "Search")


@dataclass
class AwsRequest:
    service: str  # SigV4 signing name, e.g. "monitoring"
    operation: str
    access_key: str
    protocol: str  # "json" or "query"
    body: bytes
    _params: object = field(default=None, repr=False)
    # Where it acts (see accounts.py): the account id, the role ARN when the
    # key came from sts:AssumeRole, and then the long-term key that asked.
    account: str = ""
    role: "str | None" = None
    assumed_by: "str | None" = None

    @property
    def is_read(self) -> bool:
        return self.operation.startswith(READ_PREFIXES)

    def json_params(self):
        """The JSON body, or None when it is not a JSON object."""
        if self._params is None:
            try:
                self._params = json.loads(self.body or b"{}")
            except ValueError:
                self._params = False
        return self._params if isinstance(self._params, dict) else None

    def form_params(self) -> list:
        """Query protocol fields as (name, value) pairs, in order."""
        return parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)


def read(environ) -> "AwsRequest | None":
    """Parses an AWS request and rewinds its body for moto; None if not one."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    access_key, service = match.groups()
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return AwsRequest(service, target.rsplit(".", 1)[-1], access_key, "json", body)
    fields = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = fields.get("Action")
    if action:
        return AwsRequest(service, action, access_key, "query", body)
    # REST protocols (Lambda): named from the model's HTTP bindings, never validated.
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    return AwsRequest(service, models.rest_operation(service, method, path) or f"{method} {path}",
                      access_key, "rest", body)
