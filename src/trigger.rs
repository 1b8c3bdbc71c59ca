//! Turns a raw invocation payload into a `Trigger`. Payloads arrive in
//! several shapes (EventBridge envelopes, EventBridge Scheduler input, direct
//! invocations), so they are taken as untyped JSON and told apart by their
//! fields. Anything unrecognised is an error that says what is wrong.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::release::{parse_duration, DEFAULT_RELEASE};

pub const SAGEMAKER_SOURCE: &str = "aws.sagemaker";
pub const ENDPOINT_STATE_CHANGE: &str = "SageMaker Endpoint State Change";
/// The event spelling of the API's `InService`.
pub const IN_SERVICE: &str = "IN_SERVICE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// An endpoint changed state; only IN_SERVICE calls for a reconcile.
    EndpointStateChange { endpoint: String, status: String },
    /// A direct request to reconcile one endpoint.
    Reconcile { endpoint: String, dry_run: bool },
    /// A scheduled (or direct) request to check the whole fleet.
    DriftCheck { dry_run: bool },
    /// A deploy pipeline releases an endpoint for an update.
    Release {
        endpoint: String,
        duration: chrono::TimeDelta,
        dry_run: bool,
    },
}

/// The part of the event detail this tool reads. Variant names in events
/// are unreliable, so the endpoint is always read from the API instead.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointStateDetail {
    endpoint_name: String,
    endpoint_status: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectReconcile {
    #[allow(dead_code)]
    action: String,
    endpoint: String,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectDriftCheck {
    #[allow(dead_code)]
    action: String,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectRelease {
    #[allow(dead_code)]
    action: String,
    endpoint: String,
    /// How long the release lasts (`30m`, `2h`, `1d`).
    #[serde(rename = "for")]
    duration: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

const ACTIONS: &str = "reconcile, drift-check, release";
pub const SCHEDULED_EVENT: &str = "Scheduled Event";

/// SageMaker endpoint names: 1 to 63 letters, digits and hyphens, starting
/// and ending with a letter or digit.
pub fn validate_endpoint_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a SageMaker endpoint name (1-63 letters, digits and hyphens, \
             starting and ending with a letter or digit)"
        ))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn parse(payload: &Value) -> Result<Trigger, String> {
    let Value::Object(fields) = payload else {
        return Err(format!(
            "payload must be a JSON object, got {}",
            kind_of(payload)
        ));
    };
    if let Some(action) = fields.get("action") {
        return parse_direct(action, payload);
    }
    if fields.contains_key("detail-type") || fields.contains_key("source") {
        return parse_envelope(payload);
    }
    Err(
        "payload is neither an EventBridge event (no `detail-type`/`source`) \
         nor a direct invocation (no `action`)"
            .to_string(),
    )
}

fn parse_direct(action: &Value, payload: &Value) -> Result<Trigger, String> {
    match action.as_str() {
        Some("reconcile") => {
            let req: DirectReconcile = serde_json::from_value(payload.clone())
                .map_err(|e| format!("direct reconcile payload: {e}"))?;
            validate_endpoint_name(&req.endpoint).map_err(|e| format!("field `endpoint`: {e}"))?;
            Ok(Trigger::Reconcile {
                endpoint: req.endpoint,
                dry_run: req.dry_run,
            })
        }
        Some("drift-check") => {
            let req: DirectDriftCheck = serde_json::from_value(payload.clone())
                .map_err(|e| format!("direct drift-check payload: {e}"))?;
            Ok(Trigger::DriftCheck {
                dry_run: req.dry_run,
            })
        }
        Some("release") => {
            let req: DirectRelease = serde_json::from_value(payload.clone())
                .map_err(|e| format!("direct release payload: {e}"))?;
            validate_endpoint_name(&req.endpoint).map_err(|e| format!("field `endpoint`: {e}"))?;
            let duration = match &req.duration {
                None => DEFAULT_RELEASE,
                Some(raw) => parse_duration(raw).map_err(|e| format!("field `for`: {e}"))?,
            };
            Ok(Trigger::Release {
                endpoint: req.endpoint,
                duration,
                dry_run: req.dry_run,
            })
        }
        Some(other) => Err(format!(
            "unknown action {other:?}; known actions: {ACTIONS}"
        )),
        None => Err(format!(
            "field `action` must be a string, got {}",
            kind_of(action)
        )),
    }
}

fn parse_envelope(payload: &Value) -> Result<Trigger, String> {
    let event: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| format!("not a valid EventBridge event: {e}"))?;
    let source = event.source.as_str();
    match (source, event.detail_type.as_str()) {
        (SAGEMAKER_SOURCE, ENDPOINT_STATE_CHANGE) => {
            let detail: EndpointStateDetail = serde_json::from_value(event.detail)
                .map_err(|e| format!("{ENDPOINT_STATE_CHANGE} detail: {e}"))?;
            validate_endpoint_name(&detail.endpoint_name)
                .map_err(|e| format!("detail.EndpointName: {e}"))?;
            Ok(Trigger::EndpointStateChange {
                endpoint: detail.endpoint_name,
                status: detail.endpoint_status,
            })
        }
        // A classic schedule rule (detail `{}`) or EventBridge Scheduler
        // without an input (detail the string "{}").
        ("aws.events" | "aws.scheduler", SCHEDULED_EVENT) => {
            Ok(Trigger::DriftCheck { dry_run: false })
        }
        (source, detail_type) => Err(format!(
            "unsupported event: source {source:?} with detail-type {detail_type:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn in_service_event_names_the_endpoint() {
        assert_eq!(
            parse(&fixture("endpoint-in-service.json")).unwrap(),
            Trigger::EndpointStateChange {
                endpoint: "demo-recommender".into(),
                status: "IN_SERVICE".into()
            }
        );
    }

    #[test]
    fn other_statuses_parse_with_their_status() {
        for (file, status) in [
            ("endpoint-creating.json", "CREATING"),
            ("endpoint-updating.json", "UPDATING"),
            ("endpoint-failed.json", "FAILED"),
            ("endpoint-deleting.json", "DELETING"),
        ] {
            match parse(&fixture(file)).unwrap() {
                Trigger::EndpointStateChange { status: s, .. } => assert_eq!(s, status, "{file}"),
                other => panic!("{file}: {other:?}"),
            }
        }
    }

    #[test]
    fn direct_reconcile_with_and_without_dry_run() {
        assert_eq!(
            parse(&fixture("direct-reconcile.json")).unwrap(),
            Trigger::Reconcile {
                endpoint: "demo-recommender".into(),
                dry_run: false
            }
        );
        assert_eq!(
            parse(&json!({"action": "reconcile", "endpoint": "x1", "dry_run": true})).unwrap(),
            Trigger::Reconcile {
                endpoint: "x1".into(),
                dry_run: true
            }
        );
    }

    #[test]
    fn all_three_schedule_shapes_start_a_drift_check() {
        for file in [
            "drift-check-schedule-rule.json",
            "drift-check-scheduler.json",
            "drift-check-direct.json",
        ] {
            assert_eq!(
                parse(&fixture(file)).unwrap(),
                Trigger::DriftCheck { dry_run: false },
                "{file}"
            );
        }
        assert_eq!(
            parse(&json!({"action": "drift-check", "dry_run": true})).unwrap(),
            Trigger::DriftCheck { dry_run: true }
        );
        let err = parse(&json!({"action": "drift-check", "mode": "fix"})).unwrap_err();
        assert!(err.contains("unknown field `mode`"), "{err}");
        let mut other = fixture("drift-check-schedule-rule.json");
        other["source"] = json!("aws.health");
        assert!(parse(&other).unwrap_err().contains("unsupported event"));
    }

    #[test]
    fn a_release_names_the_endpoint_and_how_long() {
        assert_eq!(
            parse(&fixture("release.json")).unwrap(),
            Trigger::Release {
                endpoint: "demo-search".into(),
                duration: chrono::TimeDelta::hours(2),
                dry_run: false
            }
        );
        assert_eq!(
            parse(&json!({"action": "release", "endpoint": "x1"})).unwrap(),
            Trigger::Release {
                endpoint: "x1".into(),
                duration: DEFAULT_RELEASE,
                dry_run: false
            }
        );
        for (payload, expected) in [
            (
                json!({"action": "release", "endpoint": "x1", "for": "3 hours"}),
                "field `for`: \"3 hours\" is not a release duration",
            ),
            (
                json!({"action": "release", "endpoint": "x1", "for": "2d"}),
                "at most 24h",
            ),
            (
                json!({"action": "release", "endpoint": "x1", "for": 2}),
                "invalid type: integer `2`, expected a string",
            ),
            (
                json!({"action": "release", "endpoint": "x1", "until": "2h"}),
                "unknown field `until`",
            ),
            (json!({"action": "release"}), "missing field `endpoint`"),
            (
                json!({"action": "release", "endpoint": "a_b"}),
                "field `endpoint`",
            ),
        ] {
            let err = parse(&payload).unwrap_err();
            assert!(err.contains(expected), "{payload}: {err}");
        }
    }

    #[test]
    fn epoch_millisecond_times_in_the_detail_are_accepted() {
        let mut event = fixture("endpoint-in-service.json");
        event["detail"]["CreationTime"] = json!(1_583_831_889_050.5_f64);
        assert!(parse(&event).is_ok());
    }

    #[test]
    fn malformed_payloads_say_what_is_wrong() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([1, 2]), "must be a JSON object, got an array"),
            (json!("hello"), "got a string"),
            (json!({"hello": "world"}), "neither an EventBridge event"),
            (json!({"action": "explode"}), "unknown action \"explode\""),
            (json!({"action": 3}), "`action` must be a string"),
            (json!({"action": "reconcile"}), "missing field `endpoint`"),
            (
                json!({"action": "reconcile", "endpoint": "x", "force": true}),
                "unknown field `force`",
            ),
            (
                json!({"action": "reconcile", "endpoint": "bad name!"}),
                "not a SageMaker endpoint name",
            ),
            (
                json!({"action": "reconcile", "endpoint": "x", "dry_run": "yes"}),
                "invalid type",
            ),
            (
                fixture("malformed-missing-endpoint-name.json"),
                "missing field `EndpointName`",
            ),
            (fixture("malformed-wrong-types.json"), "invalid type"),
            (
                fixture("malformed-unknown-source.json"),
                "unsupported event: source \"aws.ec2\"",
            ),
        ];
        for (payload, expected) in cases {
            let err = parse(&payload).unwrap_err();
            assert!(
                err.contains(expected),
                "{payload}: {err:?} should contain {expected:?}"
            );
        }
    }

    #[test]
    fn the_developer_guide_epoch_time_envelope_is_rejected_clearly() {
        let mut event = fixture("endpoint-in-service.json");
        event["time"] = json!("1583831889050");
        let err = parse(&event).unwrap_err();
        assert!(err.contains("not a valid EventBridge event"), "{err}");
    }

    #[test]
    fn endpoint_names_are_checked() {
        assert!(validate_endpoint_name("a").is_ok());
        assert!(validate_endpoint_name("fraud-model-v2").is_ok());
        assert!(validate_endpoint_name(&"a".repeat(63)).is_ok());
        for bad in ["", "-a", "a-", "a_b", "a/b", &"a".repeat(64)] {
            assert!(validate_endpoint_name(bad).is_err(), "{bad}");
        }
    }
}
