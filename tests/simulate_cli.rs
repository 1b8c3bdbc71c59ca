//! `autoscaling-guard simulate` as an operator runs it: the built binary,
//! each traffic source, `--compare`, `--out` and `--json`, and bad input
//! refused with exit status 2 before anything is written.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use support::metrics::put_invocations;
use support::{create_endpoint, instances, moto_url};

fn simulate(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"));
    cmd.arg("simulate")
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("POLICY_SET")
        // A CSV or synthetic source must not reach AWS: a closed port.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("LOG_LEVEL", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

fn json_of(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simulate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

const SPIKE: &str = "synthetic:spike?minutes=720&base=200&peak=2000&at=300&width=60&seed=3";

#[test]
fn two_sets_on_a_spike_give_two_columns_and_one_chart() {
    let target_100 = scratch("target-100.json");
    std::fs::write(
        &target_100,
        r#"{"instance": {"min_capacity": 1, "max_capacity": 8, "target_tracking": [
            {"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance", "target_value": 100}]}}"#,
    )
    .unwrap();
    let chart = scratch("compare.svg");
    let out = simulate(
        &[
            "--traffic",
            SPIKE,
            "--instance-type",
            "ml.c5.xlarge",
            "--capacity-per-instance",
            "150",
            "--hourly-price",
            "0.2",
            "--compare",
            target_100.to_str().unwrap(),
            "--out",
            chart.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    let report = json_of(&out);
    assert_eq!(report["traffic"]["minutes"], 720);
    assert_eq!(report["traffic"]["missing_minutes"], 0);
    assert_eq!(
        report["params"]["start_count"], 1,
        "the default set's minimum"
    );
    assert_eq!(report["params"]["startup_minutes"], 10);
    let sets = report["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0]["policy_set"], "the environment's set");
    assert_eq!(sets[1]["policy_set"], target_100.to_str().unwrap());
    for set in sets {
        let f = &set["figures"];
        assert_eq!(f["minutes"], 720);
        assert!(f["scale_out_events"].as_u64().unwrap() > 0, "{f}");
        // Cost is instance-hours at the given price.
        let cost = f["cost"].as_f64().unwrap();
        assert!((cost - 0.2 * f["instance_hours"].as_f64().unwrap()).abs() < 1e-9);
    }
    // Same traffic, different targets: different answers.
    assert_ne!(sets[0]["figures"], sets[1]["figures"]);

    let svg = std::fs::read_to_string(&chart).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the chart parses");
    let sets_drawn: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("data-series") == Some("in-service"))
        .map(|n| n.attribute("data-set").unwrap())
        .collect();
    assert_eq!(sets_drawn, ["0", "1"]);
    let events = doc
        .descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.starts_with("event "))
        })
        .count() as u64;
    let counted: u64 = sets
        .iter()
        .map(|s| {
            let f = &s["figures"];
            ["scale_out_events", "scale_in_events", "scheduled_events"]
                .iter()
                .map(|k| f[k].as_u64().unwrap())
                .sum::<u64>()
        })
        .sum();
    assert_eq!(events, counted);
}

#[test]
fn the_table_names_the_source_the_variant_and_the_chart() {
    let chart = scratch("table.svg");
    let out = simulate(
        &[
            "--traffic",
            SPIKE,
            "--policy",
            &example("policy-set-burst.json"),
            "--instance-type",
            "ml.c5.xlarge",
            "--capacity-per-instance",
            "150",
            "--start-count",
            "2",
            "--startup-minutes",
            "4",
            "--out",
            chart.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "traffic: synthetic:spike?base=200&peak=2000&at=300&width=60&minutes=720\
             &start=2026-01-05T00:00:00Z&noise=0.05&seed=3, 720 minutes from 2026-01-05T00:00Z\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "variant: ml.c5.xlarge x 2 at the start, 150 invocations per minute per instance, start-up 4 min"
        ),
        "{text}"
    );
    assert!(text.contains("minutes above capacity"), "{text}");
    assert!(text.contains(&example("policy-set-burst.json")), "{text}");
    assert!(text
        .trim_end()
        .ends_with(&format!("chart: {}", chart.display())));
}

