"""Tests of scripts/check_iam.py: it passes the real templates and catches a
missing permission, an operation missing from the table, an SDK call missing
from the table, a spoke role that differs from the function and a linter
finding nobody accepted; and of the templates' organization mode and spoke.

usage: .venv-sam/bin/python -m unittest scripts/test_check_iam.py
       (parliament must be installed: scripts/ensure-tools.sh)
"""

import json
import os
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_iam  # noqa: E402

ROOT = check_iam.ROOT
TEMPLATE = os.path.join(ROOT, "template.yaml")
SPOKE = os.path.join(ROOT, "spoke.yaml")
TABLE = os.path.join(ROOT, "iam", "permissions.yaml")
SRC = os.path.join(ROOT, "src")
PARLIAMENT = os.path.join(ROOT, ".venv-iam", "bin", "parliament")


def log_line(service, operation, key="guard"):
    return json.dumps({"service": service, "operation": operation, "access_key": key,
                       "account": "123456789012", "status": 200, "fault": None})


def spoke_log_line(service, operation, assumed_by="guard"):
    """A request signed with credentials `assumed_by` got from sts:AssumeRole."""
    return json.dumps({"service": service, "operation": operation, "access_key": "ASIAEXAMPLE",
                       "account": "111111111111", "status": 200, "fault": None,
                       "role": "arn:aws:iam::111111111111:role/autoscaling-guard-spoke",
                       "assumed_by": assumed_by})


class Files:
    """Temporary files for one test."""

    def __init__(self, test):
        self.dir = tempfile.TemporaryDirectory()
        test.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path


def run(**kwargs):
    args = dict(template_path=TEMPLATE, table_path=TABLE, op_log=None, src_root=SRC,
                lint=False, parliament=PARLIAMENT, out=lambda _: None, spoke_path=SPOKE)
    args.update(kwargs)
    return check_iam.check(**args)


# Every operation of the table, as the tool's key would log it.
def full_log():
    with open(TABLE) as f:
        calls = [e["call"] for e in yaml.safe_load(f)["operations"]]
    return "\n".join(log_line(*c.split()) for c in calls) + "\n"


class RealTemplate(unittest.TestCase):
    def test_the_template_grants_every_row_and_parliament_is_clean(self):
        self.assertTrue(os.path.exists(PARLIAMENT), "run scripts/ensure-tools.sh first")
        log = Files(self).write("ops.jsonl", full_log() + log_line("sagemaker", "CreateEndpoint", "test"))
        self.assertEqual(run(op_log=log, lint=True), [])

    def test_every_sdk_call_in_the_sources_has_a_row(self):
        found = check_iam.scan_sources(SRC)
        # The scan sees the adapters' calls (a scan that finds nothing proves nothing).
        for call in ("sagemaker Search", "application-autoscaling RegisterScalableTarget",
                     "monitoring PutMetricAlarm"):
            self.assertIn(call, found)
        self.assertEqual(run(), [])


def grants_and_differences(failures):
    """The failures about grants, and about the spoke role differing from the function."""
    grants = [f for f in failures if " does not grant " in f]
    differences = [f for f in failures if " differs from the function's " in f]
    return grants, differences


