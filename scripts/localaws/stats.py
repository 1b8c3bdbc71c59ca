"""Per-access-key counts of AWS requests, served at GET /_local_aws/stats.

A test gives the tool its own access key id and asks here how many calls, of
which operations, it made, and which faults it met. Credentials from
sts:AssumeRole count under the key that assumed the role, so the tool's key
covers its calls in every account; `account` narrows a report to the calls
that acted in one account.
"""

import threading
from collections import Counter


class _KeyStats:
    def __init__(self):
        self.requests = 0
        self.reads = 0
        self.writes = 0
        self.by_operation = Counter()
        self.faults = Counter()
        self.validation_errors = 0

    def merge_into(self, total: "_KeyStats"):
        total.requests += self.requests
        total.reads += self.reads
        total.writes += self.writes
        total.by_operation.update(self.by_operation)
        total.faults.update(self.faults)
        total.validation_errors += self.validation_errors

    def as_json(self):
        return {"requests": self.requests, "reads": self.reads, "writes": self.writes,
                "by_operation": dict(self.by_operation), "faults": dict(self.faults),
                "validation_errors": self.validation_errors}


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self._keys = {}  # (access key, account) -> _KeyStats

    def record(self, req, fault=None, invalid=False):
        key = req.assumed_by or req.access_key
        with self._lock:
            s = self._keys.setdefault((key, req.account), _KeyStats())
            s.requests += 1
            if req.is_read:
                s.reads += 1
            else:
                s.writes += 1
            s.by_operation[req.operation] += 1
            if fault:
                s.faults[fault] += 1
            if invalid:
                s.validation_errors += 1

    def report(self, access_key=None, account=None):
        """Counts of the requests of one key and/or in one account (None: all)."""
        with self._lock:
            total = _KeyStats()
            for (key, acted_in), s in self._keys.items():
                if access_key in (None, key) and account in (None, acted_in):
                    s.merge_into(total)
            return total.as_json()
