//! The local AWS for integration tests: one moto server per test binary,
//! started on a free loopback port from the project's virtualenv, and the
//! real SDK clients pointed at it through the endpoint URL.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use autoscaling_guard::aws::Clients;
use autoscaling_guard::config::Settings;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_sagemaker::types::{
    AsyncInferenceConfig, AsyncInferenceOutputConfig, ContainerDefinition, ProductionVariant,
    ProductionVariantInstanceType, ProductionVariantServerlessConfig, Tag,
};

struct Moto {
    url: String,
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn start_moto() -> Moto {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv-moto/bin/python"));
    assert!(
        python.exists(),
        "the local AWS is not installed ({} is missing): run scripts/ensure-moto.sh, \
         or the whole suite with scripts/test.sh",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(root.join("scripts/local_aws.py"))
        .arg(std::process::id().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read moto's port");
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("moto did not start: {line:?}"));
    Moto {
        url: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    }
}

pub fn moto_url() -> &'static str {
    &MOTO.get_or_init(start_moto).url
}

/// A name no other test in this binary uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The access key id the tool's own clients sign with. Setup and assertions
/// sign with "test", so the local AWS's operation log and fault injection
/// tell the tool's requests apart (scripts/check_iam.py reads that log).
pub const TOOL_KEY: &str = "guard";

pub fn sdk_config() -> SdkConfig {
    sdk_config_with_key("test")
}

/// An SDK config whose requests are signed with this access key id: the
/// local AWS counts and faults requests by it (see scripts/localaws).
pub fn sdk_config_with_key(key: &str) -> SdkConfig {
    let creds = aws_sdk_sagemaker::config::Credentials::new(key, "test", None, None, "tests");
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(aws_sdk_sagemaker::config::SharedCredentialsProvider::new(
            creds,
        ))
        // As the standard chain sets it: the AssumeRole provider reads it.
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .build()
}

/// The built binary as an operator runs it against the local AWS, signing
/// with `key` and never reaching for other credentials or the Lambda
/// runtime; callers add the command and its settings.
pub fn tool(key: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"));
    cmd.env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", "test");
    cmd
}

pub fn clients() -> Clients {
    Clients::new(&sdk_config())
}

/// The tool's clients, signing with their own access key id.
pub fn clients_with_key(key: &str) -> Clients {
    Clients::new(&sdk_config_with_key(key))
}

/// One HTTP/1.1 request to the local AWS (connection closed after the
/// answer); returns the body, panicking on an answer other than 2xx.
fn http(method: &str, path: &str, headers: &str, body: &str) -> String {
    let addr = moto_url().trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to the local AWS");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send to the local AWS");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("read the local AWS's answer");
    let (head, text) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    assert!(
        head.starts_with("HTTP/1.1 20") || head.starts_with("HTTP/1.0 20"),
        "{method} {path}: {head}\n{text}"
    );
    text.to_string()
}

/// One request to the local AWS's control API; returns the JSON body.
fn control(method: &str, path: &str, body: &str) -> serde_json::Value {
    let json = http(method, path, "Content-Type: application/json\r\n", body);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{method} {path}: {e}: {json:?}"))
}

/// Makes a share `rate` (0 to 1) of the requests signed with `key` fail with
/// one of `kinds` ("throttle", "500", "503", "reset", "lost_write"), drawn
/// from a generator seeded with `seed`. Replaces the key's earlier profile.
pub fn set_faults(key: &str, seed: u64, rate: f64, kinds: &[&str]) {
    let body = serde_json::json!({
        "access_key": key, "seed": seed, "rate": rate, "kinds": kinds, "operations": null,
    });
    control("POST", "/_local_aws/faults", &body.to_string());
}

/// Like [`set_faults`], but only requests for the named operations (e.g.
/// "PutScalingPolicy") meet faults.
pub fn set_faults_on(key: &str, seed: u64, rate: f64, kinds: &[&str], operations: &[&str]) {
    let body = serde_json::json!({
        "access_key": key, "seed": seed, "rate": rate, "kinds": kinds, "operations": operations,
    });
    control("POST", "/_local_aws/faults", &body.to_string());
}

