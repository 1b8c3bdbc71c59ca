"""Checks that template.yaml grants every AWS call the tool makes.

Reads the permissions table (iam/permissions.yaml: each AWS operation the
tool calls, mapped to the IAM actions AWS requires of the caller for it) and
fails (exit 1) when
  a. an operation in the local AWS's operation log (--op-log, default
     $LOCAL_AWS_OP_LOG), made with the tool's access key (--access-key,
     default "guard"), has no entry in the table;
  b. an SDK call in the source (`.client.<op>()` in src/aws/*.rs, or
     `.sagemaker/.autoscaling/.cloudwatch.<op>()` anywhere under src/) has no
     entry in the table: this covers calls that only run against
     request-level mocks;
  c. the function's policies in the template do not grant a row of the table
     on its resource: in a single-account deployment (the parameters'
     defaults) every row but the hub's own (`hub_only`), in organization mode
     (the table's `organization.parameters`) every row; an operation AWS
     allows without any grant (`needs_no_grant`) is not checked;
  d. the spoke role (spoke.yaml, the table's `spoke`) does not grant a row
     that is not the hub's own, in each of the table's spoke Regions, or its
     statements differ from the single-account function's by more than the
     Region (the spoke role serves every Region of its account: "*");
  e. an operation the tool performed through a spoke role (log entries whose
     `assumed_by` is the tool's key) has no entry, or is the hub's own.
With --lint it also runs parliament (an IAM policy linter, its own virtualenv)
over each policy document of the function (organization mode) and of the
spoke role; a finding fails the check unless the table's linter_allow
accepts it.

How the grant is decided (c): the template is read with its CloudFormation
intrinsics (!Sub, !Ref, !GetAtt, !If, !Join, ...) resolved for partition
`aws`, Region `us-east-1`, account `123456789012` and the parameters'
defaults. Actions match case-insensitively, resource ARNs case-sensitively,
both as whole strings with the IAM wildcards * and ?. A row is granted when
an Allow statement matches it and none of the Deny statements does.
Conditions are evaluated against the row's `context`; a condition that cannot
be evaluated (an operator this script does not know, or a key the row gives
no value for) counts as NOT met on an Allow (it grants nothing) and as MET on
a Deny (it denies): an unknown condition can only make the check stricter.
Policies that are not inline documents (managed policy ARNs, SAM policy
templates) are listed and not counted as granting anything; a resource whose
Condition is false is left out.

usage: check_iam.py [--template T] [--spoke S] [--table P] [--op-log FILE] [--lint]
"""

import argparse
import functools
import json
import os
import re
import subprocess
import sys
from collections import Counter

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SUBSTITUTIONS = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}

# Rust SDK crate -> (botocore service name, SigV4 signing name).
CRATES = {
    "sagemaker": ("sagemaker", "sagemaker"),
    "applicationautoscaling": ("application-autoscaling", "application-autoscaling"),
    "cloudwatch": ("cloudwatch", "monitoring"),
    "lambda": ("lambda", "lambda"),
    "sts": ("sts", "sts"),
}
# Fields of the crate's `Clients` struct -> crate.
CLIENT_FIELDS = {"sagemaker": "sagemaker", "autoscaling": "applicationautoscaling",
                 "cloudwatch": "cloudwatch"}


class CheckError(Exception):
    """Input the check cannot work with (a file missing or malformed)."""


# ---------------------------------------------------------------- template

class CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation's short-form tags into the
    long form ({"Ref": ...}, {"Fn::Sub": ...})."""


def _construct_intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


class _NoValue:
    pass


NO_VALUE = _NoValue()


class Unresolvable(CheckError):
    pass


FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def function_arn(partition, region, account, logical_id):
    """A function's ARN before deployment: its name is shown as its logical id."""
    return f"arn:{partition}:lambda:{region}:{account}:function:{logical_id}"


