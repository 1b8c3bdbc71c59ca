//! What an operator relies on, on a mixed fleet on the local AWS: the drift
//! counts, each in its own unit, the same in the table, the JSON, the JSON
//! Lines file and the EMF line; the exit status of `drift-check` and of
//! `handle`; and the JSON logs of a reconcile and a drift check, field by
//! field. A sweep sees the whole account, so this binary has a local AWS of
//! its own and one test.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Output;
use std::sync::{Arc, Mutex};

use autoscaling_guard::app::json_logs;
use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::drift::report::{emf_line, table, DriftReport, DriftSummary};
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::error::ErrorType;
use autoscaling_guard::policy_set::PolicySet;
use serde_json::{json, Value};
use support::*;
use tracing_subscriber::EnvFilter;

/// The standard of this fleet: a target and one policy; asynchronous
/// endpoints track GPU utilization per GPU, which a variant without GPUs
/// cannot take (a variant-level error).
const POLICY_SET: &str = r#"{"instance": {"min_capacity": 1, "max_capacity": 4,
    "target_tracking": [
        {"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance", "target_value": 70}]},
    "async": {"min_capacity": 1, "max_capacity": 4,
    "target_tracking": [{"name": "gpu", "metric": "GPUUtilization", "target_per_core": 50}]}}"#;

const REPORT: SweepOptions = SweepOptions {
    dry_run: false,
    deadline: None,
};

fn settings(mode: DriftMode) -> Settings {
    Settings {
        policy_set: PolicySet::from_json(POLICY_SET).unwrap(),
        drift_mode: mode,
        ..Settings::default()
    }
}

/// Log lines written while it is alive, as the Lambda function writes them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `work` with the function's JSON logs captured; returns its output
/// and every log line, parsed.
async fn logged<T>(work: impl std::future::Future<Output = T>) -> (T, Vec<Value>) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = json_logs(EnvFilter::new("info"), move || writer.clone());
    let out = {
        let _logging = tracing::subscriber::set_default(subscriber);
        work.await
    };
    (out, captured.lines())
}

fn with<'a>(logs: &'a [Value], message: &str) -> Vec<&'a Value> {
    logs.iter().filter(|l| l["message"] == message).collect()
}

impl Captured {
    /// Every line, parsed: each must be one JSON object.
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// The table's counts, by label.
fn table_counts(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let (label, n) = l.trim().rsplit_once(' ').unwrap();
            (label.trim().to_string(), n.parse().unwrap())
        })
        .collect()
}

/// Asserts the summary, the table, the JSON and the EMF line carry the
/// same counts, and returns them by JSON name.
fn counts_everywhere(summary: &DriftSummary, table_text: &str, json: &Value) -> Value {
    let by_name: serde_json::Map<String, Value> = summary
        .counts()
        .iter()
        .map(|(name, _, n)| (name.to_string(), json!(n)))
        .collect();
    assert_eq!(json["summary"], Value::Object(by_name.clone()));
    let emf: Value = serde_json::from_str(&emf_line(summary, DriftMode::Report, 0, None)).unwrap();
    let table = table_counts(table_text);
    for (name, label, n) in summary.counts() {
        assert_eq!(emf[name], n, "EMF {name}");
        assert_eq!(table.get(label), Some(&n), "table {label}: {table_text}");
    }
    assert_eq!(table.len(), summary.counts().len(), "{table_text}");
    let names: Vec<&str> = emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, summary.counts().map(|(name, _, _)| name));
    Value::Object(by_name)
}

/// Asserts a report's counts, in the summary, the table, the JSON and the
/// EMF line alike, are `expected` (unnamed ones 0; AWS call counts aside).
fn assert_counts(report: &DriftReport, expected: &[(&str, u64)]) {
    let counts = counts_everywhere(
        &report.summary,
        &table(report),
        &serde_json::to_value(report).unwrap(),
    );
    assert_eq!(without_calls(counts), without_calls(expect(expected)));
}

