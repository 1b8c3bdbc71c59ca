"""Tests of scripts/check_iam.py: it passes the real template and catches a
missing permission, an operation missing from the table, an SDK call missing
from the table and a linter finding nobody accepted.

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
TABLE = os.path.join(ROOT, "iam", "permissions.yaml")
SRC = os.path.join(ROOT, "src")
PARLIAMENT = os.path.join(ROOT, ".venv-iam", "bin", "parliament")


def log_line(service, operation, key="guard"):
    return json.dumps({"service": service, "operation": operation, "access_key": key,
                       "status": 200, "fault": None})


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
                lint=False, parliament=PARLIAMENT, out=lambda _: None)
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


class MissingPermission(unittest.TestCase):
    def template_without(self, line):
        with open(TEMPLATE) as f:
            text = f.read()
        self.assertEqual(text.count(line + "\n"), 1, line)
        return Files(self).write("template.yaml", text.replace(line + "\n", ""))

    def test_a_removed_action_fails_naming_it(self):
        template = self.template_without("                - cloudwatch:DescribeAlarms")
        failures = run(template_path=template)
        self.assertTrue(failures)
        for f in failures:
            self.assertIn("does not grant cloudwatch:DescribeAlarms", f)
        # Both the tool's own call and the caller-side check are named.
        self.assertTrue(any("(monitoring DescribeAlarms;" in f for f in failures), failures)
        self.assertTrue(any("caller-side check of application-autoscaling RegisterScalableTarget" in f
                            for f in failures), failures)

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

    def test_an_operator_only_call_granted_to_the_function_fails(self):
        with open(TEMPLATE) as f:
            text = f.read()
        line = "            - Sid: OwnedAndTargetTrackingAlarms\n"
        self.assertEqual(text.count(line), 1)
        granted = text.replace(line, "            - Sid: History\n              Effect: Allow\n"
                               "              Action: cloudwatch:GetMetricData\n"
                               "              Resource: '*'\n" + line)
        failures = run(template_path=Files(self).write("template.yaml", granted))
        self.assertTrue(failures)
        for f in failures:
            self.assertIn("grants cloudwatch:GetMetricData", f)
            self.assertIn("monitoring GetMetricData is operator_only", f)
        # Not granted (the real template): no failure.
        self.assertEqual(run(), [])

    def test_a_condition_on_other_tag_keys_does_not_grant_the_release_tags(self):
        with open(TEMPLATE) as f:
            text = f.read()
        other = text.replace("- autoscaling:released-last-modified", "- team")
        self.assertNotEqual(text, other)
        failures = run(template_path=Files(self).write("template.yaml", other))
        self.assertEqual(len(failures), 2, failures)
        self.assertIn("sagemaker:AddTags", failures[0] + failures[1])
        self.assertIn("sagemaker:DeleteTags", failures[0] + failures[1])


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

    def test_a_client_call_of_unknown_service_is_an_error(self):
        files = Files(self)
        files.write("src/x.rs", "fn f(s: &S) { s.client.describe_endpoint(); }\n")
        with self.assertRaisesRegex(check_iam.CheckError, "cannot tell which service"):
            run(src_root=os.path.join(files.dir.name, "src"))


class Linter(unittest.TestCase):
    def test_a_finding_not_allowed_fails(self):
        with open(TABLE) as f:
            table = yaml.safe_load(f)
        table["linter_allow"] = []
        path = Files(self).write("permissions.yaml", yaml.safe_dump(table))
        failures = run(table_path=path, lint=True)
        self.assertEqual(len(failures), 1, failures)
        self.assertIn("PERMISSIONS_MANAGEMENT_ACTIONS", failures[0])
        self.assertIn("iam:createservicelinkedrole", failures[0])


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