#[test]
fn a_csv_with_gaps_reports_its_missing_minutes() {
    let csv = scratch("history.csv");
    let mut text = String::from("timestamp,invocations\n");
    for m in 0..120 {
        if !(30..40).contains(&m) {
            text.push_str(&format!(
                "2026-11-20T{:02}:{:02}:00Z,{}\n",
                8 + m / 60,
                m % 60,
                100 + m
            ));
        }
    }
    std::fs::write(&csv, text).unwrap();
    let report = json_of(&simulate(
        &[
            "--traffic",
            csv.to_str().unwrap(),
            "--instance-type",
            "ml.m5.large",
            "--capacity-per-instance",
            "80",
            "--json",
        ],
        &[],
    ));
    assert_eq!(report["traffic"]["start"], "2026-11-20T08:00Z");
    assert_eq!(report["traffic"]["minutes"], 120);
    assert_eq!(report["traffic"]["missing_minutes"], 10);
    assert_eq!(
        report["traffic"]["gaps"],
        serde_json::json!([{"start": "2026-11-20T08:30Z", "minutes": 10}])
    );
    assert!(report["chart"].is_null());
}

#[test]
fn bad_input_exits_2_naming_it_and_writes_no_chart() {
    let chart = scratch("never.svg");
    let bad_set = scratch("bad-set.json");
    std::fs::write(&bad_set, r#"{"instance": {"min_capacity": 0}}"#).unwrap();
    let bad_csv = scratch("bad.csv");
    std::fs::write(
        &bad_csv,
        "timestamp,invocations\n2026-11-20T08:00:00Z,lots\n",
    )
    .unwrap();
    let out_arg = chart.to_str().unwrap();
    for (args, says) in [
        (
            vec![
                "--traffic",
                "synthetic:wave",
                "--instance-type",
                "ml.c5.xlarge",
                "--capacity-per-instance",
                "10",
            ],
            "unknown pattern \"wave\"",
        ),
        (
            vec!["--traffic", SPIKE, "--capacity-per-instance", "10"],
            "--instance-type: required with synthetic:spike",
        ),
        (
            vec![
                "--traffic",
                SPIKE,
                "--instance-type",
                "ml.c5.xlarge",
                "--capacity-per-instance",
                "0",
            ],
            "--capacity-per-instance 0: expected",
        ),
        (
            vec![
                "--traffic",
                SPIKE,
                "--instance-type",
                "ml.t3.medium",
                "--capacity-per-instance",
                "10",
            ],
            "burstable",
        ),
        (
            vec![
                "--traffic",
                bad_csv.to_str().unwrap(),
                "--instance-type",
                "ml.c5.xlarge",
                "--capacity-per-instance",
                "10",
            ],
            "bad.csv:2: invocations \"lots\"",
        ),
        (
            vec![
                "--traffic",
                SPIKE,
                "--instance-type",
                "ml.c5.xlarge",
                "--capacity-per-instance",
                "10",
                "--compare",
                bad_set.to_str().unwrap(),
            ],
            "--compare",
        ),
        (
            vec![
                "--traffic",
                "cloudwatch:shop?days=2",
                "--capacity-per-instance",
                "10",
            ],
            "expected cloudwatch:ENDPOINT/VARIANT",
        ),
    ] {
        let mut args = args.clone();
        args.extend(["--out", out_arg]);
        let out = simulate(&args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!chart.exists(), "{args:?} wrote a chart");
    }
}

#[tokio::test]
async fn cloudwatch_history_uses_the_variants_type_count_and_tags() {
    let endpoint = create_endpoint(
        "sim-cli",
        &[instances("primary", "ml.c5.xlarge", 2)],
        &[("autoscaling:max-capacity", "3")],
        false,
    )
    .await;
    // Two hours far above what 3 instances serve.
    let now = chrono::Utc::now().timestamp() / 60;
    let recent: Vec<(i64, f64)> = (now - 120..now).map(|m| (m, 2000.0)).collect();
    put_invocations(&endpoint, "primary", &recent);
    let source = format!("cloudwatch:{endpoint}/primary?days=1");
    let report = json_of(&simulate(
        &[
            "--traffic",
            &source,
            "--capacity-per-instance",
            "100",
            "--json",
        ],
        &[
            ("AWS_ENDPOINT_URL", moto_url()),
            ("AWS_ACCESS_KEY_ID", "guard"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    ));
    assert_eq!(
        report["traffic"]["source"],
        format!("cloudwatch:{endpoint}/primary?days=1")
    );
    assert_eq!(report["traffic"]["minutes"], 1440);
    // Everything before the two hours is missing (a minute may tick
    // between putting the data and reading it).
    let missing = report["traffic"]["missing_minutes"].as_u64().unwrap();
    assert!((1319..=1321).contains(&missing), "{missing}");
    assert_eq!(report["params"]["instance_type"], "ml.c5.xlarge");
    assert_eq!(report["params"]["start_count"], 2);
    let f = &report["sets"][0]["figures"];
    // The endpoint's max-capacity tag holds it at 3 however high the traffic.
    assert_eq!(f["peak_in_service"], 3, "{f}");
    assert!(f["failed_invocations"].as_f64().unwrap() > 0.0);
}
