"""spoke.yaml deployed on the local AWS by CloudFormation, as the README's
StackSet deploys it: in a spoke account, in two Regions.

It proves what linting cannot: the template deploys; only the stack in
RoleRegion creates the account's role, under the name the hub assumes; the
hub can assume it and then acts in the spoke account; and each Region's
IN_SERVICE events (only those) reach the hub's event bus.
A queue on the hub's bus stands in for the function. The local AWS does not
evaluate trust or event bus policies (scripts/test_check_iam.py checks
them as documents).

usage: .venv-moto/bin/python -m unittest -q scripts/test_spoke_stack.py
"""

import json
import os
import sys
import threading
import unittest
import urllib.request

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localaws.gateway import serve  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HUB, SPOKE = "123456789012", "111111111111"
HUB_REGION, OTHER_REGION = "eu-west-1", "us-east-1"
ROLE = "autoscaling-guard-spoke"
BUS = "autoscaling-guard-org"


class SpokeStack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = serve()
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"
        cls.addClassCleanup(cls.server.shutdown)
        # The spoke's administrator signs with a key that acts in the spoke.
        request = urllib.request.Request(f"{cls.url}/_local_aws/accounts", method="POST",
                                         data=json.dumps({"access_key": "spoke-admin", "account": SPOKE}).encode())
        urllib.request.urlopen(request).read()
        cls.queue = cls.hub_bus_queue()
        with open(os.path.join(ROOT, "spoke.yaml")) as f:
            body = f.read()
        parameters = {"HubAccountId": HUB,
                      "HubFunctionRoleArn": f"arn:aws:iam::{HUB}:role/autoscaling-guard-GuardFunctionRole-X",
                      "HubEventBusArn": f"arn:aws:events:{HUB_REGION}:{HUB}:event-bus/{BUS}",
                      "RoleName": ROLE, "RoleRegion": HUB_REGION}
        cls.stacks = {}
        for region in (HUB_REGION, OTHER_REGION):
            cfn = cls.client("cloudformation", "spoke-admin", region)
            cfn.create_stack(StackName="autoscaling-guard-spoke", TemplateBody=body,
                             Capabilities=["CAPABILITY_NAMED_IAM"],
                             Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
            cls.stacks[region] = cfn.describe_stacks(StackName="autoscaling-guard-spoke")["Stacks"][0]

    @classmethod
    def client(cls, service, key, region=HUB_REGION, **credentials):
        return boto3.client(service, endpoint_url=cls.url, region_name=region, aws_access_key_id=key,
                            aws_secret_access_key="x", **credentials)

    @classmethod
    def hub_bus_queue(cls):
        """The hub's bus with a rule as the function's, delivering to a queue."""
        events, sqs = cls.client("events", "hub"), cls.client("sqs", "hub")
        events.create_event_bus(Name=BUS)
        url = sqs.create_queue(QueueName="function-stand-in")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"],
                   "detail": {"EndpointStatus": ["IN_SERVICE"]}}
        events.put_rule(Name="endpoint-in-service", EventBusName=BUS, EventPattern=json.dumps(pattern))
        events.put_targets(Rule="endpoint-in-service", EventBusName=BUS, Targets=[{"Id": "function", "Arn": arn}])
        return url

    def received(self):
        sqs = self.client("sqs", "hub")
        messages = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        for m in messages:
            sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    def test_the_stacks_deploy_and_one_region_creates_the_role(self):
        for region, stack in self.stacks.items():
            self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", region)
        outputs = {region: {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
                   for region, stack in self.stacks.items()}
        self.assertEqual(outputs, {HUB_REGION: {"SpokeRoleArn": f"arn:aws:iam::{SPOKE}:role/{ROLE}"},
                                   OTHER_REGION: {}})
        roles = self.client("iam", "spoke-admin").list_roles()["Roles"]
        self.assertEqual(sum(r["RoleName"] == ROLE for r in roles), 1)
        # One forwarding role per Region, each with a generated name.
        self.assertEqual(sum("ForwardRole" in r["RoleName"] for r in roles), 2)

    def test_the_hub_assumes_the_role_and_acts_in_the_spoke_account(self):
        credentials = self.client("sts", "guard").assume_role(
            RoleArn=f"arn:aws:iam::{SPOKE}:role/{ROLE}", RoleSessionName="autoscaling-guard")["Credentials"]
        sts = self.client("sts", credentials["AccessKeyId"], aws_session_token=credentials["SessionToken"])
        self.assertEqual(sts.get_caller_identity()["Arn"],
                         f"arn:aws:sts::{SPOKE}:assumed-role/{ROLE}/autoscaling-guard")

    def test_each_regions_in_service_events_reach_the_hub_bus(self):
        self.received()
        for region in (HUB_REGION, OTHER_REGION):
            events = self.client("events", "spoke-admin", region)
            for status in ("CREATING", "IN_SERVICE"):
                events.put_events(Entries=[{
                    "Source": "aws.sagemaker", "DetailType": "SageMaker Endpoint State Change",
                    "Detail": json.dumps({"EndpointName": f"e-{region}", "EndpointStatus": status})}])
        # AWS keeps a forwarded event's `account` and `region` (where it
        # happened); moto drops the one and stamps the bus's Region on the
        # other, so the endpoint's name tells where each came from here.
        got = sorted((e["detail"]["EndpointName"], e["detail"]["EndpointStatus"]) for e in self.received())
        self.assertEqual(got, sorted((f"e-{region}", "IN_SERVICE") for region in (HUB_REGION, OTHER_REGION)))


if __name__ == "__main__":
    unittest.main()