fn expect(pairs: &[(&str, u64)]) -> Value {
    let mut all: serde_json::Map<String, Value> = DriftSummary::default()
        .counts()
        .iter()
        .map(|(name, _, _)| (name.to_string(), json!(0)))
        .collect();
    for (name, n) in pairs {
        assert!(all.contains_key(*name), "{name}");
        all.insert(name.to_string(), json!(n));
    }
    Value::Object(all)
}

/// The counts without the AWS call counts, which depend on caching.
fn without_calls(mut counts: Value) -> Value {
    let map = counts.as_object_mut().unwrap();
    map.remove("reads");
    map.remove("writes");
    counts
}

fn cli(args: &[&str]) -> Output {
    support::tool("operations-cli")
        .args(args)
        .env_remove("RUST_LOG")
        .env("POLICY_SET", POLICY_SET)
        .env("DRIFT_MODE", "report")
        .output()
        .unwrap()
}

const SNAKE_OUTCOMES: [&str; 7] = [
    "compliant",
    "drifted",
    "changed",
    "skipped",
    "gone",
    "error",
    "not_reached",
];

/// Every field of every line is plain: no Rust debug form anywhere.
fn assert_plain(line: &Value) {
    for (key, value) in line.as_object().unwrap() {
        assert!(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{key}: {line}"
        );
        if let Some(text) = value.as_str() {
            for debug_form in ["Some(", "None", "(\"", " { ", "\\\""] {
                assert!(!text.contains(debug_form), "{key}: {line}");
            }
        }
    }
    if let Some(outcome) = line.get("outcome") {
        assert!(
            SNAKE_OUTCOMES.contains(&outcome.as_str().unwrap()),
            "{line}"
        );
    }
    if let Some(t) = line.get("error_type") {
        assert!(ErrorType::ALL.iter().any(|e| e.as_str() == t), "{line}");
    }
}