class Resolver:
    """Resolves intrinsic functions for one partition, Region and account.
    A resource's Ref or GetAtt has no value before deployment: it becomes a
    marker such as `{Ref:Queue}` that no ARN pattern of a request matches;
    but a function's Arn is an ARN whose function name is its logical id, so
    that a policy may name it and a row may ask for it (${FunctionArn})."""

    def __init__(self, template, partition, region, account, parameters=None):
        self.template = template
        specs = template.get("Parameters") or {}
        self.params = {name: spec.get("Default") for name, spec in specs.items()}
        unknown = sorted(set(parameters or {}) - set(specs))
        if unknown:
            raise CheckError(f"no parameter {', '.join(unknown)} in the template")
        self.params.update(parameters or {})
        self.lists = {name for name, spec in specs.items()
                      if str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<"))}
        self.pseudo = {
            "AWS::Partition": partition, "AWS::Region": region, "AWS::AccountId": account,
            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "stack",
            "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account}:stack/stack/id",
        }
        self.resources = template.get("Resources") or {}
        self.conditions = template.get("Conditions") or {}

    def ref(self, name):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            value = self.params[name]
            if value is None:
                raise Unresolvable(f"parameter {name} has no default")
            if name in self.lists and isinstance(value, str):
                return value.split(",")
            return value if isinstance(value, list) else str(value)
        if name in self.resources:
            return "{Ref:" + name + "}"
        raise Unresolvable(f"!Ref {name}: no such parameter or resource")

    def active(self, resource):
        """False for a resource whose Condition is false."""
        name = resource.get("Condition")
        return name is None or self.condition(name)

    def condition(self, name):
        if name not in self.conditions:
            raise Unresolvable(f"no condition named {name}")
        return bool(self.resolve(self.conditions[name]))

    def sub(self, text, variables):
        def one(match):
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return str(variables[inner])
            if "." in inner and inner.split(".", 1)[0] in self.resources:
                return self.get_att(*inner.split(".", 1))
            value = self.ref(inner)
            if value is NO_VALUE or not isinstance(value, str):
                raise Unresolvable(f"!Sub ${{{inner}}} is not a string")
            return value
        return re.sub(r"\$\{([^}]*)\}", one, text)

    def get_att(self, resource, attribute):
        if attribute == "Arn" and (self.resources.get(resource) or {}).get("Type") in FUNCTION_TYPES:
            return function_arn(self.pseudo["AWS::Partition"], self.pseudo["AWS::Region"],
                                self.pseudo["AWS::AccountId"], resource)
        return "{GetAtt:" + resource + "." + attribute + "}"

    def resolve(self, node):
        if isinstance(node, list):
            out = [self.resolve(x) for x in node]
            return [x for x in out if x is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self.function(key[4:], arg)
        out = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}

    def function(self, name, arg):
        if name == "Sub":
            if isinstance(arg, list):
                text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
            else:
                text, variables = arg, {}
            return self.sub(text, variables)
        if name == "GetAtt":
            return self.get_att(*arg)
        if name == "If":
            cond, yes, no = arg
            return self.resolve(yes if self.condition(cond) else no)
        if name == "Join":
            delimiter, items = arg
            return delimiter.join(str(x) for x in self.resolve(items))
        if name == "Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Split":
            delimiter, text = arg
            return self.resolve(text).split(delimiter)
        if name == "Equals":
            a, b = (self.resolve(x) for x in arg)
            return str(a) == str(b)
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(x) for x in arg)
        if name == "Or":
            return any(self.resolve(x) for x in arg)
        raise Unresolvable(f"Fn::{name} is not supported")


def load_template(path):
    try:
        with open(path) as f:
            return yaml.load(f, Loader=CfnLoader)
    except OSError as e:
        raise CheckError(f"cannot read the template {path}: {e}")


