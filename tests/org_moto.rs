//! Hub and spoke on the local AWS: credentials from STS AssumeRole act in
//! the assumed role's account there, as on AWS, so one hub manages
//! endpoints in several accounts and Regions through the real
//! AssumeRole credentials provider.

mod support;

use std::time::Instant;

use autoscaling_guard::aws::Clients;
use autoscaling_guard::config::Settings;
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::handler::Invocation;
use autoscaling_guard::org::place::{AccountId, Place, RegionName};
use autoscaling_guard::org::settings::OrgSettings;
use autoscaling_guard::org::Hub;
use aws_config::Region;
use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use serde_json::{json, Value};
use support::fleet::in_service_event;
use support::*;

const ROLE: &str = "guard-spoke";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
/// The hub signs with the tool's key: the local AWS counts what it signs,
/// and the operation log shows the permission check its calls.
const HUB_KEY: &str = TOOL_KEY;
/// The local AWS's default account: the hub's.
const HUB_ACCOUNT: &str = "123456789012";

fn place(account: &str, region: &str) -> Place {
    Place {
        account: AccountId::parse(account).unwrap(),
        region: RegionName::parse(region).unwrap(),
    }
}

fn org(accounts: &[&str], function: Option<&str>) -> OrgSettings {
    OrgSettings {
        role_name: Some(ROLE.to_string()),
        accounts: accounts
            .iter()
            .map(|a| AccountId::parse(a).unwrap())
            .collect(),
        regions: REGIONS
            .iter()
            .map(|r| RegionName::parse(r).unwrap())
            .collect(),
        function_name: function.map(str::to_string),
    }
}

fn hub(key: &str, org: OrgSettings) -> Hub {
    Hub::new(sdk_config_with_key(key), Settings::default(), org)
}

/// Spoke accounts, with the spoke role (as the spoke stack creates it)
/// when `with_spoke_role`, and a setup key acting in each.
fn spoke_accounts(accounts: &[&str], with_spoke_role: bool) {
    for account in accounts {
        act_in_account(&setup_key(account), account);
        if with_spoke_role {
            create_role(&setup_key(account), ROLE);
        }
    }
}

fn setup_key(account: &str) -> String {
    format!("setup-{account}")
}

/// The test's own clients in a place: setup and checks.
fn clients_in(place: &Place) -> Clients {
    let config = sdk_config_with_key(&setup_key(place.account.as_str()))
        .to_builder()
        .region(Region::new(place.region.as_str().to_string()))
        .build();
    Clients::new(&config)
}

/// The forwarded state change of `endpoint`, from the account and Region
/// it happened in.
fn forwarded_event(endpoint: &str, place: &Place) -> Value {
    let mut event = in_service_event(endpoint);
    event["account"] = json!(place.account);
    event["region"] = json!(place.region);
    event
}

/// Every scalable target's resource id in a place.
async fn resource_ids(clients: &Clients) -> Vec<String> {
    let out = clients
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = out
        .scalable_targets()
        .iter()
        .map(|t| t.resource_id().to_string())
        .collect();
    ids.sort();
    ids
}

fn standard_policy() -> Vec<PolicyRow> {
    vec![(
        "autoscaling-guard-invocations".to_string(),
        Some(70.0),
        Some(300),
        Some(60),
    )]
}

