"""Which account a request acts in, and which credentials assumed which role.

moto picks a request's account by, in order: the server's MOTO_ACCOUNT_ID,
the request's x-moto-account-id header, then the access key: credentials
that sts:AssumeRole returned act in the account of the role's ARN, any other
key in the default account. This module asks moto the same questions so the
operation log can say where each request acted, and adds two things:

- A key registered on the control API (POST /_local_aws/accounts) acts in
  its account, as an IAM user's key of that account would: test setup and
  assertions reach a spoke account without assuming a role.
- AssumeRole of a role that does not exist is refused with AccessDenied, as
  AWS refuses it (moto hands out credentials for any ARN). Trust policies
  and the caller's own sts:AssumeRole permission are not evaluated.
"""

import os
import re
import threading

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import PARTITION_NAMES

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_ROLE_ARN = re.compile(r"^arn:([a-z-]+):iam::([0-9]{12}):role/(?:.*/)?[^/]+$")
_ISSUED_KEY = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")


class Accounts:
    def __init__(self):
        self._lock = threading.Lock()
        self._registered = {}  # access key -> account id (control API)
        self._issued_to = {}  # access key AssumeRole issued -> key that asked for it

    def register(self, spec: dict) -> str:
        """Makes a key act in an account (account null: forget it); an error or ''."""
        key, account = spec.get("access_key"), spec.get("account")
        if not isinstance(key, str) or not key:
            return "access_key: expected a non-empty string"
        if account is not None and not (isinstance(account, str) and _ACCOUNT_ID.match(account)):
            return f"account: expected 12 digits or null, got {account!r}"
        with self._lock:
            if account is None:
                self._registered.pop(key, None)
            else:
                self._registered[key] = account
        return ""

    def route(self, environ, access_key):
        """Sends a registered key's request to its account (moto reads the header)."""
        account = self._registered.get(access_key)
        if account and "HTTP_X_MOTO_ACCOUNT_ID" not in environ:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account

    def identify(self, req, environ):
        """Fills req.account, req.role and req.assumed_by as moto will see them."""
        req.account = (os.environ.get("MOTO_ACCOUNT_ID") or environ.get("HTTP_X_MOTO_ACCOUNT_ID")
                       or get_account_id_from(req.access_key))
        req.role = _assumed_role(req.account, req.access_key)
        if req.role:
            req.assumed_by = self.original_key(req.access_key)

    def original_key(self, access_key):
        """The long-term key at the start of a chain of AssumeRole calls."""
        seen = set()
        while access_key in self._issued_to and access_key not in seen:
            seen.add(access_key)
            access_key = self._issued_to[access_key]
        return access_key

    def note_issued(self, caller_key, answer_body):
        """Remembers which key asked for the credentials in an AssumeRole answer."""
        match = _ISSUED_KEY.search(answer_body)
        if match:
            with self._lock:
                self._issued_to[match.group(1).decode()] = caller_key


def missing_role(role_arn):
    """Why AssumeRole of role_arn must be refused, or None when the role exists."""
    match = _ROLE_ARN.match(role_arn or "")
    if not match:
        return None  # malformed: moto and the validator answer it
    partition, account = match.group(1), match.group(2)
    if partition not in PARTITION_NAMES:
        return None
    roles = iam_backends[account][partition].get_roles()
    if any(role.arn == role_arn for role in roles):
        return None
    return f"no role {role_arn} in account {account}"


def caller_arn(req):
    """The caller as AWS's AccessDenied message names it."""
    if req.role:
        partition = req.role.split(":")[1]
        found = sts_backends[req.account][partition].get_assumed_role_from_access_key(req.access_key)
        if found:
            return found.arn
    return f"arn:aws:iam::{req.account or DEFAULT_ACCOUNT_ID}:root"


def _assumed_role(account, access_key):
    for partition in PARTITION_NAMES:
        key = iam_backends[account][partition].access_keys.get(access_key)
        if key is not None:
            return getattr(key, "role_arn", None)
    return None