def function_policies(template, function, resolver):
    """The function's policy documents, as (name, document), and the
    policies that are not inline documents (not evaluated)."""
    resources = template.get("Resources") or {}
    if function not in resources:
        raise CheckError(f"the template has no resource {function}")
    props = resources[function].get("Properties") or {}
    documents, skipped = [], []
    policies = props.get("Policies") or []
    if not isinstance(policies, list):
        policies = [policies]
    for i, item in enumerate(policies):
        if isinstance(item, dict) and "Statement" in item:
            documents.append((f"{function}.Policies[{i}]", resolver.resolve(item)))
        else:
            skipped.append(f"{function}.Policies[{i}]: {json.dumps(item)}")
    if "Role" in props:
        skipped.append(f"{function}.Role: {json.dumps(props['Role'])} (a role defined elsewhere)")
    # Policies attached to the role SAM generates for the function.
    role = {"Ref": f"{function}Role"}
    return documents + attached_policies(resources, role, resolver), skipped


def attached_policies(resources, role, resolver):
    """(name, document) of the active policy resources attached to role ({"Ref": ...})."""
    documents = []
    for name, res in resources.items():
        if res.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and resolver.active(res):
            if role in ((res.get("Properties") or {}).get("Roles") or []):
                documents.append((name, resolver.resolve(res["Properties"]["PolicyDocument"])))
    return documents


def role_policies(template, role, resolver):
    """The policy documents of an AWS::IAM::Role resource, as (name, document)."""
    resources = template.get("Resources") or {}
    res = resources.get(role)
    if not res or res.get("Type") != "AWS::IAM::Role":
        raise CheckError(f"the template has no AWS::IAM::Role {role}")
    if not resolver.active(res):
        raise CheckError(f"the role {role} is not created with the check's parameters")
    documents = []
    for i, item in enumerate((res.get("Properties") or {}).get("Policies") or []):
        documents.append((f"{role}.Policies[{i}]", resolver.resolve(item["PolicyDocument"])))
    return documents + attached_policies(resources, {"Ref": role}, resolver)


# ---------------------------------------------------------------- policy evaluation

def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def wildcard(pattern, text, ignore_case=False):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def statements(documents):
    for name, doc in documents:
        for i, st in enumerate(_as_list(doc.get("Statement"))):
            yield f"{name} {st.get('Sid') or f'Statement[{i}]'}", st


def _matches(st, key, value, ignore_case):
    if key in st:
        return any(wildcard(p, value, ignore_case) for p in _as_list(st[key]))
    if "Not" + key in st:
        return not any(wildcard(p, value, ignore_case) for p in _as_list(st["Not" + key]))
    return False


MISSING = object()
_STRING_OPS = {
    "StringEquals": (False, False, False), "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True), "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False), "StringNotLike": (True, True, False),
    "ArnEquals": (False, True, False), "ArnLike": (False, True, False),
    "ArnNotEquals": (True, True, False), "ArnNotLike": (True, True, False),
    "Bool": (False, False, True),
}


def condition_result(op, key, wanted, value):
    """True/False, or None when it cannot be evaluated (with a reason)."""
    set_op, _, base = op.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base[:-len("IfExists")] if if_exists else base
    wanted = [str(w).lower() if isinstance(w, bool) else str(w) for w in _as_list(wanted)]
    if base == "Null":
        return (value is MISSING) == (wanted[0].lower() == "true"), None
    if base not in _STRING_OPS or set_op not in ("", "ForAllValues", "ForAnyValue"):
        return None, f"operator {op} is not evaluated by this check"
    if value is MISSING:
        if if_exists or set_op == "ForAllValues":
            return True, None
        if set_op == "ForAnyValue":
            return False, None
        return None, f"the table gives no value for {key}"
    negated, like, ignore_case = _STRING_OPS[base]

    def one(v):
        hit = any(wildcard(w, v, ignore_case) if like else
                  (w.lower() == v.lower() if ignore_case else w == v) for w in wanted)
        return not hit if negated else hit

    values = [str(v) for v in _as_list(value)]
    if set_op == "ForAllValues":
        return all(one(v) for v in values), None
    return any(one(v) for v in values), None


def conditions_hold(condition, context):
    """(True|False|None, reason): None when some condition cannot be evaluated."""
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    unknown = None
    for op, pairs in (condition or {}).items():
        for key, wanted in pairs.items():
            result, reason = condition_result(op, key, wanted, ctx.get(key.lower(), MISSING))
            if result is False:
                return False, None
            if result is None:
                unknown = f"{op} {key}: {reason}"
    return (None, unknown) if unknown else (True, None)


