"""Self-test of the local AWS's decoder, validator, pattern translation, faults
and accounts.

Run: cd scripts && ../.venv-moto/bin/python -m unittest localaws.test_localaws
"""

import json
import os
import re
import tempfile
import unittest
from urllib.parse import urlencode

from . import models, patterns, query, validate
from .faults import Faults
from .gateway import Gateway
from .request import AwsRequest

SAGEMAKER_TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/e/variant/v",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
ALARM = [("Action", "PutMetricAlarm"), ("Version", "2010-08-01"), ("AlarmName", "a"),
         ("MetricName", "m"), ("Namespace", "AWS/SageMaker"), ("Statistic", "Average"),
         ("Period", "60"), ("EvaluationPeriods", "1"), ("Threshold", "1.5"),
         ("ComparisonOperator", "GreaterThanThreshold"),
         ("Dimensions.member.1.Name", "EndpointName"), ("Dimensions.member.1.Value", "e"),
         ("AlarmActions.member.1", "arn:aws:autoscaling:x"), ("OKActions", "")]


def json_check(service, operation, params):
    return validate.check(AwsRequest(service, operation, "k", "json", json.dumps(params).encode()))


def query_check(operation, fields):
    return validate.check(AwsRequest("monitoring", operation, "k", "query", urlencode(fields).encode()))


class QueryDecoding(unittest.TestCase):
    def test_lists_structures_and_empty_lists(self):
        model = models.model("monitoring")
        params, problems = query.decode(model, "PutMetricAlarmInput", ALARM, "PutMetricAlarm")
        self.assertEqual(problems, [])
        self.assertEqual(params["Dimensions"], [{"Name": "EndpointName", "Value": "e"}])
        self.assertEqual(params["AlarmActions"], ["arn:aws:autoscaling:x"])
        self.assertEqual(params["OKActions"], [])
        self.assertNotIn("Version", params)

    def test_a_gap_in_list_indexes_is_reported(self):
        model = models.model("monitoring")
        _, problems = query.decode(model, "PutMetricAlarmInput",
                                   ALARM + [("Dimensions.member.3.Name", "x")], "PutMetricAlarm")
        self.assertTrue(any("'PutMetricAlarm.Dimensions'" in p and "[1, 3]" in p for p in problems), problems)


class Validation(unittest.TestCase):
    def test_a_valid_request_passes_in_both_protocols(self):
        self.assertIsNone(query_check("PutMetricAlarm", ALARM))
        self.assertIsNone(json_check("application-autoscaling", "RegisterScalableTarget",
                                     dict(SAGEMAKER_TARGET, MinCapacity=1, MaxCapacity=2)))

    def test_lengths_name_operation_member_and_constraint(self):
        message = json_check("application-autoscaling", "PutScalingPolicy", dict(
            SAGEMAKER_TARGET, PolicyName="x" * 300, PolicyType="TargetTrackingScaling"))
        self.assertIn("at 'PutScalingPolicy.PolicyName' failed to satisfy constraint: "
                      "Member must have length less than or equal to 256", message)

    def test_nested_required_and_unknown_members(self):
        message = json_check("application-autoscaling", "PutScalingPolicy", dict(
            SAGEMAKER_TARGET, PolicyName="p", PolicyType="StepScaling",
            StepScalingPolicyConfiguration={"StepAdjustments": [{"MetricIntervalLowerBound": 0}], "Bogus": 1}))
        self.assertIn("'PutScalingPolicy.StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment'"
                      " failed to satisfy constraint: Member must not be null", message)
        self.assertIn("'PutScalingPolicy.StepScalingPolicyConfiguration.Bogus'", message)

    def test_enums_ranges_and_patterns(self):
        fields = [(k, {"EvaluationPeriods": "0", "Statistic": "Mean"}.get(k, v)) for k, v in ALARM]
        message = query_check("PutMetricAlarm", fields)
        self.assertIn("'PutMetricAlarm.EvaluationPeriods' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 1", message)
        self.assertIn("'PutMetricAlarm.Statistic' failed to satisfy constraint: Member must satisfy enum", message)
        message = json_check("application-autoscaling", "PutScheduledAction", dict(
            SAGEMAKER_TARGET, ScheduledActionName="a:b", Schedule="cron(0 0 * * ? *)"))
        self.assertIn("'PutScheduledAction.ScheduledActionName'", message)
        self.assertIn("regular expression pattern", message)

    def test_timestamps_as_epoch_numbers_pass(self):
        self.assertIsNone(json_check("application-autoscaling", "PutScheduledAction", dict(
            SAGEMAKER_TARGET, ScheduledActionName="a", Schedule="at(2030-01-01T00:00:00)",
            StartTime=1700000000.5, ScalableTargetAction={"MinCapacity": 1})))


