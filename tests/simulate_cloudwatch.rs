//! The CloudWatch traffic source on the local AWS: `Invocations` put with
//! boto3, read back through the tool's own client, page by page, with the
//! minutes that have no datapoint left out.

mod support;

use autoscaling_guard::aws::metrics::{Metrics, PAGE_DATAPOINTS};
use autoscaling_guard::aws::sagemaker::SageMakerEndpoints;
use autoscaling_guard::aws::{retry_config, Clients};
use autoscaling_guard::simulate::traffic_cloudwatch;
use support::metrics::put_invocations;
use support::{
    clients_with_key, create_endpoint, instances, local_aws_stats, sdk_config_with_key,
    set_faults_on, unique,
};

/// 2026-11-20T00:00Z, in minutes since the epoch.
const T0: i64 = 1_795_132_800 / 60;

#[tokio::test]
async fn a_day_and_a_half_is_read_back_in_pages_with_its_gaps() {
    let endpoint = unique("sim-history");
    let minutes = 2000;
    // Every minute but a 10-minute outage and two lone minutes; minute 5
    // gets two datapoints, which the per-minute Sum adds up.
    let gap = |m: i64| (100..110).contains(&m) || m == 700 || m == minutes - 1;
    let mut points: Vec<(i64, f64)> = (0..minutes)
        .filter(|m| !gap(*m))
        .map(|m| (T0 + m, (m % 97 + 1) as f64))
        .collect();
    points.push((T0 + 5, 1000.0));
    put_invocations(&endpoint, "AllTraffic", &points);
    // Another variant of the same endpoint, in the same minutes: not read.
    put_invocations(&endpoint, "canary", &[(T0, 5.0), (T0 + 1, 5.0)]);

    let key = unique("sim-cw");
    let metrics = Metrics::new(clients_with_key(&key).cloudwatch);
    let read = metrics
        .invocations_per_minute(&endpoint, "AllTraffic", T0, T0 + minutes)
        .await
        .unwrap();

    let expected: Vec<(i64, f64)> = (0..minutes)
        .filter(|m| !gap(*m))
        .map(|m| {
            let sum = (m % 97 + 1) as f64 + if m == 5 { 1000.0 } else { 0.0 };
            (T0 + m, sum)
        })
        .collect();
    assert_eq!(read.len(), expected.len());
    assert_eq!(read, expected);
    // 1987 datapoints at 1440 a page.
    assert!(expected.len() > PAGE_DATAPOINTS as usize);
    let stats = local_aws_stats(&key);
    assert_eq!(stats["by_operation"]["GetMetricData"], 2, "{stats}");
    assert_eq!(stats["validation_errors"], 0, "{stats}");
}

#[tokio::test]
async fn a_variant_without_history_reads_as_no_datapoints() {
    let key = unique("sim-cw-empty");
    let metrics = Metrics::new(clients_with_key(&key).cloudwatch);
    let read = metrics
        .invocations_per_minute(&unique("sim-nothing"), "AllTraffic", T0, T0 + 60)
        .await
        .unwrap();
    assert_eq!(read, []);
    assert_eq!(local_aws_stats(&key)["by_operation"]["GetMetricData"], 1);
}

#[tokio::test]
async fn the_source_reads_whole_days_before_now_and_the_variant_from_sagemaker() {
    let endpoint = create_endpoint(
        "sim-source",
        &[
            instances("primary", "ml.c5.xlarge", 3),
            instances("canary", "ml.m5.large", 1),
        ],
        &[],
        false,
    )
    .await;
    // Two days before "now": traffic only in the last 30 hours, 15 minutes
    // of which are missing; the minute in progress is not read.
    let now = T0 + 2 * 1440;
    let points: Vec<(i64, f64)> = (now - 1800..=now)
        .filter(|m| !(now - 600..now - 585).contains(m))
        .map(|m| (m, 50.0))
        .collect();
    put_invocations(&endpoint, "primary", &points);

    let key = unique("sim-source");
    let clients = clients_with_key(&key);
    let history = traffic_cloudwatch::read(
        &SageMakerEndpoints::new(clients.sagemaker.clone()),
        &Metrics::new(clients.cloudwatch.clone()),
        &endpoint,
        "primary",
        2,
        now,
    )
    .await
    .unwrap();
    let primary = &history
        .endpoint
        .variants
        .iter()
        .find(|v| v.name == "primary")
        .unwrap();
    assert_eq!(primary.instance_type.as_deref(), Some("ml.c5.xlarge"));
    assert_eq!(primary.current_instance_count, Some(3));
    assert_eq!(history.traffic.start_minute, T0);
    assert_eq!(history.traffic.per_minute.len(), 2 * 1440);
    assert_eq!(history.traffic.per_minute[2 * 1440 - 1], Some(50.0));
    let missing = history.traffic.missing();
    // The first 18 hours and the 15-minute outage.
    assert_eq!(missing.runs, [(T0, 1080), (now - 600, 15)]);
    assert_eq!(missing.count(), 1095);
    let stats = local_aws_stats(&key);
    assert_eq!(stats["by_operation"]["GetMetricData"], 2, "{stats}");
}

#[tokio::test]
async fn an_unknown_variant_or_endpoint_is_an_error_naming_it() {
    let endpoint = create_endpoint(
        "sim-names",
        &[instances("primary", "ml.c5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    let clients = clients_with_key("sim-names");
    let endpoints = SageMakerEndpoints::new(clients.sagemaker.clone());
    let metrics = Metrics::new(clients.cloudwatch.clone());
    let err = traffic_cloudwatch::read(&endpoints, &metrics, &endpoint, "blue", 1, T0)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cloudwatch:{endpoint}/blue: endpoint {endpoint:?} has no variant \"blue\" (it has primary)")
    );
    let err = traffic_cloudwatch::read(&endpoints, &metrics, "sim-absent", "primary", 1, T0)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cloudwatch:sim-absent/primary: no endpoint \"sim-absent\" in this account and Region"
    );
}

/// Throttling and 5xx on the pages are retried as every other call is: the
/// history comes back whole, never short.
#[tokio::test]
async fn pages_survive_throttling_and_server_errors() {
    let endpoint = unique("sim-faults");
    let points: Vec<(i64, f64)> = (0..1500).map(|m| (T0 + m, 7.0)).collect();
    put_invocations(&endpoint, "AllTraffic", &points);
    let key = unique("sim-cw-faults");
    set_faults_on(
        &key,
        11,
        0.5,
        &["throttle", "500", "503"],
        &["GetMetricData"],
    );
    let config = sdk_config_with_key(&key)
        .into_builder()
        .retry_config(retry_config())
        .build();
    let metrics = Metrics::new(Clients::new(&config).cloudwatch);
    let read = metrics
        .invocations_per_minute(&endpoint, "AllTraffic", T0, T0 + 1500)
        .await
        .unwrap();
    assert_eq!(read, points);
    let stats = local_aws_stats(&key);
    let faults: u64 = stats["faults"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(faults > 0, "{stats}");
    // Two pages, and a request more for each fault.
    assert_eq!(
        stats["by_operation"]["GetMetricData"],
        2 + faults,
        "{stats}"
    );
    support::clear_faults(&key);
}