def decide(all_statements, action, resource, context):
    """(granted, explanation)."""
    allowed, denied, unevaluated = [], [], []
    for where, st in all_statements:
        if not _matches(st, "Action", action, True) or not _matches(st, "Resource", resource, False):
            continue
        holds, reason = conditions_hold(st.get("Condition"), context)
        if st.get("Effect") == "Deny":
            if holds is not False:
                denied.append(where + (f" (condition not evaluated, treated as met: {reason})"
                                       if holds is None else ""))
        elif holds:
            allowed.append(where)
        elif holds is None:
            unevaluated.append(f"{where} (condition not evaluated, treated as not met: {reason})")
    if denied:
        return False, "denied by " + "; ".join(denied)
    if allowed:
        return True, "allowed by " + "; ".join(allowed)
    if unevaluated:
        return False, "no Allow applies: " + "; ".join(unevaluated)
    return False, "no Allow statement matches"


# ---------------------------------------------------------------- the table

def load_table(path):
    try:
        with open(path) as f:
            table = yaml.safe_load(f)
    except OSError as e:
        raise CheckError(f"cannot read the permissions table {path}: {e}")
    sources = table.get("sources") or {}
    operations, hub_only = {}, set()
    for entry in table.get("operations") or []:
        call = entry.get("call", "")
        if len(call.split()) != 2:
            raise CheckError(f"{path}: call {call!r} is not '<signing name> <Operation>'")
        if call in operations:
            raise CheckError(f"{path}: {call} appears twice")
        rows = entry.get("requires") or []
        if not rows:
            raise CheckError(f"{path}: {call} requires nothing")
        for row in rows:
            for field in ("action", "resource", "source"):
                if not row.get(field):
                    raise CheckError(f"{path}: {call}: a row has no {field}: {row}")
            if row["source"] not in sources:
                raise CheckError(f"{path}: {call}: source {row['source']!r} is not under sources")
        if entry.get("hub_only") not in (None, True, False):
            raise CheckError(f"{path}: {call}: hub_only is {entry['hub_only']!r}, expected true or false")
        if entry.get("hub_only"):
            hub_only.add(call)
        if entry.get("needs_no_grant") not in (None, True, False):
            raise CheckError(f"{path}: {call}: needs_no_grant is {entry['needs_no_grant']!r}, "
                             "expected true or false")
        operations[call] = rows
    return table, operations, hub_only


def shown(path):
    """A path as the messages show it: relative to the project when inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def concrete(arn, where=None, function="GuardFunction"):
    """A row's resource for a partition, Region and account (SUBSTITUTIONS by
    default); ${FunctionArn} is the function's own ARN as the Resolver shows it."""
    where = where or SUBSTITUTIONS
    own = function_arn(where["Partition"], where["Region"], where["Account"], function)
    return re.sub(r"\$\{(Partition|Region|Account)\}", lambda m: where[m.group(1)],
                  arn.replace("${FunctionArn}", own))


# ---------------------------------------------------------------- what the tool calls

def read_op_log(path, access_key):
    """Counters of "<service> <operation>": the requests signed with access_key,
    and those signed with credentials it got from sts:AssumeRole (a spoke role)."""
    performed, through_role = Counter(), Counter()
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CheckError(f"cannot read the operation log {path}: {e}")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if entry.get("access_key") == access_key:
                performed[f"{entry['service']} {entry['operation']}"] += 1
            elif entry.get("assumed_by") == access_key:
                through_role[f"{entry['service']} {entry['operation']}"] += 1
        except (ValueError, KeyError, AttributeError) as e:
            raise CheckError(f"{path}:{n}: not an operation log line ({e}): {line[:200]!r}")
    return performed, through_role