#[tokio::test]
async fn a_mixed_fleet_is_counted_the_same_in_every_output_and_logged_field_by_field() {
    let m5 = |name| instances(name, "ml.m5.large", 1);
    let ok = create_endpoint("ok", &[m5("primary"), m5("canary")], &[], false).await;
    let opted_out = create_endpoint(
        "optout",
        &[m5("a"), m5("b")],
        &[("autoscaling:enabled", "false")],
        false,
    )
    .await;
    let bad_tag = create_endpoint(
        "badtag",
        &[m5("a"), m5("b")],
        &[("autoscaling:max-capacity", "many")],
        false,
    )
    .await;
    let mixed = create_endpoint(
        "mixed",
        &[instances("burst", "ml.t2.medium", 1), m5("plain")],
        &[],
        false,
    )
    .await;
    let gpu = create_endpoint(
        "asyncgpu",
        &[instances("gpu", "ml.g4dn.xlarge", 1), m5("cpu")],
        &[],
        true,
    )
    .await;

    // The logs of one reconcile and one drift check, as the function
    // writes them.
    let r = reconciler(settings(DriftMode::Report));
    let (found, logs) = logged(async {
        let payload = json!({"action": "reconcile", "endpoint": ok});
        autoscaling_guard::handler::handle(&r, payload, Default::default())
            .await
            .unwrap();
        r.drift_check(REPORT).await.unwrap()
    })
    .await;

    // Variants: ok 2 compliant; opted out 2 skipped (the endpoint's
    // outcome, once per variant); bad tag 2 errors (likewise); mixed 1
    // skipped (burstable) and 1 drifted; GPU 1 drifted and 1 error (no GPU
    // to measure).
    assert_counts(
        &found,
        &[
            ("endpoints", 5),
            ("compliant", 2),
            ("drifted", 2),
            ("skipped", 3),
            ("errors", 3),
        ],
    );

    for line in &logs {
        assert_plain(line);
        for key in ["timestamp", "level", "message"] {
            assert!(line.get(key).is_some(), "{key}: {line}");
        }
    }
    let applied = with(&logs, "applied change");
    assert_eq!(applied.len(), 4, "a target and a policy per variant");
    for line in &applied {
        assert_eq!(line["endpoint"], json!(ok));
        assert!(["primary", "canary"].contains(&line["variant"].as_str().unwrap()));
        assert_eq!(line["outcome"], "changed");
        let action = line["action"].as_str().unwrap();
        assert!(
            ["register_target", "put_target_tracking_policy"].contains(&action),
            "{line}"
        );
        assert!(
            line["differences"].as_str().unwrap().contains(" -> "),
            "{line}"
        );
    }
    let reconciled = with(&logs, "reconciled");
    assert_eq!(reconciled.len(), 1, "{reconciled:?}");
    assert_eq!(reconciled[0]["endpoint"], json!(ok));
    assert_eq!(reconciled[0]["action"], "reconcile");
    assert_eq!(reconciled[0]["outcome"], "changed");
    assert_eq!(reconciled[0]["writes"], 4);
    // One line per variant that is not compliant, in report mode too.
    let not_compliant = with(&logs, "variant not compliant");
    let named: Vec<(&str, &str, &str)> = not_compliant
        .iter()
        .map(|l| {
            assert_eq!(l["action"], "drift-check");
            (
                l["endpoint"].as_str().unwrap(),
                l["variant"].as_str().unwrap(),
                l["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (gpu.as_str(), "gpu", "drifted"),
            (gpu.as_str(), "cpu", "error"),
            (mixed.as_str(), "burst", "skipped"),
            (mixed.as_str(), "plain", "drifted"),
        ]
    );
    assert_eq!(not_compliant[1]["error_type"], "PolicyNotApplicable");
    assert!(
        not_compliant[1]["detail"]
            .as_str()
            .unwrap()
            .starts_with("PolicyNotApplicable: policy gpu: ml.m5.large has no GPUs"),
        "{}",
        not_compliant[1]
    );
    assert_eq!(not_compliant[2]["reason"], "burstable_instance");
    assert!(
        not_compliant[3]["differences"]
            .as_str()
            .unwrap()
            .contains("scalable_target registered: false -> true"),
        "{}",
        not_compliant[3]
    );
    let whole = with(&logs, "endpoint not compliant");
    let whole: BTreeMap<&str, &Value> = whole
        .iter()
        .map(|l| (l["endpoint"].as_str().unwrap(), *l))
        .collect();
    assert_eq!(whole.len(), 2);
    assert_eq!(whole[bad_tag.as_str()]["error_type"], "InvalidTag");
    assert_eq!(whole[bad_tag.as_str()]["outcome"], "error");
    assert_eq!(whole[opted_out.as_str()]["reason"], "opted_out");
    assert_eq!(whole[opted_out.as_str()]["outcome"], "skipped");
    let done = with(&logs, "drift check done");
    assert_eq!(done.len(), 1);
    for (name, _, n) in found.summary.counts() {
        assert_eq!(done[0][name], n, "{name}");
    }

    // An endpoint listed whose config cannot be read: it counts as an
    // unreadable endpoint, not as some number of variants. (The other
    // configs are cached from the first sweep.)
    let late = create_endpoint("late", &[m5("a"), m5("b")], &[], false).await;
    set_faults_on(TOOL_KEY, 1, 1.0, &["500"], &["DescribeEndpointConfig"]);
    let unreadable = r.drift_check(REPORT).await.unwrap();
    clear_faults(TOOL_KEY);
    assert_counts(
        &unreadable,
        &[
            ("endpoints", 6),
            ("endpoints_unreadable", 1),
            ("compliant", 2),
            ("drifted", 2),
            ("skipped", 3),
            ("errors", 3),
        ],
    );
    let text = table(&unreadable);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{late} ")))
        .unwrap_or_else(|| panic!("{text}"));
    let row: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        row[..4],
        [
            late.as_str(),
            "error",
            "AwsError:",
            "DescribeEndpointConfig"
        ],
        "{text}"
    );

    // The command line, in a process of its own: the table, the JSON and
    // the JSON Lines file agree, and `drift-check` and `handle` of the same
    // drift check exit alike.
    let dir = std::env::temp_dir().join(format!("ag-operations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jsonl = dir.join("report.jsonl");
    let text = cli(&["drift-check"]);
    let full = cli(&["drift-check", "--json", "--jsonl", jsonl.to_str().unwrap()]);
    let event = format!(
        "{}/events/drift-check-direct.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let handled = cli(&["handle", "--event", &event]);
    for out in [&text, &full, &handled] {
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report: Value = serde_json::from_slice(&full.stdout).unwrap();
    let handled: Value = serde_json::from_slice(&handled.stdout).unwrap();
    let cli_counts = without_calls(report["summary"].clone());
    assert_eq!(
        cli_counts,
        without_calls(expect(&[
            ("endpoints", 6),
            ("compliant", 2),
            ("drifted", 4),
            ("skipped", 3),
            ("errors", 3),
        ]))
    );
    assert_eq!(without_calls(handled["summary"].clone()), cli_counts);
    let table_text = String::from_utf8(text.stdout).unwrap();
    for (name, n) in cli_counts.as_object().unwrap() {
        let (_, label, _) = DriftSummary::default()
            .counts()
            .into_iter()
            .find(|(k, _, _)| k == name)
            .unwrap();
        assert_eq!(
            table_counts(&table_text).get(label).map(|n| json!(n)),
            Some(n.clone()),
            "{label}: {table_text}"
        );
    }
    let records: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds = |kind: &str| records.iter().filter(|r| r["kind"] == kind).count();
    // mixed, GPU and late: two variants each; opted out and bad tag: one
    // record for the whole endpoint each.
    assert_eq!(
        (kinds("variant"), kinds("endpoint"), kinds("summary")),
        (6, 2, 1)
    );
    let last = records.last().unwrap();
    assert_eq!(last["kind"], "summary");
    for (name, n) in report["summary"].as_object().unwrap() {
        assert_eq!(&last[name], n, "{name}");
    }

    // A repair that fails: each variant whose repair failed is an error,
    // once, with its own log line. (The GPU endpoint has a variant in error:
    // it is not repaired, and its drifted variant stays drifted.)
    let remediating = reconciler(settings(DriftMode::Remediate));
    set_faults_on(TOOL_KEY, 2, 1.0, &["500"], &["PutScalingPolicy"]);
    let (failed, logs) = logged(remediating.drift_check(REPORT)).await;
    clear_faults(TOOL_KEY);
    let failed = failed.unwrap();
    assert_counts(
        &failed,
        &[
            ("endpoints", 6),
            ("compliant", 2),
            ("drifted", 4),
            ("skipped", 3),
            ("errors", 6),
        ],
    );
    let repairs_failed: Vec<&Value> = with(&logs, "variant not compliant")
        .into_iter()
        .filter(|l| l["outcome"] == "error" && l["found"] == "drifted")
        .collect();
    assert_eq!(repairs_failed.len(), 3, "{logs:?}");
    for line in repairs_failed {
        assert_plain(line);
        assert_eq!(line["error_type"], "AwsError");
        assert!(
            line["detail"]
                .as_str()
                .unwrap()
                .starts_with("AwsError: PutScalingPolicy failed: InternalFailure"),
            "{line}"
        );
    }
    assert_eq!(with(&logs, "change failed").len(), 3);

    // Repaired: each variant counts once in `remediated`.
    let fixed = remediating.drift_check(REPORT).await.unwrap();
    assert_counts(
        &fixed,
        &[
            ("endpoints", 6),
            ("compliant", 2),
            ("drifted", 4),
            ("remediated", 3),
            ("skipped", 3),
            ("errors", 3),
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
