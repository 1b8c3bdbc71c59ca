"""The operation log: one JSON line per AWS request, when LOCAL_AWS_OP_LOG is set.

Tests and benchmarks read it to see which calls a run made; a request the
validator rejected also carries the message ("error"). "account" is the
account the request acted in; requests signed with credentials from
sts:AssumeRole also carry the role ("role") and the long-term access key
that assumed it ("assumed_by"), so a check can tell a tool's own requests
in other accounts from a test's setup. Several servers
may append to one file, so each line is a single O_APPEND write.
"""

import json
import os


class OpLog:
    def __init__(self, path):
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else None

    def write(self, req, status, fault, error=None):
        if self._fd is None:
            return
        entry = {"service": req.service, "operation": req.operation,
                 "access_key": req.access_key, "account": req.account, "status": status, "fault": fault}
        if req.role:
            entry["role"], entry["assumed_by"] = req.role, req.assumed_by
        if error:
            entry["error"] = error  # a validation error's message
        line = json.dumps(entry)
        os.write(self._fd, (line + "\n").encode())
