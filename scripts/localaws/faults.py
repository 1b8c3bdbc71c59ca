"""Seeded fault injection, scoped by the access key id of the request signature.

A test installs a profile for its own key (POST /_local_aws/faults) and gets
throttling, 5xx answers, reset connections and lost writes on that key's
requests only; its setup and assertions (other keys) are never touched.
Requests signed with credentials the key got from sts:AssumeRole count as
the key's own (see accounts.py), in whichever account they act. Each
profile has its own random.Random(seed), one draw per request, so a run that
sends the same requests in the same order meets the same faults.
"""

import random
import threading

KINDS = ("throttle", "500", "503", "reset", "lost_write")


class Profile:
    def __init__(self, seed, rate, kinds, operations):
        self.rng = random.Random(seed)
        self.rate = rate
        self.kinds = list(kinds)
        self.operations = set(operations) if operations else None


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._profiles = {}

    def install(self, spec: dict) -> str:
        """Installs (or with rate 0 removes) a profile; returns an error or ''."""
        key = spec.get("access_key")
        if not isinstance(key, str) or not key:
            return "access_key: expected a non-empty string"
        rate = spec.get("rate", 0)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            return f"rate: expected a number from 0 to 1, got {rate!r}"
        kinds = spec.get("kinds") or list(KINDS)
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            return f"kinds: unknown {unknown}, expected some of {list(KINDS)}"
        seed = spec.get("seed", 0)
        operations = spec.get("operations")
        if operations is not None and not (
                isinstance(operations, list) and all(isinstance(o, str) for o in operations)):
            return "operations: expected null or a list of operation names"
        with self._lock:
            if rate == 0:
                self._profiles.pop(key, None)
            else:
                self._profiles[key] = Profile(seed, rate, kinds, operations)
        return ""

    def decide(self, req):
        """The fault this request meets, or None. lost_write only hits writes."""
        profile = self._profiles.get(req.assumed_by or req.access_key)
        if profile is None:
            return None
        if profile.operations is not None and req.operation not in profile.operations:
            return None
        with self._lock:
            hit = profile.rng.random() < profile.rate
            kind = profile.rng.choice(profile.kinds)
        if not hit or (kind == "lost_write" and req.is_read):
            return None
        return kind