class ProseRules(unittest.TestCase):
    def step_policy(self, steps):
        return json_check("application-autoscaling", "PutScalingPolicy", dict(
            SAGEMAKER_TARGET, PolicyName="p", PolicyType="StepScaling",
            StepScalingPolicyConfiguration={"StepAdjustments": steps}))

    def test_step_adjustments(self):
        self.assertIsNone(self.step_policy([
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 2}]))
        self.assertIn("can't both be null", self.step_policy([{"ScalingAdjustment": 1}]))
        self.assertIn("positive upper bound needs a step adjustment with a null upper bound", self.step_policy([
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1}]))
        self.assertIn("negative lower bound needs", self.step_policy([
            {"MetricIntervalLowerBound": -10, "ScalingAdjustment": 1}]))
        self.assertIn("gap", self.step_policy([
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 2}]))

    def test_alarm_windows(self):
        def alarm(period, evaluations):
            return query_check("PutMetricAlarm", [(k, {"Period": period, "EvaluationPeriods": evaluations}.get(k, v))
                                                  for k, v in ALARM])
        self.assertIsNone(alarm("60", "1440"))
        self.assertIn("at most 86400 seconds", alarm("60", "1441"))
        self.assertIsNone(alarm("3600", "168"))
        self.assertIn("at most 604800 seconds", alarm("3600", "169"))
        self.assertIn("10, 30 or a multiple of 60", alarm("45", "1"))

    def test_schedules_and_time_zones(self):
        def action(schedule, zone):
            return json_check("application-autoscaling", "PutScheduledAction", dict(
                SAGEMAKER_TARGET, ScheduledActionName="n", Schedule=schedule, Timezone=zone))
        self.assertIsNone(action("cron(0 8 ? * MON-FRI *)", "Europe/Berlin"))
        self.assertIsNone(action("rate(5 minutes)", "UTC"))
        self.assertIn("six-field cron", action("cron(0 8 ? * MON-FRI)", "Europe/Berlin"))
        self.assertIn("alias of America/New_York", action("at(2030-01-01T00:00:00)", "US/Eastern"))
        self.assertIn("IANA database", action("at(2030-01-01T00:00:00)", "Mars/Olympus"))