class MissingPermission(unittest.TestCase):
    def template_without(self, line):
        with open(TEMPLATE) as f:
            text = f.read()
        self.assertEqual(text.count(line + "\n"), 1, line)
        return Files(self).write("template.yaml", text.replace(line + "\n", ""))

    def test_a_removed_action_fails_naming_it(self):
        template = self.template_without("                - cloudwatch:DescribeAlarms")
        failures = run(template_path=template)
        grants, differences = grants_and_differences(failures)
        self.assertEqual(len(grants) + len(differences), len(failures), failures)
        self.assertTrue(grants)
        for f in grants:
            self.assertIn("does not grant cloudwatch:DescribeAlarms", f)
        # The spoke role still grants it: it now differs, in both Regions.
        self.assertEqual(len(differences), 2, differences)
        self.assertIn("statement OwnedAndTargetTrackingAlarms differs", differences[0])
        # Both the tool's own call and the caller-side check are named.
        self.assertTrue(any("(monitoring DescribeAlarms;" in f for f in failures), failures)
        self.assertTrue(any("caller-side check of application-autoscaling RegisterScalableTarget" in f
                            for f in failures), failures)

    def test_organization_mode_without_its_grants_fails(self):
        template = self.template_without("            Action: lambda:InvokeFunction\n"
                                         "            Resource: !GetAtt GuardFunction.Arn")
        failures = run(template_path=template)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("template.yaml GuardFunction (organization mode) does not grant lambda:InvokeFunction on "
                      "arn:aws:lambda:us-east-1:123456789012:function:GuardFunction (lambda Invoke;", failures[0])

    def test_only_an_operation_aws_allows_everyone_needs_no_grant(self):
        with open(TABLE) as f:
            table = f.read()
        self.assertIn("    needs_no_grant: true\n", table)
        failures = run(table_path=Files(self).write("permissions.yaml", table.replace("    needs_no_grant: true\n", "")))
        self.assertTrue(failures)
        self.assertTrue(all("does not grant sts:GetCallerIdentity on *" in f for f in failures), failures)

    def test_a_removed_caller_side_permission_fails(self):
        with open(TEMPLATE) as f:
            text = f.read()
        narrowed = text.replace(
            ":alarm:TargetTracking-endpoint/*", ":alarm:autoscaling-guard-other-*")
        self.assertNotEqual(text, narrowed)
        failures = run(template_path=Files(self).write("template.yaml", narrowed))
        self.assertTrue(any("cloudwatch:PutMetricAlarm on arn:aws:cloudwatch:us-east-1:123456789012:"
                            "alarm:TargetTracking-endpoint/" in f and "PutScalingPolicy" in f
                            for f in failures), failures)

    def test_a_condition_on_other_tag_keys_does_not_grant_the_release_tags(self):
        with open(TEMPLATE) as f:
            text = f.read()
        other = text.replace("- autoscaling:released-last-modified", "- team")
        self.assertNotEqual(text, other)
        grants, differences = grants_and_differences(
            run(template_path=Files(self).write("template.yaml", other)))
        # Single-account and organization mode, each AddTags and DeleteTags.
        self.assertEqual(len(grants), 4, grants)
        self.assertEqual(sum("sagemaker:AddTags" in g for g in grants), 2, grants)
        self.assertEqual(sum("sagemaker:DeleteTags" in g for g in grants), 2, grants)
        self.assertEqual(len(differences), 2, differences)