#[tokio::test]
async fn three_accounts_in_two_regions_are_onboarded_by_events_and_checked_by_the_fan_out() {
    let accounts = ["111111111111", "222222222222", "333333333333"];
    let places: Vec<Place> = accounts
        .iter()
        .flat_map(|a| REGIONS.iter().map(move |r| place(a, r)))
        .collect();
    spoke_accounts(&accounts, true);
    // Two endpoints per place: one announced by an event, one found by the
    // scheduled drift check.
    let mut fleet = Vec::new();
    for p in &places {
        let setup = clients_in(p);
        let variants = [instances("primary", "ml.m5.large", 1)];
        let by_event = create_endpoint_in(&setup.sagemaker, "ev", &variants, &[], false).await;
        let by_check = create_endpoint_in(&setup.sagemaker, "sched", &variants, &[], false).await;
        fleet.push((p.clone(), setup, by_event, by_check));
    }
    let hub = hub(HUB_KEY, org(&accounts, None));

    for (p, _, by_event, _) in &fleet {
        let out = hub
            .handle(forwarded_event(by_event, p), Invocation::default())
            .await
            .unwrap();
        let out = serde_json::to_value(out).unwrap();
        assert_eq!(out["outcome"], "changed", "{p}: {out}");
        assert_eq!(
            (&out["account"], &out["region"]),
            (&json!(p.account), &json!(p.region))
        );
    }

    let started = Instant::now();
    let options = SweepOptions {
        dry_run: false,
        deadline: None,
    };
    let checked = hub.drift_check_all(options).await;
    let wall = started.elapsed();
    assert!(checked.failed.is_empty(), "{:?}", checked.failed);
    let checked_places: Vec<&Place> = checked.checked.iter().map(|c| &c.place).collect();
    assert_eq!(checked_places, places.iter().collect::<Vec<_>>());
    for c in &checked.checked {
        let s = &c.report.summary;
        assert_eq!(
            (s.endpoints, s.compliant, s.remediated, s.errors),
            (2, 1, 1, 0),
            "{}",
            c.place
        );
    }

    // Each place holds exactly its own two endpoints' standard scaling.
    for (p, setup, by_event, by_check) in &fleet {
        let mut own = vec![
            format!("endpoint/{by_event}/variant/primary"),
            format!("endpoint/{by_check}/variant/primary"),
        ];
        own.sort();
        assert_eq!(resource_ids(setup).await, own, "{p}");
        for ep in [by_event, by_check] {
            assert_eq!(
                target_in(&setup.autoscaling, ep, "primary").await,
                Some((1, 4))
            );
            assert_eq!(
                policies_in(&setup.autoscaling, ep, "primary").await,
                standard_policy()
            );
        }
    }
    // The hub's own account holds nothing, in either Region.
    for region in REGIONS {
        let hub_place = place(HUB_ACCOUNT, region);
        let home = Clients::new(
            &sdk_config()
                .to_builder()
                .region(Region::new(hub_place.region.as_str().to_string()))
                .build(),
        );
        assert_eq!(
            resource_ids(&home).await,
            Vec::<String>::new(),
            "{hub_place}"
        );
    }
    // In the hub's own account, the hub made only STS requests: who it is,
    // once, and one AssumeRole per account, whose credentials serve both
    // Regions and every request.
    let stats = local_aws_stats_in(HUB_KEY, HUB_ACCOUNT);
    assert_eq!(
        stats["by_operation"],
        json!({"GetCallerIdentity": 1, "AssumeRole": 3}),
        "{stats}"
    );
    let mut per_account = Vec::new();
    for account in accounts {
        let stats = local_aws_stats_in(HUB_KEY, account);
        assert_eq!(stats["validation_errors"], 0, "{stats}");
        per_account.push(format!(
            "{account}: {} reads, {} writes",
            stats["reads"], stats["writes"]
        ));
    }
    eprintln!(
        "{} places x 2 endpoints; events then the fan-out in process ({:.3} s): {}",
        places.len(),
        wall.as_secs_f64(),
        per_account.join("; ")
    );
}

#[tokio::test]
async fn an_event_from_another_account_is_refused_without_a_role_and_nothing_is_written() {
    let spoke = place("444444444444", "us-east-1");
    // The event names an endpoint the hub's own account has too: a hub
    // that fell back to its own credentials would onboard that one.
    let variants = [instances("primary", "ml.m5.large", 1)];
    let ep = create_endpoint_in(&clients().sagemaker, "decoy", &variants, &[], false).await;
    let key = "hub-without-role";
    let single = hub(key, OrgSettings::default());

    // A state change that is only acknowledged needs no credentials at all.
    let mut creating = forwarded_event(&ep, &spoke);
    creating["detail"]["EndpointStatus"] = json!("CREATING");
    let out = single
        .handle(creating, Invocation::default())
        .await
        .unwrap();
    let out = serde_json::to_value(out).unwrap();
    assert_eq!(
        (&out["action"], &out["account"]),
        (&json!("ignored"), &json!(spoke.account))
    );
    assert_eq!(local_aws_stats(key)["requests"], 0);

    let err = single
        .handle(forwarded_event(&ep, &spoke), Invocation::default())
        .await
        .unwrap_err();
    assert_eq!(err.error_type().as_str(), "AccountNotReached");
    assert!(err.to_string().contains("ORG_SPOKE_ROLE_NAME"), "{err}");
    assert!(err.to_string().contains("444444444444"), "{err}");
    assert_eq!(target(&ep, "primary").await, None);
    assert_eq!(
        local_aws_stats(key)["by_operation"],
        json!({"GetCallerIdentity": 1})
    );
}