/// Empties the local AWS (moto's own reset): for tests whose drift checks
/// must see no account but their own. Fault profiles and stats stay.
pub fn reset_account() {
    control("POST", "/moto-api/reset", "");
}

/// Sets moto's own configuration (POST /moto-api/config), e.g.
/// `{"lambda": {"use_docker": false}}`: Lambda answers Invoke without
/// running the function (no container engine here).
pub fn moto_config(config: &serde_json::Value) {
    control("POST", "/moto-api/config", &config.to_string());
}

/// Requests signed with `key` meet no faults any more.
pub fn clear_faults(key: &str) {
    let body = serde_json::json!({ "access_key": key, "rate": 0 });
    control("POST", "/_local_aws/faults", &body.to_string());
}

/// What the local AWS saw from `key`: {"requests", "reads", "writes",
/// "by_operation": {op: n}, "faults": {kind: n}, "validation_errors"}.
pub fn local_aws_stats(key: &str) -> serde_json::Value {
    control(
        "GET",
        &format!("/_local_aws/stats?access_key={}", encode(key)),
        "",
    )
}

/// Like [`local_aws_stats`], counting only the requests that acted in
/// `account`; credentials `key` got from sts:AssumeRole count as `key`'s.
pub fn local_aws_stats_in(key: &str, account: &str) -> serde_json::Value {
    control(
        "GET",
        &format!(
            "/_local_aws/stats?access_key={}&account={account}",
            encode(key)
        ),
        "",
    )
}

/// Requests signed with `key` act in `account` (12 digits), as an IAM
/// user's key of that account would: setup and assertions in a spoke.
pub fn act_in_account(key: &str, account: &str) {
    let body = serde_json::json!({ "access_key": key, "account": account });
    control("POST", "/_local_aws/accounts", &body.to_string());
}

/// Creates the role `name` in the account `key` acts in: the local AWS
/// refuses AssumeRole of a missing role (it evaluates no trust policy).
pub fn create_role(key: &str, name: &str) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*"}}]}"#;
    let form = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={}&AssumeRolePolicyDocument={}",
        encode(name),
        encode(trust)
    );
    let headers = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential={key}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x\r\n"
    );
    http("POST", "/", &headers, &form);
}

/// Percent-encoding of everything but the unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The tool, signing with its own key.
pub fn reconciler(settings: Settings) -> autoscaling_guard::app::AwsReconciler {
    autoscaling_guard::app::reconciler(&clients_with_key(TOOL_KEY), settings)
}