class MissingRow(unittest.TestCase):
    def test_a_performed_operation_missing_from_the_table_fails_naming_it(self):
        log = Files(self).write("ops.jsonl", full_log() + log_line("sagemaker", "UpdateEndpoint"))
        failures = run(op_log=log)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("operation sagemaker UpdateEndpoint (performed 1 times by the tool)", failures[0])

    def test_operations_of_other_access_keys_are_not_the_tools(self):
        log = Files(self).write("ops.jsonl", full_log() + log_line("sagemaker", "CreateEndpoint", "test"))
        self.assertEqual(run(op_log=log), [])

    def test_a_log_without_the_tools_key_fails(self):
        log = Files(self).write("ops.jsonl", log_line("sagemaker", "Search", "test") + "\n")
        failures = run(op_log=log)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("no request made with access key 'guard'", failures[0])

    def test_a_malformed_log_line_is_an_error_naming_the_line(self):
        log = Files(self).write("ops.jsonl", log_line("sagemaker", "Search") + "\n{not json\n")
        with self.assertRaisesRegex(check_iam.CheckError, r"ops.jsonl:2: not an operation log line"):
            run(op_log=log)

    def test_an_sdk_call_missing_from_the_table_fails_naming_it(self):
        files = Files(self)
        files.write("src/aws/extra.rs", "use aws_sdk_sagemaker::Client;\n"
                                        "async fn f(s: &S) { s.client\n    .update_endpoint()\n"
                                        "    .send().await; s.client.clone(); }\n")
        files.write("src/release.rs", "async fn g(c: &Clients) { c.cloudwatch.set_alarm_state().send(); }\n")
        failures = run(src_root=os.path.join(files.dir.name, "src"))
        self.assertEqual(len(failures), 2, failures)
        shown = "\n".join(failures).replace(files.dir.name + "/", "")
        self.assertIn("SDK call sagemaker UpdateEndpoint at src/aws/extra.rs:2 has no entry", shown)
        self.assertIn("SDK call monitoring SetAlarmState at src/release.rs:1 has no entry", shown)

    def test_an_operation_through_a_spoke_role_missing_from_the_table_fails(self):
        log = Files(self).write("ops.jsonl", full_log() + spoke_log_line("sagemaker", "UpdateEndpoint") + "\n")
        failures = run(op_log=log)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("operation sagemaker UpdateEndpoint (performed 1 times by the tool through a spoke role)",
                      failures[0])

    def test_a_hub_only_operation_through_a_spoke_role_fails(self):
        log = Files(self).write("ops.jsonl", full_log() + spoke_log_line("sts", "AssumeRole") + "\n")
        failures = run(op_log=log)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("operation sts AssumeRole is the hub's own (hub_only)", failures[0])

    def test_operations_through_a_spoke_role_in_the_table_pass_and_others_keys_are_not_the_tools(self):
        lines = [spoke_log_line("application-autoscaling", "PutScalingPolicy"),
                 spoke_log_line("sagemaker", "UpdateEndpoint", assumed_by="test")]
        log = Files(self).write("ops.jsonl", full_log() + "\n".join(lines) + "\n")
        self.assertEqual(run(op_log=log), [])

    def test_a_client_call_of_unknown_service_is_an_error(self):
        files = Files(self)
        files.write("src/x.rs", "fn f(s: &S) { s.client.describe_endpoint(); }\n")
        with self.assertRaisesRegex(check_iam.CheckError, "cannot tell which service"):
            run(src_root=os.path.join(files.dir.name, "src"))


def load(path, text=None):
    if text is None:
        with open(path) as f:
            text = f.read()
    return yaml.load(text, Loader=check_iam.CfnLoader)