@functools.lru_cache(maxsize=None)
def _operation_names(service):
    import botocore.session
    from botocore import xform_name
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def scan_sources(src_root):
    """{"<signing name> <Operation>": ["file:line", ...]} for the SDK calls in
    the Rust sources: `.client.<op>(` in files that import one SDK's Client,
    and `.<field>.<op>(` on the Clients struct's fields anywhere."""
    found = {}
    names = {}

    def record(crate, snake, path, text, pos):
        service, signing = CRATES[crate]
        if service not in names:
            names[service] = _operation_names(service)
        op = names[service].get(snake)
        if op is None:  # not an SDK operation (clone(), config(), ...)
            return
        line = text.count("\n", 0, pos) + 1
        found.setdefault(f"{signing} {op}", []).append(f"{shown(path)}:{line}")

    for dirpath, _, files in os.walk(src_root):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            with open(path) as f:
                text = f.read()
            calls = list(re.finditer(r"\.client\s*\.\s*([a-z][a-z0-9_]*)\s*\(", text))
            if calls:
                crates = set(re.findall(r"aws_sdk_(\w+)::(?:Client\b|\{[^}]*\bClient\b)", text))
                crates &= set(CRATES)
                if len(crates) != 1:
                    raise CheckError(
                        f"{shown(path)}: calls `.client.<op>()` but imports "
                        f"the Client of {sorted(crates) or 'no SDK'}: cannot tell which service")
                crate = crates.pop()
                for m in calls:
                    record(crate, m.group(1), path, text, m.start())
            for m in re.finditer(r"\.(sagemaker|autoscaling|cloudwatch)\s*\.\s*([a-z][a-z0-9_]*)\s*\(", text):
                record(CLIENT_FIELDS[m.group(1)], m.group(2), path, text, m.start())
    return found


# ---------------------------------------------------------------- the linter

def allows(rule, finding):
    """A linter_allow rule accepts a finding of its issue whose actions are
    all among the rule's actions (and, when the rule names one, whose detail
    contains the rule's text)."""
    if rule.get("issue") != finding.get("issue"):
        return False
    actions = {a.lower() for a in (finding.get("location") or {}).get("actions") or []}
    if actions - {a.lower() for a in rule.get("actions") or []}:
        return False
    return rule.get("detail_contains", "") in json.dumps(finding.get("detail"))


def run_parliament(documents, parliament, allow):
    """Runs parliament over each document; returns (findings kept, findings allowed)."""
    kept, allowed = [], []
    for name, doc in documents:
        # parliament reads a policy piped to it on stdin.
        proc = subprocess.run([parliament, "--json", "--include-community-auditors"],
                              input=json.dumps(doc), capture_output=True, text=True)
        if proc.returncode not in (0, 1) or (proc.returncode == 1 and not proc.stdout.strip()):
            raise CheckError(f"parliament failed on {name} (exit {proc.returncode}): {proc.stderr.strip()}")
        for line in proc.stdout.splitlines():
            if not line.strip():
                continue
            finding = json.loads(line)
            finding["policy"] = name
            rule = next((a for a in allow if allows(a, finding)), None)
            (allowed if rule else kept).append(finding)
    return kept, allowed


# ---------------------------------------------------------------- main

class Grantee:
    """A principal whose policies must grant rows of the table."""

    def __init__(self, name, documents, where, hub_rows):
        self.name, self.documents, self.where, self.hub_rows = name, documents, where, hub_rows
        self.statements = list(statements(documents))