#[tokio::test]
async fn an_account_without_the_spoke_role_fails_alone_and_the_others_converge() {
    let (good, bad) = ("777777777777", "888888888888");
    spoke_accounts(&[good], true);
    spoke_accounts(&[bad], false);
    let variants = [instances("primary", "ml.m5.large", 1)];
    let mut endpoints = Vec::new();
    for account in [good, bad] {
        for region in REGIONS {
            let p = place(account, region);
            let setup = clients_in(&p);
            let ep = create_endpoint_in(&setup.sagemaker, "isolated", &variants, &[], false).await;
            endpoints.push((p, setup, ep));
        }
    }
    let hub = hub("hub-partial", org(&[good, bad], None));

    let (p, setup, ep) = &endpoints[2];
    let err = hub
        .handle(forwarded_event(ep, p), Invocation::default())
        .await
        .unwrap_err();
    assert_eq!(err.error_type().as_str(), "AccountNotReached");
    let message = err.to_string();
    assert!(message.contains("AccessDenied"), "{message}");
    assert!(
        message.contains(&format!("arn:aws:iam::{bad}:role/{ROLE}")),
        "{message}"
    );
    assert_eq!(target_in(&setup.autoscaling, ep, "primary").await, None);

    let options = SweepOptions {
        dry_run: false,
        deadline: None,
    };
    let fleet = hub.drift_check_all(options).await;
    assert!(!fleet.clean());
    let failed: Vec<(String, &str)> = fleet
        .failed
        .iter()
        .map(|f| (f.place.to_string(), f.error_type.as_str()))
        .collect();
    assert_eq!(
        failed,
        [
            (format!("account {bad} in us-east-1"), "AccountNotReached"),
            (format!("account {bad} in eu-west-1"), "AccountNotReached"),
        ]
    );
    assert_eq!(fleet.checked.len(), 2);
    for (p, setup, ep) in &endpoints {
        let expected = (p.account.as_str() == good).then_some((1, 4));
        assert_eq!(
            target_in(&setup.autoscaling, ep, "primary").await,
            expected,
            "{p}"
        );
    }
    // The good account's credentials serve both of its Regions; a refusal
    // is not kept, so a role deployed meanwhile is found on the next
    // request (the event, then each Region's check).
    let assumed = &local_aws_stats_in("hub-partial", HUB_ACCOUNT)["by_operation"]["AssumeRole"];
    assert_eq!(assumed, &json!(1 + 3));
}

#[tokio::test]
async fn the_scheduled_check_starts_one_asynchronous_invocation_per_place() {
    moto_config(&json!({"lambda": {"use_docker": false}}));
    create_role("test", "guard-hub");
    let setup = aws_sdk_lambda::Client::new(&sdk_config());
    setup
        .create_function()
        .function_name("guard-hub")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role("arn:aws:iam::123456789012:role/guard-hub")
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                // An empty zip archive: its end-of-directory record alone.
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    [b"PK\x05\x06".as_slice(), &[0; 18]].concat(),
                ))
                .build(),
        )
        .send()
        .await
        .expect("create the hub function");
    let accounts = ["555555555555", "666666666666"];
    let key = "hub-fan-out";
    let hub = hub(key, org(&accounts, Some("guard-hub")));
    let schedule: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/drift-check-schedule-rule.json"
        ))
        .unwrap(),
    )
    .unwrap();

    let started = Instant::now();
    let out = hub.handle(schedule, Invocation::default()).await.unwrap();
    let out = serde_json::to_value(out).unwrap();
    let wall = started.elapsed();
    assert_eq!(out["action"], "fan-out");
    assert_eq!(
        out["started"],
        json!([
            {"account": "555555555555", "region": "us-east-1"},
            {"account": "555555555555", "region": "eu-west-1"},
            {"account": "666666666666", "region": "us-east-1"},
            {"account": "666666666666", "region": "eu-west-1"},
        ])
    );
    assert_eq!(out["failed"], json!([]));
    // Nothing was assumed: the fan-out only starts the checks.
    let stats = local_aws_stats(key);
    assert_eq!(stats["by_operation"], json!({"Invoke": 4}), "{stats}");
    eprintln!(
        "fan-out by Invoke: 4 places started in {:.3} s",
        wall.as_secs_f64()
    );
}

/// The function's own role is granted its own Region only: in another
/// Region of the hub's account the hub works through the spoke role (the
/// spoke stack deployed there too), never with its own credentials.
#[tokio::test]
async fn the_hubs_account_in_another_region_is_worked_through_the_spoke_role() {
    use autoscaling_guard::org::accounts::Accounts;
    use autoscaling_guard::org::OrgError;

    let key = "hub-other-region";
    let accounts = Accounts::new(
        sdk_config_with_key(key),
        Some("guard-spoke-not-in-hub".to_string()),
    );
    let home = place(HUB_ACCOUNT, "us-east-1");
    assert!(accounts.config_for(&home).await.is_ok());
    assert_eq!(local_aws_stats(key)["by_operation"].get("AssumeRole"), None);

    let elsewhere = place(HUB_ACCOUNT, "eu-west-1");
    let refused = accounts.config_for(&elsewhere).await.unwrap_err();
    assert!(
        matches!(&refused, OrgError::NotReached { place, detail }
            if place == &elsewhere && detail.contains("guard-spoke-not-in-hub")
                && detail.contains("AccessDenied: ") && !detail.contains('{')),
        "{refused}"
    );
    assert_eq!(local_aws_stats(key)["by_operation"]["AssumeRole"], 1);
}