def actions(node):
    """Every Action and NotAction value anywhere in a template."""
    if isinstance(node, list):
        return [a for item in node for a in actions(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key in ("Action", "NotAction"):
            found += [(key, a) for a in check_iam._as_list(value)]
        else:
            found += actions(value)
    return found


class Spoke(unittest.TestCase):
    def spoke_with(self, old, new):
        with open(SPOKE) as f:
            text = f.read()
        self.assertEqual(text.count(old), 1, old)
        return Files(self).write("spoke.yaml", text.replace(old, new))

    def test_the_spoke_has_no_transform_and_no_wildcard_action(self):
        spoke = load(SPOKE)
        self.assertNotIn("Transform", spoke)
        found = actions(spoke)
        # Both roles' trust, the spoke role's grants, the forwarding grant.
        self.assertGreater(len(found), 20, found)
        self.assertEqual([a for a in found if a[0] != "Action"], [])
        self.assertEqual([a for _, a in found if not isinstance(a, str) or "*" in a or "?" in a], [])

    def test_a_grant_missing_from_the_spoke_role_fails(self):
        spoke = self.spoke_with("                  - application-autoscaling:PutScheduledAction\n", "")
        grants, differences = grants_and_differences(run(spoke_path=spoke))
        self.assertEqual(len(grants), 2, grants)
        for grant, region in zip(grants, ["us-east-1", "eu-west-1"]):
            self.assertIn(f"spoke.yaml SpokeRole in {region} does not grant "
                          "application-autoscaling:PutScheduledAction on arn:aws:application-autoscaling:"
                          f"{region}:111111111111:scalable-target/", grant)
        self.assertEqual(len(differences), 2, differences)

    def test_a_spoke_role_granting_more_than_the_function_fails(self):
        spoke = self.spoke_with("                  - application-autoscaling:DescribeScheduledActions\n",
                                "                  - application-autoscaling:DescribeScheduledActions\n"
                                "                  - application-autoscaling:DescribeScalingActivities\n")
        failures = run(spoke_path=spoke)
        self.assertEqual(len(failures), 2, failures)
        self.assertIn("statement ReadScaling differs from the function's (with any Region): Action", failures[0])
        self.assertIn("DescribeScalingActivities", failures[0])

    def test_a_spoke_role_bound_to_its_own_region_fails(self):
        spoke = self.spoke_with(":sagemaker:*:${AWS::AccountId}:endpoint-config/*",
                                ":sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint-config/*")
        failures = run(spoke_path=spoke)
        self.assertEqual(len(failures), 2, failures)
        self.assertIn("statement ReadEndpointConfigs differs", failures[0])

    def test_one_region_creates_the_role_every_region_forwards_events(self):
        spoke = load(SPOKE)
        params = {"HubAccountId": "123456789012", "HubEventBusArn": "arn:aws:events:us-east-1:1:event-bus/b",
                  "HubFunctionRoleArn": "arn:aws:iam::123456789012:role/r", "RoleRegion": "us-east-1"}
        for region, creates in (("us-east-1", True), ("eu-west-1", False)):
            resolver = check_iam.Resolver(spoke, "aws", region, "111111111111", params)
            active = {n for n, r in spoke["Resources"].items() if resolver.active(r)}
            self.assertEqual("SpokeRole" in active, creates, region)
            self.assertLessEqual({"ForwardRole", "ForwardEndpointEvents"}, active)

    def test_the_trust_names_the_hub_function_role_and_optionally_the_organization(self):
        spoke = load(SPOKE)
        params = {"HubAccountId": "123456789012", "HubEventBusArn": "arn:aws:events:us-east-1:1:event-bus/b",
                  "HubFunctionRoleArn": "arn:aws:iam::123456789012:role/hub-fn"}
        for org, expected in (("", None), ("o-a1b2c3d4e5", {"aws:PrincipalOrgID": "o-a1b2c3d4e5"})):
            resolver = check_iam.Resolver(spoke, "aws", "us-east-1", "111111111111", dict(params, OrganizationId=org))
            trust = resolver.resolve(spoke["Resources"]["SpokeRole"]["Properties"]["AssumeRolePolicyDocument"])
            (statement,) = trust["Statement"]
            self.assertEqual(statement["Principal"], {"AWS": "arn:aws:iam::123456789012:root"})
            self.assertEqual(statement["Condition"]["ArnEquals"], {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/hub-fn"})
            self.assertEqual(statement["Condition"].get("StringEquals"), expected)


class OrganizationMode(unittest.TestCase):
    ORG = {"OrgSpokeRoleName": "spoke", "OrgAccounts": "111111111111,222222222222",
           "OrgRegions": "us-east-1,eu-west-1", "OrgId": "o-a1b2c3d4e5"}

    # Resolved when active: the others name resources SAM generates.
    RESOLVED = ("GuardFunction", "DeadLetterQueuePolicy", "OrgEventBus", "OrgEndpointInService")

    def resolved(self, parameters=None):
        """The template, its active resources (some resolved) and active outputs."""
        template = load(TEMPLATE)
        resolver = check_iam.Resolver(template, "aws", "us-east-1", "123456789012", parameters)
        active = {n: resolver.resolve(r) if n in self.RESOLVED else r
                  for n, r in template["Resources"].items() if resolver.active(r)}
        if "OrgFunctionPolicy" in active:
            active["OrgFunctionPolicy"] = resolver.resolve(active["OrgFunctionPolicy"]["Properties"]["PolicyDocument"])
        outputs = {n for n, o in template["Outputs"].items() if resolver.active(o)}
        return template, active, outputs

    def test_a_single_account_deploy_has_nothing_of_organization_mode(self):
        template, active, outputs = self.resolved()
        org_resources = {n for n, r in template["Resources"].items() if r.get("Condition") == "IsOrganization"}
        self.assertEqual(org_resources, {"OrgEventBus", "OrgEndpointInService",
                                         "OrgEndpointInServicePermission", "OrgFunctionPolicy"})
        self.assertEqual(org_resources & set(active), set())
        self.assertEqual(outputs & {"FunctionRoleArn", "OrgEventBusArn"}, set())
        env = active["GuardFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual([k for k in env if k.startswith("ORG_")], [])
        queue = active["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        self.assertEqual(queue["Condition"]["ArnEquals"]["aws:SourceArn"], "{GetAtt:GuardFunctionEndpointInService.Arn}")

    def test_organization_mode_passes_the_names_the_function_reads(self):
        template, active, outputs = self.resolved(self.ORG)
        env = active["GuardFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual({k: v for k, v in env.items() if k.startswith("ORG_")}, {
            "ORG_SPOKE_ROLE_NAME": "spoke", "ORG_ACCOUNTS": "111111111111,222222222222",
            "ORG_REGIONS": "us-east-1,eu-west-1"})
        self.assertLessEqual({"OrgEventBus", "OrgEndpointInService", "OrgFunctionPolicy"}, set(active))
        self.assertLessEqual({"FunctionRoleArn", "OrgEventBusArn"}, outputs)
        queue = active["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        self.assertEqual(queue["Condition"]["ArnEquals"]["aws:SourceArn"], [
            "{GetAtt:GuardFunctionEndpointInService.Arn}", "{GetAtt:OrgEndpointInService.Arn}"])
        (bus_statement,) = active["OrgEventBus"]["Properties"]["Policy"]["Statement"]
        self.assertEqual(bus_statement["Condition"], {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
        grants = list(check_iam.statements([("p", active["OrgFunctionPolicy"])]))
        self.assertTrue(check_iam.decide(grants, "sts:AssumeRole", "arn:aws:iam::222222222222:role/spoke", None)[0])
        self.assertFalse(check_iam.decide(grants, "sts:AssumeRole", "arn:aws:iam::222222222222:role/other", None)[0])
        # The forwarded events reach the function the same way as its own.
        rule = active["OrgEndpointInService"]["Properties"]
        own = template["Resources"]["GuardFunction"]["Properties"]["Events"]["EndpointInService"]["Properties"]
        self.assertEqual(rule["EventPattern"], own["Pattern"])
        self.assertEqual(load(SPOKE)["Resources"]["ForwardEndpointEvents"]["Properties"]["EventPattern"], own["Pattern"])

    def test_the_spoke_takes_the_hubs_outputs(self):
        outputs, spoke = load(TEMPLATE)["Outputs"], load(SPOKE)["Parameters"]
        for output, parameter in (("FunctionRoleArn", "HubFunctionRoleArn"), ("OrgEventBusArn", "HubEventBusArn")):
            self.assertIn(f"spoke.yaml {parameter}", outputs[output]["Description"])
            self.assertIn(parameter, spoke)


class Linter(unittest.TestCase):
    def test_a_finding_not_allowed_fails(self):
        with open(TABLE) as f:
            table = yaml.safe_load(f)
        table["linter_allow"] = []
        path = Files(self).write("permissions.yaml", yaml.safe_dump(table))
        failures = sorted(run(table_path=path, lint=True))
        self.assertEqual(len(failures), 3, failures)
        self.assertIn("CREDENTIALS_EXPOSURE in OrgFunctionPolicy", failures[0])
        self.assertIn("sts:assumerole", failures[0])
        for f, policy in zip(failures[1:], ["GuardFunction.Policies[0]", "SpokeRole.Policies[0]"]):
            self.assertIn(f"PERMISSIONS_MANAGEMENT_ACTIONS in {policy}", f)
            self.assertIn("iam:createservicelinkedrole", f)


class Evaluation(unittest.TestCase):
    ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e1"

    def decide(self, *statements, action="sagemaker:AddTags", context=None):
        return check_iam.decide([(f"s{i}", s) for i, s in enumerate(statements)],
                                action, self.ARN, context)

    def test_wildcards_in_actions_are_case_insensitive_and_in_resources_are_not(self):
        allow = {"Effect": "Allow", "Action": "SageMaker:Add*", "Resource": "arn:aws:sagemaker:*:*:endpoint/e?"}
        self.assertTrue(self.decide(allow)[0])
        upper = dict(allow, Resource="arn:aws:sagemaker:*:*:ENDPOINT/*")
        self.assertFalse(self.decide(upper)[0])

    def test_a_deny_wins(self):
        allow = {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}
        deny = {"Effect": "Deny", "Action": "sagemaker:AddTags", "Resource": "*"}
        granted, why = self.decide(allow, deny)
        self.assertFalse(granted)
        self.assertIn("denied by s1", why)

    def test_an_unknown_condition_grants_nothing_and_denies_everything(self):
        odd = {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
        allow = {"Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": "*", "Condition": odd}
        granted, why = self.decide(allow)
        self.assertFalse(granted)
        self.assertIn("treated as not met", why)
        plain = {"Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": "*"}
        deny = dict(allow, Effect="Deny")
        granted, why = self.decide(plain, deny)
        self.assertFalse(granted)
        self.assertIn("treated as met", why)

    def test_conditions_are_evaluated_against_the_rows_context(self):
        allow = {"Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": "*",
                 "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]},
                               "Null": {"aws:TagKeys": "false"}}}
        self.assertTrue(self.decide(allow, context={"aws:TagKeys": ["a"]})[0])
        self.assertFalse(self.decide(allow, context={"aws:TagKeys": ["a", "b"]})[0])
        # ForAllValues alone would pass an empty request; the Null test stops it.
        self.assertFalse(self.decide(allow, context={})[0])

    def test_a_key_the_row_does_not_give_is_not_evaluated(self):
        allow = {"Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/team": "x"}}}
        granted, why = self.decide(allow)
        self.assertFalse(granted)
        self.assertIn("the table gives no value for aws:ResourceTag/team", why)

    def test_not_action_and_not_resource(self):
        allow = {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::*"}
        self.assertTrue(self.decide(allow)[0])
        self.assertFalse(self.decide(allow, action="iam:PassRole")[0])


class Intrinsics(unittest.TestCase):
    def test_intrinsics_resolve_for_the_test_partition_region_and_account(self):
        template = yaml.load(
            "Parameters:\n  Prefix: {Type: String, Default: team}\n"
            "  Use: {Type: String, Default: 'yes'}\n"
            "Conditions:\n  On: !Equals [!Ref Use, 'yes']\n"
            "Resources:\n  Q: {Type: AWS::SQS::Queue}\n"
            "  F:\n    Properties:\n      Policies:\n        - AWSLambdaBasicExecutionRole\n"
            "        - Statement:\n"
            "            - Effect: Allow\n              Action: !If [On, 'sqs:SendMessage', !Ref AWS::NoValue]\n"
            "              Resource:\n"
            "                - !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Prefix}-*\n"
            "                - !Sub ['arn:aws:sqs:::${X}', {X: !Ref Prefix}]\n"
            "                - !Join [':', [arn, aws, !GetAtt Q.Arn]]\n"
            "                - !Sub '${!Literal}'\n",
            Loader=check_iam.CfnLoader)
        resolver = check_iam.Resolver(template, "aws", "us-east-1", "123456789012")
        docs, skipped = check_iam.function_policies(template, "F", resolver)
        self.assertEqual(len(skipped), 1)
        self.assertIn("AWSLambdaBasicExecutionRole", skipped[0])
        st = docs[0][1]["Statement"][0]
        self.assertEqual(st["Action"], "sqs:SendMessage")
        self.assertEqual(st["Resource"], ["arn:aws:sqs:us-east-1:123456789012:team-*",
                                          "arn:aws:sqs:::team", "arn:aws:{GetAtt:Q.Arn}",
                                          "${Literal}"])


if __name__ == "__main__":
    unittest.main()