def grantees(table, template, template_path, spoke_path):
    """(the function in a single-account deployment, in organization mode,
    the spoke role in each spoke Region), the policies not evaluated, and
    (Region, function documents, spoke role documents, name) whose statements
    must be the same but for the Region."""
    function = table.get("function", "GuardFunction")
    where = SUBSTITUTIONS
    single = Resolver(template, where["Partition"], where["Region"], where["Account"])
    documents, skipped = function_policies(template, function, single)
    org = (table.get("organization") or {}).get("parameters")
    if not org:
        raise CheckError("the table has no organization.parameters")
    org_documents, _ = function_policies(
        template, function, Resolver(template, where["Partition"], where["Region"], where["Account"], org))
    single_account = Grantee(f"{shown(template_path)} {function}", documents, where, False)
    organization = Grantee(f"{shown(template_path)} {function} (organization mode)", org_documents, where, True)
    spoke = table.get("spoke") or {}
    for field in ("role", "account", "regions", "parameters"):
        if not spoke.get(field):
            raise CheckError(f"the table's spoke has no {field}")
    spoke_template = load_template(spoke_path)
    spokes, pairs = [], []
    for region in spoke["regions"]:
        at = dict(where, Region=region, Account=str(spoke["account"]))
        params = dict(spoke["parameters"], RoleRegion=region)
        resolver = Resolver(spoke_template, at["Partition"], region, at["Account"], params)
        role_documents = role_policies(spoke_template, spoke["role"], resolver)
        name = f"{shown(spoke_path)} {spoke['role']} in {region}"
        spokes.append(Grantee(name, role_documents, at, False))
        same_place = Resolver(template, at["Partition"], region, at["Account"])
        pairs.append((region, function_policies(template, function, same_place)[0], role_documents, name))
    return (single_account, organization, spokes), skipped, pairs


def _any_region(value, region):
    """An ARN (or a list of them) with `region` made "*"."""
    if isinstance(value, list):
        return sorted(_any_region(v, region) for v in value)
    parts = value.split(":", 5) if isinstance(value, str) and value.startswith("arn:") else None
    if parts and len(parts) == 6 and parts[3] == region:
        parts[3] = "*"
        return ":".join(parts)
    return value


def spoke_differences(region, function_documents, role_documents, spoke_name):
    """How the spoke role's statements differ from the function's, compared by Sid."""
    def by_sid(documents, region):
        out = {}
        for _, st in statements(documents):
            out[st.get("Sid")] = {"Effect": st.get("Effect"), "Action": sorted(_as_list(st.get("Action"))),
                                  "Resource": _any_region(_as_list(st.get("Resource")), region),
                                  "Condition": st.get("Condition")}
        return out
    mine, theirs = by_sid(function_documents, region), by_sid(role_documents, None)
    problems = []
    for sid in sorted(set(mine) | set(theirs), key=str):
        if sid not in theirs:
            problems.append(f"{spoke_name} lacks the function's statement {sid}")
        elif sid not in mine:
            problems.append(f"{spoke_name} has a statement {sid} the function does not have")
        elif mine[sid] != theirs[sid]:
            fields = "; ".join(f"{k} {json.dumps(theirs[sid][k])} instead of {json.dumps(mine[sid][k])}"
                               for k in mine[sid] if mine[sid][k] != theirs[sid][k])
            problems.append(f"{spoke_name} statement {sid} differs from the function's "
                            f"(with any Region): {fields}")
    return problems


