//! The binary's command-line face: exit codes and messages. These run the
//! built binary; none of them needs AWS, because each fails before a call.

use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"));
    cmd.args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        // Nothing here may reach AWS: point the SDK at a closed port.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

fn event(name: &str) -> String {
    format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn invalid_configuration_exits_2_naming_variable_and_value() {
    let out = run(&["plan", "--endpoint", "x"], &[("MAX_CAPACITY", "many")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MAX_CAPACITY=\"many\""), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn min_above_max_exits_2() {
    let out = run(
        &["plan", "--endpoint", "x"],
        &[("MIN_CAPACITY", "3"), ("MAX_CAPACITY", "2")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MIN_CAPACITY (3)"));
}

#[test]
fn the_lambda_face_refuses_to_start_on_bad_configuration() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"));
    let out = cmd
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("SCALE_IN_COOLDOWN", "-5")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SCALE_IN_COOLDOWN") && stderr.contains("-5"),
        "{stderr}"
    );
}

#[test]
fn a_bad_endpoint_name_exits_2() {
    let out = run(&["reconcile", "--endpoint", "not a name"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SageMaker endpoint name"));
}

#[test]
fn an_event_file_that_is_not_json_exits_2() {
    let out = run(
        &["handle", "--event", &event("malformed-not-json.json")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not JSON"));
}

#[test]
fn a_malformed_event_prints_the_lambda_error_shape() {
    let out = run(
        &["handle", "--event", &event("malformed-unknown-source.json")],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["errorType"], "InvalidEvent");
    assert!(body["errorMessage"].as_str().unwrap().contains("aws.ec2"));
}

#[test]
fn ignored_statuses_need_no_aws_call() {
    let out = run(
        &["handle", "--event", &event("endpoint-creating.json")],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["action"], "ignored");
    assert_eq!(body["status"], "CREATING");
}

#[test]
fn a_bad_policy_file_exits_2_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("ag-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        r#"{"instance": {"min_capacity": 1, "max_capacity": 4,
            "scheduled_actions": [{"name": "x", "schedule": "rate(5 weeks)", "min_capacity": 1}]}}"#,
    )
    .unwrap();
    let out = run(
        &[
            "--policy",
            path.to_str().unwrap(),
            "plan",
            "--endpoint",
            "x",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("instance.scheduled_actions[0].schedule"),
        "{stderr}"
    );
    assert!(stderr.contains("minute(s), hour(s) or day(s)"), "{stderr}");
}

#[test]
fn a_bad_policy_set_variable_exits_2() {
    let out = run(
        &["plan", "--endpoint", "x"],
        &[(
            "POLICY_SET",
            r#"{"instance": {"min_capacity": 0, "max_capacity": 4}}"#,
        )],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("POLICY_SET") && stderr.contains("instance.min_capacity"),
        "{stderr}"
    );
}

#[test]
fn a_bad_release_duration_exits_2_naming_the_value() {
    for (duration, expected) in [
        ("2 hours", "\"2 hours\" is not a release duration"),
        ("48h", "at most 24h"),
        ("0m", "at least 1m"),
    ] {
        let out = run(&["release", "--endpoint", "fraud", "--for", duration], &[]);
        assert_eq!(out.status.code(), Some(2), "{duration}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--for") && stderr.contains(expected),
            "{duration}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = run(&["release", "--endpoint", "not a name"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SageMaker endpoint name"));
}

#[test]
fn an_unwritable_jsonl_file_exits_2_before_any_aws_call() {
    let out = run(
        &["drift-check", "--jsonl", "/nonexistent-dir/report.jsonl"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--jsonl: cannot write /nonexistent-dir/report.jsonl"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn an_invalid_rust_log_is_reported_and_log_level_used() {
    let out = run(
        &["handle", "--event", &event("endpoint-creating.json")],
        &[("RUST_LOG", "aws_config=loud"), ("LOG_LEVEL", "info")],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("RUST_LOG=\"aws_config=loud\" is not a valid log filter"),
        "{stderr}"
    );
    // LOG_LEVEL=info took over: the ignored state change is logged.
    assert!(stderr.contains("state change ignored"), "{stderr}");
}
