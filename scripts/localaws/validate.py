"""Request-model validation: what AWS rejects before it acts, moto accepts.

Checks a request's parameters against botocore's model of the operation's
input: required members, unknown members, enums, string and list lengths,
map sizes, numeric ranges and patterns. A violation is answered like AWS's
validation error, naming the operation, the member path and the constraint,
so a defect in request building fails locally instead of in production.
Query protocol fields (CloudWatch) are first decoded into the same nested
structure the JSON protocols send. Rules the models state only in prose
follow (aws_rules.py).
"""

from . import aws_rules, models, patterns, query

_MAX_SHOWN = 5  # violations listed in one message


def check(req):
    """A validation error message for the request, or None if it is valid."""
    if req.protocol not in ("json", "query"):
        return None
    model = models.model(req.service)
    if model is None:
        return None
    op = model["operations"].get(req.operation)
    if op is None:
        return None  # moto answers unknown operations itself
    problems = []
    if req.protocol == "json":
        params = req.json_params()
        if params is None:
            return f"{req.operation}: the request body is not a JSON object"
    else:
        params, problems = query.decode(model, op.get("input", {}).get("shape"),
                                        req.form_params(), req.operation)
    checker = Checker(model, req.protocol == "query", problems)
    if "input" in op:
        checker.value(op["input"]["shape"], params, req.operation)
    if not problems:
        for path, value, rule in aws_rules.check(req.service, req.operation, params):
            checker.fail(path, value, rule)
    if not problems:
        return None
    shown = "; ".join(problems[:_MAX_SHOWN])
    more = f" (and {len(problems) - _MAX_SHOWN} more)" if len(problems) > _MAX_SHOWN else ""
    count = len(problems)
    return f"{count} validation error{'s' if count > 1 else ''} detected: {shown}{more}"


def _show(value):
    if isinstance(value, str):
        return "'" + (value if len(value) <= 40 else value[:40] + "...") + "'"
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def _length(text):
    # AWS counts UTF-16 code units (Java's String.length()).
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class Checker:
    def __init__(self, model, from_query, problems):
        self.shapes = model["shapes"]
        self.from_query = from_query  # query values are all strings
        self.problems = problems

    def fail(self, path, value, constraint, missing=False):
        shown = "null" if missing else _show(value)
        subject = f"Value {shown} at" if shown else "Value at"
        self.problems.append(f"{subject} '{path}' failed to satisfy constraint: {constraint}")

    def value(self, shape_name, value, path):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        handler = getattr(self, "_" + kind, None)
        if handler is not None:
            handler(shape, value, path)

    def _structure(self, shape, value, path):
        if not isinstance(value, dict):
            return self.fail(path, value, "Member must be a structure")
        members = shape.get("members", {})
        for name in shape.get("required", []):
            if value.get(name) is None:
                self.fail(f"{path}.{name}", None, "Member must not be null", missing=True)
        present = [k for k, v in value.items() if v is not None]
        if shape.get("union") and len(present) != 1:
            self.fail(path, value, f"Member must set exactly one of {sorted(members)}, got {sorted(present)}")
        for name in present:
            if name not in members:
                self.fail(f"{path}.{name}", value[name], "Member is not in the model of this operation")
            else:
                self.value(members[name]["shape"], value[name], f"{path}.{name}")

    def _list(self, shape, value, path):
        if not isinstance(value, list):
            return self.fail(path, value, "Member must be a list")
        self._size(shape, len(value), path, value)
        for i, item in enumerate(value):
            if item is None:
                self.fail(f"{path}[{i}]", None, "Member must not be null", missing=True)
            else:
                self.value(shape["member"]["shape"], item, f"{path}[{i}]")

    def _map(self, shape, value, path):
        if not isinstance(value, dict):
            return self.fail(path, value, "Member must be a map")
        self._size(shape, len(value), path, value)
        for key, item in value.items():
            self.value(shape["key"]["shape"], key, f"{path}.{key}(key)")
            if item is None:
                self.fail(f"{path}.{key}", None, "Member must not be null", missing=True)
            else:
                self.value(shape["value"]["shape"], item, f"{path}.{key}")

    def _size(self, shape, size, path, value):
        if "min" in shape and size < shape["min"]:
            self.fail(path, value, f"Member must have length greater than or equal to {shape['min']}")
        if "max" in shape and size > shape["max"]:
            self.fail(path, value, f"Member must have length less than or equal to {shape['max']}")

    def _string(self, shape, value, path):
        if not isinstance(value, str):
            return self.fail(path, value, "Member must be a string")
        self._size(shape, _length(value), path, value)
        if "enum" in shape and value not in shape["enum"]:
            self.fail(path, value, f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
        if "pattern" in shape:
            pattern = patterns.compiled(shape["pattern"])
            if pattern is not None and not pattern.fullmatch(value):
                self.fail(path, value, f"Member must satisfy regular expression pattern: {shape['pattern']}")

    def _number(self, shape, value, path, parse):
        if self.from_query and isinstance(value, str):
            try:
                value = parse(value)
            except ValueError:
                return self.fail(path, value, "Member must be a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self.fail(path, value, "Member must be a number")
        if parse is int and isinstance(value, float) and not value.is_integer():
            return self.fail(path, value, "Member must be an integer")
        if "min" in shape and value < shape["min"]:
            self.fail(path, value, f"Member must have value greater than or equal to {shape['min']}")
        if "max" in shape and value > shape["max"]:
            self.fail(path, value, f"Member must have value less than or equal to {shape['max']}")

    def _integer(self, shape, value, path):
        self._number(shape, value, path, int)

    _long = _integer

    def _double(self, shape, value, path):
        self._number(shape, value, path, float)

    _float = _double

    def _boolean(self, shape, value, path):
        ok = value in ("true", "false") if self.from_query else isinstance(value, bool)
        if not ok:
            self.fail(path, value, "Member must be a boolean")

    def _timestamp(self, shape, value, path):
        # JSON protocols send epoch seconds (the SDKs) or ISO 8601 strings.
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail(path, value, "Member must be a timestamp")

    def _blob(self, shape, value, path):
        if not isinstance(value, str):
            self.fail(path, value, "Member must be base64 text")