def check(template_path, table_path, op_log=None, access_key="guard", src_root=None,
          lint=False, parliament=None, out=print, spoke_path=None):
    """Runs every check; returns the list of failures (empty when all pass)."""
    failures = []
    table, operations, hub_only = load_table(table_path)
    rows = sum(len(r) for r in operations.values())
    out(f"table {shown(table_path)}: {len(operations)} operations, {rows} rows")

    if op_log:
        performed, through_role = read_op_log(op_log, access_key)
        if not performed:
            failures.append(f"the operation log {op_log} has no request made with access key "
                            f"{access_key!r}: the tool's clients must sign with that key")
        out(f"operation log {op_log}: {len(performed)} operations, "
            f"{sum(performed.values())} requests by access key {access_key!r}; "
            f"{len(through_role)} operations, {sum(through_role.values())} requests through a spoke role")
        for call in sorted(performed):
            if call not in operations:
                failures.append(f"operation {call} (performed {performed[call]} times by the tool) "
                                f"has no entry in {shown(table_path)}")
        for call in sorted(through_role):
            if call not in operations:
                failures.append(f"operation {call} (performed {through_role[call]} times by the tool "
                                f"through a spoke role) has no entry in {shown(table_path)}")
            elif call in hub_only:
                failures.append(f"operation {call} is the hub's own (hub_only) but the tool performed "
                                f"it {through_role[call]} times through a spoke role")
        performed.update(through_role)
    else:
        performed = Counter()
        out("operation log: none given (--op-log or LOCAL_AWS_OP_LOG); performed operations not checked")

    if src_root:
        in_code = scan_sources(src_root)
        out(f"sources {shown(src_root)}: {sum(len(v) for v in in_code.values())} SDK calls, "
            f"{len(in_code)} operations")
        for call in sorted(in_code):
            if call not in operations:
                failures.append(f"SDK call {call} at {', '.join(in_code[call])} has no entry in "
                                f"{shown(table_path)}")
    else:
        in_code = {}

    template = load_template(template_path)
    (single_account, organization, spokes), skipped, pairs = grantees(
        table, template, template_path, spoke_path or os.path.join(ROOT, "spoke.yaml"))
    for s in skipped:
        out(f"not evaluated (not an inline policy document): {s}")
    # Operations AWS allows every caller, whatever its policies say.
    no_grant = {e["call"] for e in table.get("operations") or [] if e.get("needs_no_grant")}
    for grantee in [single_account, organization] + spokes:
        checked = set()
        for call, reqs in sorted(operations.items()):
            if (call in hub_only and not grantee.hub_rows) or call in no_grant:
                continue
            for row in reqs:
                resource = concrete(row["resource"], grantee.where, table.get("function", "GuardFunction"))
                granted, why = decide(grantee.statements, row["action"], resource, row.get("context"))
                checked.add((row["action"], resource))
                if not granted:
                    kind = "caller-side check of " if row.get("caller_check") else ""
                    failures.append(f"{grantee.name} does not grant {row['action']} "
                                    f"on {resource} ({kind}{call}; {why})")
        out(f"{grantee.name}: {len(grantee.documents)} policy documents, "
            f"{len(grantee.statements)} statements; {len(checked)} (action, resource) pairs checked")
    for region, function_documents, role_documents, name in pairs:
        failures += spoke_differences(region, function_documents, role_documents, name)
    unused = sorted(set(operations) - set(performed) - set(in_code))
    if unused and (op_log or src_root):
        out(f"table entries neither performed nor called in the sources: {', '.join(unused)}")

    if lint:
        # The spoke role's documents are the same in every Region.
        linted = organization.documents + spokes[0].documents
        kept, allowed = run_parliament(linted, parliament, table.get("linter_allow") or [])
        out(f"parliament: {len(kept) + len(allowed)} findings, {len(allowed)} allowed by linter_allow")
        for f in kept:
            failures.append(f"parliament {f.get('severity')} {f.get('issue')} in {f['policy']}: "
                            f"{f.get('title')}: {json.dumps(f.get('detail'))} "
                            f"{json.dumps(f.get('location'))}")
    return failures


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--template", default=os.path.join(ROOT, "template.yaml"))
    p.add_argument("--spoke", default=os.path.join(ROOT, "spoke.yaml"), help="the spoke template")
    p.add_argument("--table", default=os.path.join(ROOT, "iam", "permissions.yaml"))
    p.add_argument("--op-log", default=os.environ.get("LOCAL_AWS_OP_LOG"),
                   help="operation log of the local AWS (default: $LOCAL_AWS_OP_LOG)")
    p.add_argument("--access-key", default="guard", help="the tool's access key id in the log")
    p.add_argument("--src", default=os.path.join(ROOT, "src"), help="Rust sources to scan")
    p.add_argument("--lint", action="store_true", help="also run parliament over the policies")
    p.add_argument("--parliament", default=os.path.join(ROOT, ".venv-iam", "bin", "parliament"))
    args = p.parse_args(argv)
    try:
        failures = check(args.template, args.table, args.op_log, args.access_key, args.src,
                         args.lint, args.parliament, out=lambda s: print("check_iam: " + s),
                         spoke_path=args.spoke)
    except CheckError as e:
        print(f"check_iam: FAILED: {e}", file=sys.stderr)
        return 1
    for f in failures:
        print(f"check_iam: FAIL: {f}", file=sys.stderr)
    print(f"check_iam: {'FAILED' if failures else 'ok'}: {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