class JavaPatterns(unittest.TestCase):
    def test_unicode_classes_and_surrogate_pairs(self):
        letters = patterns.compiled(r"[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]+")
        self.assertTrue(letters.fullmatch("héllo wörld!"))
        self.assertFalse(letters.fullmatch("a\tb"))
        text = patterns.compiled(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*")
        self.assertTrue(text.fullmatch("endpoint/x/variant/y\U0001F600"))
        self.assertFalse(text.fullmatch("\x01"))

    def test_every_model_pattern_translates(self):
        for service in models.SERVICES:
            for shape in models.model(service)["shapes"].values():
                if "pattern" in shape:
                    self.assertIsNotNone(patterns.compiled(shape["pattern"]), shape["pattern"])


class FaultDecisions(unittest.TestCase):
    def decisions(self, seed, operation="RegisterScalableTarget"):
        faults = Faults()
        self.assertEqual(faults.install({"access_key": "k", "seed": seed, "rate": 0.5}), "")
        req = AwsRequest("application-autoscaling", operation, "k", "json", b"{}")
        return [faults.decide(req) for _ in range(200)]

    def test_a_seed_gives_the_same_faults(self):
        self.assertEqual(self.decisions(7), self.decisions(7))
        self.assertNotEqual(self.decisions(7), self.decisions(8))

    def test_reads_never_lose_writes_and_other_keys_are_untouched(self):
        self.assertNotIn("lost_write", self.decisions(7, "DescribeScalableTargets"))
        faults = Faults()
        faults.install({"access_key": "k", "seed": 1, "rate": 1.0})
        other = AwsRequest("sagemaker", "CreateEndpoint", "test", "json", b"{}")
        self.assertIsNone(faults.decide(other))

    def test_a_bad_profile_is_refused_with_the_field(self):
        self.assertIn("kinds", Faults().install({"access_key": "k", "rate": 1, "kinds": ["boom"]}))
        self.assertIn("rate", Faults().install({"access_key": "k", "rate": 2}))


class InProcess(unittest.TestCase):
    """The layer in process (werkzeug's test client), logging to a temporary file."""

    def setUp(self):
        from werkzeug.test import Client
        handle, self.log = tempfile.mkstemp()
        os.close(handle)
        self.client = Client(Gateway(self.log))

    def tearDown(self):
        os.remove(self.log)

    def send(self, key, operation, params):
        return self.client.post("/", data=json.dumps(params), headers={
            "X-Amz-Target": f"AnyScaleFrontendService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/"
                             "application-autoscaling/aws4_request, SignedHeaders=host, Signature=x"})


class GatewayRequests(InProcess):
    """Log, stats and answers."""

    def test_log_stats_and_validation(self):
        self.assertEqual(self.send("a", "RegisterScalableTarget",
                                   dict(SAGEMAKER_TARGET, MinCapacity=1, MaxCapacity=2)).status_code, 200)
        bad = self.send("a", "PutScalingPolicy", dict(SAGEMAKER_TARGET, PolicyName="x" * 300))
        self.assertEqual(bad.status_code, 400)
        self.assertEqual(json.loads(bad.data)["__type"], "ValidationException")
        self.send("b", "DescribeScalableTargets", {"ServiceNamespace": "sagemaker"})
        with open(self.log) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([(x["operation"], x["access_key"], x["status"]) for x in lines], [
            ("RegisterScalableTarget", "a", 200), ("PutScalingPolicy", "a", 400), ("DescribeScalableTargets", "b", 200)])
        self.assertEqual(lines[0]["service"], "application-autoscaling")
        self.assertIn("PolicyName", lines[1]["error"])
        stats = self.client.get("/_local_aws/stats?access_key=a").json
        self.assertEqual((stats["requests"], stats["reads"], stats["writes"], stats["validation_errors"]), (2, 0, 2, 1))
        self.assertEqual(self.client.get("/_local_aws/stats").json["requests"], 3)

    def test_throttle_for_one_key_only(self):
        self.client.post("/_local_aws/faults", json={"access_key": "chaos", "seed": 1, "rate": 1.0, "kinds": ["throttle"]})
        throttled = self.send("chaos", "DescribeScalableTargets", {"ServiceNamespace": "sagemaker"})
        self.assertEqual((throttled.status_code, json.loads(throttled.data)["__type"]), (400, "ThrottlingException"))
        self.assertEqual(self.send("test", "DescribeScalableTargets", {"ServiceNamespace": "sagemaker"}).status_code, 200)
        self.assertEqual(self.client.get("/_local_aws/stats?access_key=chaos").json["faults"], {"throttle": 1})

    def test_a_rest_request_is_logged_by_its_operation_name(self):
        self.client.post("/2015-03-31/functions/guard/invocations", data=b"{}", headers={
            "X-Amz-Invocation-Type": "Event",
            "Authorization": "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, "
                             "SignedHeaders=host, Signature=x"})
        with open(self.log) as f:
            self.assertEqual([(x["service"], x["operation"]) for x in map(json.loads, f)], [("lambda", "Invoke")])

    def test_a_missing_policy_is_object_not_found(self):
        answer = self.send("a", "DeleteScalingPolicy", dict(SAGEMAKER_TARGET, PolicyName="none"))
        self.assertEqual((answer.status_code, json.loads(answer.data)["__type"]), (400, "ObjectNotFoundException"))


class SeveralAccounts(InProcess):
    """Credentials from sts:AssumeRole act in the role's account (moto), a
    role must exist to be assumed (AWS), and the log, stats and faults follow
    the key that assumed it."""

    SPOKE = "111111111111"
    HUB = "123456789012"  # moto's default account: any key not registered or assumed

    def query(self, key, service, fields):
        return self.client.post("/", data=urlencode(fields), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/{service}/aws4_request, "
                             "SignedHeaders=host, Signature=x"})

    def register(self, key, account):
        return self.client.post("/_local_aws/accounts", json={"access_key": key, "account": account})

    def create_role(self, key, name):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"AWS": f"arn:aws:iam::{self.HUB}:root"}}]}
        answer = self.query(key, "iam", [("Action", "CreateRole"), ("Version", "2010-05-08"), ("RoleName", name),
                                         ("AssumeRolePolicyDocument", json.dumps(trust))])
        self.assertEqual(answer.status_code, 200, answer.data)
        return f"arn:aws:iam::{self.SPOKE}:role/{name}"

    def assume(self, key, role_arn):
        return self.query(key, "sts", [("Action", "AssumeRole"), ("Version", "2011-06-15"),
                                       ("RoleArn", role_arn), ("RoleSessionName", "guard-session")])

    def targets(self, key):
        answer = self.send(key, "DescribeScalableTargets", {"ServiceNamespace": "sagemaker"})
        return [t["ResourceId"] for t in json.loads(answer.data)["ScalableTargets"]]

    def log_lines(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def test_assumed_credentials_act_in_the_roles_account(self):
        self.assertEqual(self.register("setup-spoke", self.SPOKE).status_code, 200)
        role = self.create_role("setup-spoke", "spoke-routing")
        answer = self.assume("guard", role)
        self.assertEqual(answer.status_code, 200, answer.data)
        issued = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", answer.data).group(1).decode()
        target = dict(SAGEMAKER_TARGET, ResourceId="endpoint/in-spoke/variant/v", MinCapacity=1, MaxCapacity=2)
        self.assertEqual(self.send(issued, "RegisterScalableTarget", target).status_code, 200)

        self.assertIn("endpoint/in-spoke/variant/v", self.targets("setup-spoke"))
        self.assertNotIn("endpoint/in-spoke/variant/v", self.targets("guard"))
        register = next(x for x in self.log_lines() if x["operation"] == "RegisterScalableTarget")
        self.assertEqual((register["account"], register["role"], register["assumed_by"]), (self.SPOKE, role, "guard"))
        assume = next(x for x in self.log_lines() if x["operation"] == "AssumeRole")
        self.assertEqual((assume["service"], assume["account"], assume.get("role")), ("sts", self.HUB, None))
        # The tool's key counts its calls in every account; `account` narrows them.
        mine = self.client.get("/_local_aws/stats?access_key=guard").json
        self.assertEqual(mine["by_operation"], {"AssumeRole": 1, "RegisterScalableTarget": 1, "DescribeScalableTargets": 1})
        in_spoke = self.client.get(f"/_local_aws/stats?access_key=guard&account={self.SPOKE}").json
        self.assertEqual(in_spoke["by_operation"], {"RegisterScalableTarget": 1})

    def test_a_role_that_does_not_exist_is_access_denied(self):
        missing = f"arn:aws:iam::{self.SPOKE}:role/never-created"
        answer = self.assume("guard", missing)
        self.assertEqual(answer.status_code, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", answer.data)
        self.assertIn(f"User: arn:aws:iam::{self.HUB}:root is not authorized to perform: sts:AssumeRole "
                      f"on resource: {missing}".encode(), answer.data)

    def test_sts_requests_are_validated(self):
        answer = self.query("guard", "sts", [("Action", "AssumeRole"), ("Version", "2011-06-15"),
                                             ("RoleArn", f"arn:aws:iam::{self.SPOKE}:role/r"), ("RoleSessionName", "s")])
        self.assertEqual(answer.status_code, 400)
        self.assertIn(b"<Code>ValidationError</Code>", answer.data)
        self.assertIn(b"'AssumeRole.RoleSessionName' failed to satisfy constraint: "
                      b"Member must have length greater than or equal to 2", answer.data)

    def test_faults_of_a_key_reach_the_credentials_it_assumed(self):
        self.register("setup-spoke", self.SPOKE)
        answer = self.assume("guard", self.create_role("setup-spoke", "spoke-faults"))
        issued = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", answer.data).group(1).decode()
        self.client.post("/_local_aws/faults", json={"access_key": "guard", "rate": 1.0, "kinds": ["throttle"]})
        self.assertEqual(self.send(issued, "DescribeScalableTargets", {"ServiceNamespace": "sagemaker"}).status_code, 400)
        self.assertEqual(self.send("setup-spoke", "DescribeScalableTargets",
                                   {"ServiceNamespace": "sagemaker"}).status_code, 200)

    def test_a_registration_names_its_bad_field(self):
        answer = self.register("k", "12345")
        self.assertEqual(answer.status_code, 400)
        self.assertIn("account: expected 12 digits or null, got '12345'", answer.json["error"])
        self.assertIn("access_key", self.client.post("/_local_aws/accounts", json={"account": self.SPOKE}).json["error"])


if __name__ == "__main__":
    unittest.main()
