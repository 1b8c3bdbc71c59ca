//! The command line's account options, against the local AWS: an operator
//! on the hub works in one spoke place, or checks every place at once.

mod support;

use std::process::{Command, Output};

use autoscaling_guard::aws::Clients;
use aws_config::Region;
use serde_json::Value;
use support::*;

const ROLE: &str = "guard-spoke";

fn run(args: &[&str], env: &[(&str, &str)], endpoint: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"));
    cmd.args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", TOOL_KEY)
        .env("AWS_SECRET_ACCESS_KEY", TOOL_KEY);
    for var in [
        "ORG_SPOKE_ROLE_NAME",
        "ORG_ACCOUNTS",
        "ORG_REGIONS",
        "AWS_PROFILE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

/// Nothing may reach AWS: a closed port.
fn offline(args: &[&str], env: &[(&str, &str)]) -> Output {
    run(args, env, "http://127.0.0.1:9")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_account_options_exit_2_before_any_call() {
    let out = offline(&["reconcile", "--endpoint", "e1", "--account", "1234"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("12 digits"), "{}", stderr(&out));

    let out = offline(&["plan", "--endpoint", "e1", "--region", "Mars"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Region name"), "{}", stderr(&out));

    let out = offline(&["drift-check", "--all-accounts"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ORG_ACCOUNTS"), "{}", stderr(&out));

    let args = ["drift-check", "--all-accounts", "--account", "111111111111"];
    assert_eq!(offline(&args, &[]).status.code(), Some(2));

    let out = offline(&["drift-check"], &[("ORG_ACCOUNTS", "111111111111")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ORG_SPOKE_ROLE_NAME"),
        "{}",
        stderr(&out)
    );
}

/// An endpoint in a spoke place, set up with the place's own key.
async fn spoke_endpoint(account: &str, region: &str, with_role: bool) -> (Clients, String) {
    let key = format!("cli-setup-{account}");
    act_in_account(&key, account);
    if with_role {
        create_role(&key, ROLE);
    }
    let config = sdk_config_with_key(&key)
        .to_builder()
        .region(Region::new(region.to_string()))
        .build();
    let setup = Clients::new(&config);
    let variants = [instances("primary", "ml.m5.large", 1)];
    let ep = create_endpoint_in(&setup.sagemaker, "cli", &variants, &[], false).await;
    (setup, ep)
}

#[tokio::test]
async fn an_operator_works_in_one_spoke_place_then_checks_every_place() {
    let (setup, ep) = spoke_endpoint("121212121212", "eu-west-1", true).await;
    // An account whose spoke role was never deployed.
    spoke_endpoint("131313131313", "eu-west-1", false).await;

    let place = [
        "--account",
        "121212121212",
        "--role",
        ROLE,
        "--region",
        "eu-west-1",
    ];
    let out = run(
        &[&["reconcile", "--endpoint", &ep][..], &place].concat(),
        &[],
        moto_url(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "changed", "{report}");
    assert_eq!(
        target_in(&setup.autoscaling, &ep, "primary").await,
        Some((1, 4))
    );

    let org = [
        ("ORG_SPOKE_ROLE_NAME", ROLE),
        ("ORG_ACCOUNTS", "121212121212,131313131313"),
        ("ORG_REGIONS", "eu-west-1"),
    ];
    let out = run(
        &["drift-check", "--all-accounts", "--json"],
        &org,
        moto_url(),
    );
    // One place not reached: the command fails, after checking the others.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let fleet: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fleet["action"], "fleet-drift-check");
    let checked = &fleet["checked"][0];
    assert_eq!(
        (&checked["account"], &checked["region"]),
        (&Value::from("121212121212"), &Value::from("eu-west-1"))
    );
    assert_eq!(checked["summary"]["compliant"], 1, "{checked}");
    assert_eq!(fleet["failed"][0]["account"], "131313131313");
    assert_eq!(fleet["failed"][0]["error_type"], "AccountNotReached");

    let out = run(&["drift-check", "--all-accounts"], &org, moto_url());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("== account 121212121212 in eu-west-1"),
        "{table}"
    );
    assert!(
        table.contains("== account 131313131313 in eu-west-1\nnot reached: "),
        "{table}"
    );
}
