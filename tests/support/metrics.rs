//! `Invocations` history put on the local AWS with boto3, as CloudWatch
//! would hold it for a SageMaker variant.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Puts one `AWS/SageMaker` `Invocations` datapoint per `(minute, value)`
/// (minutes since the epoch) for the variant.
pub fn put_invocations(endpoint: &str, variant: &str, points: &[(i64, f64)]) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv-moto/bin/python"));
    let script = r#"
import datetime, json, sys
import boto3
from botocore.config import Config
url, endpoint, variant = sys.argv[1:4]
points = json.loads(sys.stdin.read())
cw = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  # The local AWS validates plain bodies; botocore would gzip big ones.
                  config=Config(disable_request_compression=True))
dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
data = [{"MetricName": "Invocations", "Dimensions": dims, "Value": v, "Unit": "None",
         "Timestamp": datetime.datetime.fromtimestamp(m * 60, datetime.timezone.utc)} for m, v in points]
for i in range(0, len(data), 500):
    cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=data[i:i + 500])
"#;
    let mut child = Command::new(python)
        .args(["-c", script, super::moto_url(), endpoint, variant])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run boto3");
    serde_json::to_writer(child.stdin.take().unwrap(), points).unwrap();
    assert!(child.wait().unwrap().success(), "put_metric_data failed");
}
