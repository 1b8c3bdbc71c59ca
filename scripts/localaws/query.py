"""Decodes Query protocol fields into the nested structure of the input shape.

CloudWatch's Query protocol flattens a request into form fields such as
`Dimensions.member.1.Name=EndpointName`; walking the model's shapes turns them
back into {"Dimensions": [{"Name": "EndpointName"}]} so that one validator
serves both protocols. Lists are 1-based and must have no gaps; an empty list
is sent as the bare name with an empty value.
"""

_IGNORED = ("Action", "Version")


def decode(model, shape_name, fields, operation):
    """(parameters, problems): problems name fields that fit no member."""
    shapes = model["shapes"]
    root, problems = {}, []
    for name, value in fields:
        if name in _IGNORED:
            continue
        if shape_name is None:
            problems.append(f"Value at '{operation}.{name}' failed to satisfy constraint: "
                            "Member is not in the model of this operation")
            continue
        error = _put(shapes, shape_name, root, name.split("."), value)
        if error:
            problems.append(f"Value at '{operation}.{name}' failed to satisfy constraint: {error}")
    return _finish(shapes, shape_name, root, operation, problems), problems


def _put(shapes, shape_name, node, parts, value):
    """Places one field under node (a dict for a structure); returns an error or ''."""
    shape = shapes[shape_name]
    members = shape.get("members", {})
    names = {m.get("locationName", k): k for k, m in members.items()}
    member = names.get(parts[0])
    if member is None:
        return "Member is not in the model of this operation"
    target = shapes[members[member]["shape"]]
    rest = parts[1:]
    if target["type"] == "structure":
        if not rest:
            return "Member must be a structure"
        return _put(shapes, members[member]["shape"], node.setdefault(member, {}), rest, value)
    if target["type"] == "list":
        items = node.setdefault(member, {})
        if not rest:
            return "" if value == "" else "Member must be a list"
        if rest[0] == "member" and not target.get("flattened"):
            rest = rest[1:]
        if not rest or not rest[0].isdigit() or int(rest[0]) < 1:
            return "Member must be a list indexed from 1"
        index, rest = int(rest[0]), rest[1:]
        return _put_item(shapes, target["member"]["shape"], items, index, rest, value)
    if target["type"] == "map":
        entries = node.setdefault(member, {})
        if not rest:
            return "" if value == "" else "Member must be a map"
        if rest[0] == "entry" and not target.get("flattened"):
            rest = rest[1:]
        if len(rest) < 2 or not rest[0].isdigit() or rest[1] not in ("key", "value"):
            return "Member must be a map of entry.N.key / entry.N.value"
        entry = entries.setdefault(int(rest[0]), {})
        if rest[1] == "key":
            entry["key"] = value
            return ""
        return _put_item(shapes, target["value"]["shape"], entry, "value", rest[2:], value)
    if rest:
        return "Member is not in the model of this operation"
    node[member] = value
    return ""


def _put_item(shapes, shape_name, container, slot, rest, value):
    kind = shapes[shape_name]["type"]
    if kind == "structure":
        if not rest:
            return "Member must be a structure"
        return _put(shapes, shape_name, container.setdefault(slot, {}), rest, value)
    if kind in ("list", "map"):
        return "Nested lists and maps are not supported by this decoder"
    if rest:
        return "Member is not in the model of this operation"
    container[slot] = value
    return ""


def _finish(shapes, shape_name, node, path, problems):
    """Turns index-keyed dicts into lists and entry dicts into maps."""
    if shape_name is None:
        return node
    shape = shapes[shape_name]
    kind = shape["type"]
    if kind == "structure" and isinstance(node, dict):
        members = shape.get("members", {})
        return {k: _finish(shapes, members[k]["shape"], v, f"{path}.{k}", problems)
                if k in members else v for k, v in node.items()}
    if kind == "list" and isinstance(node, dict):
        indexes = sorted(node)
        if indexes != list(range(1, len(indexes) + 1)):
            problems.append(f"Value at '{path}' failed to satisfy constraint: "
                            f"Member must be a list indexed 1..n without gaps, got {indexes}")
        item = shape["member"]["shape"]
        return [_finish(shapes, item, node[i], f"{path}[{n}]", problems) for n, i in enumerate(indexes)]
    if kind == "map" and isinstance(node, dict):
        result = {}
        for n in sorted(node):
            entry = node[n]
            if "key" not in entry:
                problems.append(f"Value at '{path}' failed to satisfy constraint: entry {n} has no key")
                continue
            value = entry.get("value")
            result[entry["key"]] = (None if value is None else
                                    _finish(shapes, shape["value"]["shape"], value, f"{path}.{entry['key']}", problems))
        return result
    return node