/// How a test variant is hosted.
pub enum Hosting {
    Instances(&'static str, i32),
    Serverless,
}

pub struct VariantSpec {
    pub name: &'static str,
    pub hosting: Hosting,
}

pub fn instances(name: &'static str, instance_type: &'static str, count: i32) -> VariantSpec {
    VariantSpec {
        name,
        hosting: Hosting::Instances(instance_type, count),
    }
}

pub fn serverless(name: &'static str) -> VariantSpec {
    VariantSpec {
        name,
        hosting: Hosting::Serverless,
    }
}

/// Creates a model, an endpoint config and an endpoint (InService at once
/// on moto) and returns the endpoint name.
pub async fn create_endpoint(
    prefix: &str,
    variants: &[VariantSpec],
    tags: &[(&str, &str)],
    is_async: bool,
) -> String {
    create_endpoint_in(&clients().sagemaker, prefix, variants, tags, is_async).await
}

/// [`create_endpoint`] with the given client (another account or Region).
pub async fn create_endpoint_in(
    sm: &aws_sdk_sagemaker::Client,
    prefix: &str,
    variants: &[VariantSpec],
    tags: &[(&str, &str)],
    is_async: bool,
) -> String {
    let name = unique(prefix);
    let model = format!("{name}-model");
    sm.create_model()
        .model_name(&model)
        .execution_role_arn("arn:aws:iam::123456789012:role/sagemaker")
        .primary_container(
            ContainerDefinition::builder()
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1")
                .build(),
        )
        .send()
        .await
        .expect("create model");
    let mut config = sm
        .create_endpoint_config()
        .endpoint_config_name(format!("{name}-config"));
    for v in variants {
        let pv = ProductionVariant::builder()
            .variant_name(v.name)
            .model_name(&model);
        let pv = match v.hosting {
            Hosting::Instances(t, n) => pv
                .instance_type(ProductionVariantInstanceType::from(t))
                .initial_instance_count(n),
            Hosting::Serverless => pv.serverless_config(
                ProductionVariantServerlessConfig::builder()
                    .memory_size_in_mb(2048)
                    .max_concurrency(5)
                    .build(),
            ),
        };
        config = config.production_variants(pv.build());
    }
    if is_async {
        config = config.async_inference_config(
            AsyncInferenceConfig::builder()
                .output_config(
                    AsyncInferenceOutputConfig::builder()
                        .s3_output_path("s3://bucket/out/")
                        .build(),
                )
                .build(),
        );
    }
    config.send().await.expect("create endpoint config");
    let mut endpoint = sm
        .create_endpoint()
        .endpoint_name(&name)
        .endpoint_config_name(format!("{name}-config"));
    for (k, v) in tags {
        endpoint = endpoint.tags(Tag::builder().key(*k).value(*v).build());
    }
    endpoint.send().await.expect("create endpoint");
    name
}

/// A registered target's (min, max), or None.
pub async fn target(endpoint: &str, variant: &str) -> Option<(i32, i32)> {
    target_in(&clients().autoscaling, endpoint, variant).await
}

/// [`target`] with the given client (another account or Region).
pub async fn target_in(
    aas: &aws_sdk_applicationautoscaling::Client,
    endpoint: &str,
    variant: &str,
) -> Option<(i32, i32)> {
    let out = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(format!("endpoint/{endpoint}/variant/{variant}"))
        .send()
        .await
        .expect("describe targets");
    out.scalable_targets()
        .first()
        .map(|t| (t.min_capacity(), t.max_capacity()))
}

/// Policies on a variant: (name, target value, scale-in, scale-out).
/// A policy as the tests compare it: (name, target value, scale-in, scale-out).
pub type PolicyRow = (String, Option<f64>, Option<i32>, Option<i32>);

pub async fn policies(endpoint: &str, variant: &str) -> Vec<PolicyRow> {
    policies_in(&clients().autoscaling, endpoint, variant).await
}

/// [`policies`] with the given client (another account or Region).
pub async fn policies_in(
    aas: &aws_sdk_applicationautoscaling::Client,
    endpoint: &str,
    variant: &str,
) -> Vec<PolicyRow> {
    let rid = format!("endpoint/{endpoint}/variant/{variant}");
    let out = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&rid)
        .send()
        .await
        .expect("describe policies");
    let mut found: Vec<_> = out
        .scaling_policies()
        .iter()
        .filter(|p| p.resource_id() == rid)
        .map(|p| {
            let tt = p.target_tracking_scaling_policy_configuration();
            (
                p.policy_name().to_string(),
                tt.map(|c| c.target_value()),
                tt.and_then(|c| c.scale_in_cooldown()),
                tt.and_then(|c| c.scale_out_cooldown()),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

pub fn dimension() -> ScalableDimension {
    ScalableDimension::SageMakerVariantDesiredInstanceCount
}

/// Registers a target by hand, as a person (or an earlier run) would.
pub async fn register_target(resource_id: &str, min: i32, max: i32) {
    clients()
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .min_capacity(min)
        .max_capacity(max)
        .send()
        .await
        .unwrap();
}

/// Puts an invocations-per-instance target-tracking policy by hand, with
/// (scale-in, scale-out) cooldowns or none.
pub async fn put_invocations_policy(
    resource_id: &str,
    name: &str,
    target_value: f64,
    cooldowns: Option<(i32, i32)>,
) {
    let mut config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(target_value)
        .predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::SageMakerVariantInvocationsPerInstance)
                .build()
                .unwrap(),
        );
    if let Some((scale_in, scale_out)) = cooldowns {
        config = config
            .scale_in_cooldown(scale_in)
            .scale_out_cooldown(scale_out);
    }
    clients()
        .autoscaling
        .put_scaling_policy()
        .policy_name(name)
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(config.build().unwrap())
        .send()
        .await
        .unwrap();
}

pub mod fleet;
pub mod metrics;
