//! The stack's dashboard and alarms watch the metrics the code emits: every
//! `AutoscalingGuard` metric in template.yaml is one that a drift check's
//! EMF line carries, under the same namespace and dimension, and the
//! dashboard shows each of them. A renamed count, a new one, or a typo in
//! the template fails here instead of leaving an alarm that never fires.

use std::collections::BTreeSet;

use autoscaling_guard::config::DriftMode;
use autoscaling_guard::drift::report::{emf_line, DriftSummary};
use serde_json::Value;

/// A metric as a dashboard or an alarm names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Metric {
    namespace: String,
    name: String,
    /// (name, value), in the order given.
    dimensions: Vec<(String, String)>,
}

fn template() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap()
}

/// What the code writes: the EMF line of a drift check.
fn emitted() -> (String, Vec<Metric>) {
    let line: Value = serde_json::from_str(&emf_line(
        &DriftSummary::default(),
        DriftMode::Remediate,
        0,
        None,
    ))
    .unwrap();
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    let namespace = directive["Namespace"].as_str().unwrap().to_string();
    let sets = directive["Dimensions"].as_array().unwrap();
    assert_eq!(sets.len(), 1, "one dimension set: {directive}");
    let dimensions: Vec<(String, String)> = sets[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let d = d.as_str().unwrap();
            (d.to_string(), line[d].as_str().unwrap().to_string())
        })
        .collect();
    let metrics = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Metric {
            namespace: namespace.clone(),
            name: m["Name"].as_str().unwrap().to_string(),
            dimensions: dimensions.clone(),
        })
        .collect();
    (namespace, metrics)
}

/// The top-level resources of the template: (logical id, its lines).
fn resources(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    let mut in_resources = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_resources = line.trim_end() == "Resources:";
            continue;
        }
        if !in_resources {
            continue;
        }
        let is_key = line.starts_with("  ") && !line.starts_with("   ");
        match line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            Some(id) if is_key && !id.starts_with('#') => out.push((id.to_string(), Vec::new())),
            _ => {
                if let Some((_, lines)) = out.last_mut() {
                    lines.push(line);
                }
            }
        }
    }
    out
}

fn value_of<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim_start()
        .trim_start_matches("- ")
        .strip_prefix(key)?
        .strip_prefix(':')
        .map(str::trim)
}

/// The metrics of each `AWS::CloudWatch::Alarm`, by logical id: one for a
/// plain alarm, one per `MetricStat` for a metric-math alarm. A metric
/// starts at its `Namespace`; its name and dimensions follow it.
fn alarms(text: &str) -> Vec<(String, Vec<Metric>)> {
    resources(text)
        .into_iter()
        .filter(|(_, lines)| {
            lines
                .iter()
                .any(|l| value_of(l, "Type") == Some("AWS::CloudWatch::Alarm"))
        })
        .map(|(id, lines)| {
            let mut metrics: Vec<Metric> = Vec::new();
            let mut dimension_name = None;
            for line in &lines {
                if let Some(namespace) = value_of(line, "Namespace") {
                    metrics.push(Metric {
                        namespace: namespace.to_string(),
                        name: String::new(),
                        dimensions: Vec::new(),
                    });
                } else if let Some(current) = metrics.last_mut() {
                    if let Some(name) = value_of(line, "MetricName") {
                        current.name = name.to_string();
                    } else if let Some(name) = value_of(line, "Name") {
                        dimension_name = Some(name.to_string());
                    } else if let (Some(value), Some(name)) =
                        (value_of(line, "Value"), dimension_name.take())
                    {
                        current.dimensions.push((name, value.to_string()));
                    }
                }
            }
            assert!(
                !metrics.is_empty() && metrics.iter().all(|m| !m.name.is_empty()),
                "{id}: every metric has a namespace and a name: {metrics:?}"
            );
            (id, metrics)
        })
        .collect()
}

/// The dashboard's body as JSON, every `${...}` of its `!Sub` made a 0
/// (valid in a string and as a number).
fn dashboard(text: &str) -> Value {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains("DashboardBody: !Sub |"));
    let key = lines.next().expect("a DashboardBody: !Sub | block");
    let indent = key.len() - key.trim_start().len();
    let body: String = lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
        .collect::<Vec<_>>()
        .join("\n");
    let mut json = String::new();
    let mut rest = body.as_str();
    while let Some(start) = rest.find("${") {
        json += &rest[..start];
        json += "0";
        let end = rest[start..].find('}').expect("a closed ${...}");
        rest = &rest[start + end + 1..];
    }
    json += rest;
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("the dashboard body: {e}\n{json}"))
}

fn dashboard_metrics(body: &Value) -> Vec<Metric> {
    let mut out = Vec::new();
    for widget in body["widgets"].as_array().unwrap() {
        let Some(metrics) = widget["properties"]["metrics"].as_array() else {
            continue;
        };
        for entry in metrics {
            let parts: Vec<&str> = entry
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                parts.len() >= 2 && parts.len().is_multiple_of(2),
                "namespace, name, dimension pairs: {entry}"
            );
            out.push(Metric {
                namespace: parts[0].to_string(),
                name: parts[1].to_string(),
                dimensions: parts[2..]
                    .chunks(2)
                    .map(|p| (p[0].to_string(), p[1].to_string()))
                    .collect(),
            });
        }
    }
    out
}

#[test]
fn the_dashboard_and_alarms_watch_the_metrics_the_code_emits() {
    let (namespace, emitted) = emitted();
    let emitted_set: BTreeSet<&Metric> = emitted.iter().collect();
    let text = template();

    let alarms = alarms(&text);
    let ours: Vec<(&String, &Metric)> = alarms
        .iter()
        .flat_map(|(id, metrics)| metrics.iter().map(move |m| (id, m)))
        .filter(|(_, m)| m.namespace == namespace)
        .collect();
    assert!(!ours.is_empty(), "alarms on the drift metrics: {alarms:?}");
    for (id, metric) in &ours {
        assert!(
            emitted_set.contains(metric),
            "{id} watches {metric:?}, which the code does not emit; it emits {emitted:?}"
        );
    }
    // Each error count has its own unit: the errors alarm sums them all.
    let errors_alarm: BTreeSet<&str> = ours
        .iter()
        .filter(|(id, _)| id.as_str() == "DriftErrorsAlarm")
        .map(|(_, m)| m.name.as_str())
        .collect();
    let error_counts: BTreeSet<&str> = emitted
        .iter()
        .map(|m| m.name.as_str())
        .filter(|n| n.ends_with("errors") || n.ends_with("unreadable"))
        .collect();
    assert_eq!(
        errors_alarm, error_counts,
        "the errors alarm watches every error count"
    );

    let shown = dashboard_metrics(&dashboard(&text));
    for metric in shown.iter().filter(|m| m.namespace == namespace) {
        assert!(
            emitted_set.contains(metric),
            "the dashboard shows {metric:?}, which the code does not emit"
        );
    }
    let shown_names: BTreeSet<&str> = shown
        .iter()
        .filter(|m| m.namespace == namespace)
        .map(|m| m.name.as_str())
        .collect();
    let emitted_names: BTreeSet<&str> = emitted.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        shown_names, emitted_names,
        "the dashboard shows every drift count"
    );

    // Anything else is an AWS service's metric: a misspelt namespace would
    // otherwise pass as "not ours".
    for metric in alarms.iter().flat_map(|(_, m)| m).chain(&shown) {
        assert!(
            metric.namespace == namespace || metric.namespace.starts_with("AWS/"),
            "unknown namespace: {metric:?}"
        );
    }
}
