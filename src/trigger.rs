//! Turns a raw invocation payload into a `Trigger`. Payloads arrive in
//! several shapes (EventBridge envelopes, EventBridge Scheduler input, direct
//! invocations), so they are taken as untyped JSON and told apart by their
//! fields. Anything unrecognised is an `InvalidPayload` that names the field,
//! its value and what was expected.

use std::fmt;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::release::{parse_duration, DEFAULT_RELEASE, DURATION_RULE};
use crate::org::place::{AccountId, Place, RegionName, ACCOUNT_RULE, REGION_RULE};

pub const SAGEMAKER_SOURCE: &str = "aws.sagemaker";
pub const ENDPOINT_STATE_CHANGE: &str = "SageMaker Endpoint State Change";
/// The event spelling of the API's `InService`.
pub const IN_SERVICE: &str = "IN_SERVICE";
pub const SCHEDULED_EVENT: &str = "Scheduled Event";
/// The `action` of a direct drift check (and of each fanned-out one).
pub const DRIFT_CHECK_ACTION: &str = "drift-check";
/// A classic EventBridge schedule rule.
pub const SCHEDULE_RULE_SOURCE: &str = "aws.events";
/// EventBridge Scheduler without an input.
pub const SCHEDULER_SOURCE: &str = "aws.scheduler";

/// The largest payload accepted: EventBridge's event size limit (256 KB).
/// Every trigger of the function is bounded by it, so anything larger is
/// refused from its length alone, before any JSON is parsed.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Values quoted in errors are cut to this many characters.
const QUOTE_CHARS: usize = 60;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub const ENDPOINT_NAME_RULE: &str = "a SageMaker endpoint name (1-63 letters, digits and \
     hyphens, starting and ending with a letter or digit)";
const STATUS_RULE: &str =
    "an endpoint status in event spelling (upper-case letters and underscores, e.g. \"IN_SERVICE\")";
const ACTIONS: &str = "\"reconcile\", \"drift-check\" or \"release\"";

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

impl Trigger {
    /// A state change other than IN_SERVICE: acknowledged, and nothing is
    /// read or written for it.
    pub fn is_ignored(&self) -> bool {
        matches!(self, Trigger::EndpointStateChange { status, .. } if status != IN_SERVICE)
    }
}

/// Why a payload is refused: the field at fault (a path such as
/// `detail.EndpointStatus`, or `payload` for the whole document), the value
/// found there (quoted as JSON and cut short; `None` when it is missing) and
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPayload {
    pub field: String,
    pub got: Option<String>,
    pub expected: String,
}

impl fmt::Display for InvalidPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.got {
            Some(got) => write!(f, "{}: expected {}, got {got}", self.field, self.expected),
            None => write!(f, "{}: missing, expected {}", self.field, self.expected),
        }
    }
}

impl InvalidPayload {
    fn new(field: &str, got: Option<&Value>, expected: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            got: got.map(quote),
            expected: expected.into(),
        }
    }
}

/// A value as compact JSON, cut to `QUOTE_CHARS` characters.
fn quote(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
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
    account: Option<String>,
    region: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectDriftCheck {
    #[allow(dead_code)]
    action: String,
    account: Option<String>,
    region: Option<String>,
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
    account: Option<String>,
    region: Option<String>,
}

/// What a field of a payload struct holds, for errors about it.
fn expected_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "source" => "a string such as \"aws.sagemaker\"",
        "detail-type" => "a string such as \"SageMaker Endpoint State Change\"",
        "detail" => "the event's detail",
        "EndpointName" | "endpoint" => ENDPOINT_NAME_RULE,
        "EndpointStatus" => STATUS_RULE,
        "action" => ACTIONS,
        "dry_run" => "true or false",
        "for" => DURATION_RULE,
        "account" => ACCOUNT_RULE,
        "region" => REGION_RULE,
        _ => return None,
    })
}

/// Reads a payload struct from `value`, found at `at` in the payload
/// ("" for the top level). Serde fills a struct from an array too, by
/// position; a payload's structs are JSON objects and nothing else.
fn from_object<T: DeserializeOwned>(value: &Value, at: &str) -> Result<T, InvalidPayload> {
    if !value.is_object() {
        let field = if at.is_empty() { "payload" } else { at };
        return Err(InvalidPayload::new(field, Some(value), "a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| field_error(value, at, e))
}

fn join(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_string()
    } else {
        format!("{at}.{field}")
    }
}

/// The text between `start` and the next backquote, if `message` begins
/// with `start`.
fn quoted_after<'a>(message: &'a str, start: &str) -> Option<&'a str> {
    message.strip_prefix(start)?.split('`').next()
}

/// A serde error turned into the field it is about. Payload structs are
/// flat, so the error is about one field of `object`.
fn field_error(
    object: &Value,
    at: &str,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> InvalidPayload {
    let message = err.inner().to_string();
    if let Some(name) = quoted_after(&message, "missing field `") {
        let expected = expected_of(name).unwrap_or("a value");
        return InvalidPayload::new(&join(at, name), None, expected);
    }
    if let Some(name) = quoted_after(&message, "unknown field `") {
        let known = message
            .split_once(", expected ")
            .map_or("no fields", |(_, known)| known);
        return InvalidPayload::new(
            &join(at, name),
            object.get(name),
            format!("no such field (known fields: {known})"),
        );
    }
    let name = err.path().iter().find_map(|segment| match segment {
        serde_path_to_error::Segment::Map { key } => Some(key.as_str()),
        _ => None,
    });
    let Some(name) = name else {
        return InvalidPayload::new(
            if at.is_empty() { "payload" } else { at },
            Some(object),
            message,
        );
    };
    let expected = expected_of(name).map(str::to_string).unwrap_or_else(|| {
        message
            .split_once(", expected ")
            .map_or(message.clone(), |(_, e)| e.to_string())
    });
    InvalidPayload::new(&join(at, name), object.get(name), expected)
}

/// Reads a raw payload: refused by its length before any JSON is parsed;
/// a leading UTF-8 byte-order mark (as some Windows editors write) is
/// skipped.
pub fn payload_from_bytes(raw: &[u8]) -> Result<Value, InvalidPayload> {
    if raw.len() > MAX_PAYLOAD_BYTES {
        return Err(too_large(raw.len()));
    }
    let json = raw.strip_prefix(UTF8_BOM).unwrap_or(raw);
    serde_json::from_slice(json).map_err(|e| InvalidPayload {
        field: "payload".to_string(),
        got: Some(format!("text that is not JSON ({e})")),
        expected: "a JSON document".to_string(),
    })
}

/// The error for a payload of `size` bytes, over `MAX_PAYLOAD_BYTES`.
pub fn too_large(size: impl fmt::Display) -> InvalidPayload {
    InvalidPayload {
        field: "payload".to_string(),
        got: Some(format!("{size} bytes")),
        expected: format!(
            "at most {MAX_PAYLOAD_BYTES} bytes (256 KB, the size limit of an EventBridge event)"
        ),
    }
}

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
        Err(format!("{name:?} is not {ENDPOINT_NAME_RULE}"))
    }
}

fn endpoint_name(name: String, field: &str) -> Result<String, InvalidPayload> {
    match validate_endpoint_name(&name) {
        Ok(()) => Ok(name),
        Err(_) => Err(InvalidPayload::new(
            field,
            Some(&Value::String(name)),
            ENDPOINT_NAME_RULE,
        )),
    }
}

/// Event statuses are UPPER_SNAKE (`IN_SERVICE`); the API's `InService`
/// in an event means a hand-made event that no rule would deliver.
fn is_event_status(status: &str) -> bool {
    (1..=64).contains(&status.len()) && status.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

pub fn parse(payload: &Value) -> Result<Trigger, InvalidPayload> {
    parse_addressed(payload).map(|(trigger, _)| trigger)
}

/// The account and Region a payload names (`account` and `region`, both or
/// neither), or `None`.
fn place(
    account: Option<String>,
    region: Option<String>,
    at: &str,
) -> Result<Option<Place>, InvalidPayload> {
    let (account, region) = match (account, region) {
        (None, None) => return Ok(None),
        (Some(a), Some(r)) => (a, r),
        (Some(_), None) => {
            let expected = format!("{REGION_RULE}, given with `account`");
            return Err(InvalidPayload::new(&join(at, "region"), None, expected));
        }
        (None, Some(_)) => {
            let expected = format!("{ACCOUNT_RULE}, given with `region`");
            return Err(InvalidPayload::new(&join(at, "account"), None, expected));
        }
    };
    let refuse = |field: &str, raw: String, rule: &str| {
        InvalidPayload::new(&join(at, field), Some(&Value::String(raw)), rule)
    };
    let account =
        AccountId::parse(&account).map_err(|_| refuse("account", account, ACCOUNT_RULE))?;
    let region = RegionName::parse(&region).map_err(|_| refuse("region", region, REGION_RULE))?;
    Ok(Some(Place { account, region }))
}

/// Like [`parse`], with the account and Region the payload is for: a
/// SageMaker event's own `account` and `region`, or those of a direct
/// invocation. `None`: the deployment's own (for a scheduled drift check,
/// every account and Region it manages).
pub fn parse_addressed(payload: &Value) -> Result<(Trigger, Option<Place>), InvalidPayload> {
    let Value::Object(fields) = payload else {
        return Err(InvalidPayload::new(
            "payload",
            Some(payload),
            "a JSON object (an EventBridge event or {\"action\": ...})",
        ));
    };
    if let Some(action) = fields.get("action") {
        return parse_direct(action, payload);
    }
    if fields.contains_key("detail-type") || fields.contains_key("source") {
        return parse_envelope(fields);
    }
    Err(InvalidPayload::new(
        "payload",
        Some(payload),
        "an EventBridge event (with `source` and `detail-type`) or a direct invocation \
         (with `action`)",
    ))
}

fn parse_direct(
    action: &Value,
    payload: &Value,
) -> Result<(Trigger, Option<Place>), InvalidPayload> {
    match action.as_str() {
        Some("reconcile") => {
            let req: DirectReconcile = from_object(payload, "")?;
            let trigger = Trigger::Reconcile {
                endpoint: endpoint_name(req.endpoint, "endpoint")?,
                dry_run: req.dry_run,
            };
            Ok((trigger, place(req.account, req.region, "")?))
        }
        Some(DRIFT_CHECK_ACTION) => {
            let req: DirectDriftCheck = from_object(payload, "")?;
            let trigger = Trigger::DriftCheck {
                dry_run: req.dry_run,
            };
            Ok((trigger, place(req.account, req.region, "")?))
        }
        Some("release") => {
            let req: DirectRelease = from_object(payload, "")?;
            let duration = match req.duration {
                None => DEFAULT_RELEASE,
                Some(raw) => parse_duration(&raw).map_err(|_| {
                    InvalidPayload::new("for", Some(&Value::String(raw)), DURATION_RULE)
                })?,
            };
            let trigger = Trigger::Release {
                endpoint: endpoint_name(req.endpoint, "endpoint")?,
                duration,
                dry_run: req.dry_run,
            };
            Ok((trigger, place(req.account, req.region, "")?))
        }
        _ => Err(InvalidPayload::new("action", Some(action), ACTIONS)),
    }
}

/// The fields of an EventBridge envelope that the tool reads, besides the
/// `account` and `region` of a SageMaker event. The others (`id`,
/// `version`, `time`, `resources`) are never looked at, so that no value in
/// them can make a valid event fail: the SageMaker developer guide's own
/// sample has an epoch-millisecond `time`, which the crate's typed `time`
/// would refuse.
const ENVELOPE_FIELDS: [&str; 3] = ["source", "detail-type", "detail"];

/// The `account` and `region` of an event, where it happened.
fn event_place(fields: &Map<String, Value>) -> Result<Option<Place>, InvalidPayload> {
    let text = |name: &str| -> Result<Option<String>, InvalidPayload> {
        match fields.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(InvalidPayload::new(
                name,
                Some(other),
                expected_of(name).unwrap_or("a string"),
            )),
        }
    };
    place(text("account")?, text("region")?, "")
}

fn parse_envelope(fields: &Map<String, Value>) -> Result<(Trigger, Option<Place>), InvalidPayload> {
    let read: Map<String, Value> = ENVELOPE_FIELDS
        .iter()
        .filter_map(|&name| Some((name.to_string(), fields.get(name)?.clone())))
        .collect();
    let event: EventBridgeEvent<Value> = from_object(&Value::Object(read), "")?;
    let detail = &event.detail;
    match (event.source.as_str(), event.detail_type.as_str()) {
        (SAGEMAKER_SOURCE, ENDPOINT_STATE_CHANGE) => {
            let detail: EndpointStateDetail = from_object(detail, "detail")?;
            let endpoint = endpoint_name(detail.endpoint_name, "detail.EndpointName")?;
            if !is_event_status(&detail.endpoint_status) {
                return Err(InvalidPayload::new(
                    "detail.EndpointStatus",
                    Some(&Value::String(detail.endpoint_status)),
                    STATUS_RULE,
                ));
            }
            let trigger = Trigger::EndpointStateChange {
                endpoint,
                status: detail.endpoint_status,
            };
            Ok((trigger, event_place(fields)?))
        }
        // A schedule's own account and Region are the deployment's: the
        // check it starts is for every place the deployment manages.
        (SCHEDULE_RULE_SOURCE, SCHEDULED_EVENT) => match detail {
            Value::Object(d) if d.is_empty() => Ok((Trigger::DriftCheck { dry_run: false }, None)),
            _ => Err(InvalidPayload::new(
                "detail",
                Some(detail),
                "{} (a schedule rule's event has an empty detail)",
            )),
        },
        (SCHEDULER_SOURCE, SCHEDULED_EVENT) => match detail.as_str() {
            Some("{}") => Ok((Trigger::DriftCheck { dry_run: false }, None)),
            _ => Err(InvalidPayload::new(
                "detail",
                Some(detail),
                "\"{}\" (EventBridge Scheduler without an input sends the string \"{}\")",
            )),
        },
        (SAGEMAKER_SOURCE, _) => Err(InvalidPayload::new(
            "detail-type",
            Some(&Value::String(event.detail_type.clone())),
            format!("{ENDPOINT_STATE_CHANGE:?} for source {SAGEMAKER_SOURCE}"),
        )),
        (SCHEDULE_RULE_SOURCE | SCHEDULER_SOURCE, _) => Err(InvalidPayload::new(
            "detail-type",
            Some(&Value::String(event.detail_type.clone())),
            format!("{SCHEDULED_EVENT:?} for source {}", event.source),
        )),
        (source, _) => Err(InvalidPayload::new(
            "source",
            Some(&Value::String(source.to_string())),
            format!("one of {SAGEMAKER_SOURCE}, {SCHEDULE_RULE_SOURCE}, {SCHEDULER_SOURCE}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        payload_from_bytes(&raw).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The error for `payload`, checked to name `field`.
    fn refused(payload: &Value, field: &str) -> InvalidPayload {
        let err = parse(payload).unwrap_err();
        assert_eq!(err.field, field, "{payload}: {err}");
        assert!(err.to_string().starts_with(&format!("{field}: ")), "{err}");
        err
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
        for (payload, field, got, expected) in [
            (
                json!({"action": "release", "endpoint": "x1", "for": "3 hours"}),
                "for",
                Some("\"3 hours\""),
                DURATION_RULE,
            ),
            (
                json!({"action": "release", "endpoint": "x1", "for": "2d"}),
                "for",
                Some("\"2d\""),
                DURATION_RULE,
            ),
            (
                json!({"action": "release", "endpoint": "x1", "for": 2}),
                "for",
                Some("2"),
                DURATION_RULE,
            ),
            (
                json!({"action": "release", "endpoint": "x1", "until": "2h"}),
                "until",
                Some("\"2h\""),
                "no such field",
            ),
            (
                json!({"action": "release"}),
                "endpoint",
                None,
                ENDPOINT_NAME_RULE,
            ),
            (
                json!({"action": "release", "endpoint": "a_b"}),
                "endpoint",
                Some("\"a_b\""),
                ENDPOINT_NAME_RULE,
            ),
        ] {
            let err = parse(&payload).unwrap_err();
            assert_eq!(err.field, field, "{payload}: {err}");
            assert_eq!(err.got.as_deref(), got, "{payload}: {err}");
            assert!(err.expected.contains(expected), "{payload}: {err}");
        }
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
    }

    #[test]
    fn scheduled_events_with_any_other_detail_are_refused() {
        let rule = fixture("drift-check-schedule-rule.json");
        let scheduler = fixture("drift-check-scheduler.json");
        for (base, detail) in [
            (&rule, json!("{}")),
            (&rule, json!({"action": "drift-check"})),
            (&rule, json!([])),
            (&rule, json!(null)),
            (&scheduler, json!({})),
            (&scheduler, json!("{\"dry_run\": true}")),
            (&scheduler, json!("")),
            (&scheduler, json!(["{}"])),
        ] {
            let mut event = base.clone();
            event["detail"] = detail.clone();
            let err = refused(&event, "detail");
            assert!(
                err.got.as_deref() == Some(detail.to_string().as_str()),
                "{err}"
            );
        }
        let mut missing = rule.clone();
        missing.as_object_mut().unwrap().remove("detail");
        assert_eq!(refused(&missing, "detail").got, None);
        let mut other = rule.clone();
        other["detail-type"] = json!("Object Created");
        refused(&other, "detail-type");
        let err = refused(&json!({"action": "drift-check", "mode": "fix"}), "mode");
        assert!(err.expected.contains("`dry_run`"), "{err}");
    }

    #[test]
    fn a_detail_that_is_an_array_is_refused() {
        let mut event = fixture("endpoint-in-service.json");
        event["detail"] = json!(["some-endpoint", "IN_SERVICE"]);
        let err = refused(&event, "detail");
        assert_eq!(err.expected, "a JSON object");
        assert_eq!(
            err.got.as_deref(),
            Some(r#"["some-endpoint","IN_SERVICE"]"#)
        );
    }

    #[test]
    fn no_payload_struct_is_filled_from_an_array() {
        // Every struct read from a payload, given the array serde would
        // otherwise map onto its fields by position.
        let detail: Result<EndpointStateDetail, _> =
            from_object(&json!(["a", "IN_SERVICE"]), "detail");
        assert_eq!(detail.unwrap_err().field, "detail");
        let reconcile: Result<DirectReconcile, _> =
            from_object(&json!(["reconcile", "a", false]), "");
        assert_eq!(reconcile.unwrap_err().field, "payload");
        let drift: Result<DirectDriftCheck, _> = from_object(&json!(["drift-check", false]), "");
        assert_eq!(drift.unwrap_err().field, "payload");
        let envelope: Result<EventBridgeEvent<Value>, _> =
            from_object(&json!(["x", "aws.sagemaker", {}]), "");
        assert_eq!(envelope.unwrap_err().field, "payload");
    }

    #[test]
    fn epoch_millisecond_times_in_the_detail_are_accepted() {
        let mut event = fixture("endpoint-in-service.json");
        event["detail"]["CreationTime"] = json!(1_583_831_889_050.5_f64);
        assert!(parse(&event).is_ok());
    }

    #[test]
    fn the_developer_guide_sample_event_is_accepted() {
        assert_eq!(
            parse(&fixture("endpoint-in-service-doc-sample.json")).unwrap(),
            Trigger::EndpointStateChange {
                endpoint: "MyEndpoint".into(),
                status: "IN_SERVICE".into()
            }
        );
    }

    #[test]
    fn envelope_fields_the_tool_does_not_read_never_fail_an_event() {
        let base = fixture("endpoint-in-service.json");
        for field in ["id", "version", "time", "resources"] {
            for value in [
                None,
                Some(json!(null)),
                Some(json!(42)),
                Some(json!("not a time")),
                Some(json!([{"nested": true}])),
                Some(json!({"x": 1})),
            ] {
                let mut event = base.clone();
                match &value {
                    None => {
                        event.as_object_mut().unwrap().remove(field);
                    }
                    Some(v) => event[field] = v.clone(),
                }
                assert!(parse(&event).is_ok(), "{field} = {value:?}");
            }
        }
    }

    #[test]
    fn an_event_is_for_the_account_and_region_it_happened_in() {
        let mut event = fixture("endpoint-in-service.json");
        event["account"] = json!("111111111111");
        event["region"] = json!("eu-west-1");
        let (trigger, place) = parse_addressed(&event).unwrap();
        assert!(matches!(trigger, Trigger::EndpointStateChange { .. }));
        let place = place.unwrap();
        assert_eq!(
            (place.account.as_str(), place.region.as_str()),
            ("111111111111", "eu-west-1")
        );
        // A schedule's own account and Region do not narrow the check.
        assert_eq!(
            parse_addressed(&fixture("drift-check-schedule-rule.json"))
                .unwrap()
                .1,
            None
        );
        for (field, value, rule) in [
            ("account", json!("12345"), "12 digits"),
            ("account", json!(42), "12 digits"),
            ("region", json!("Europe"), "Region name"),
        ] {
            let mut bad = event.clone();
            bad[field] = value;
            assert!(refused(&bad, field).to_string().contains(rule), "{field}");
        }
        event.as_object_mut().unwrap().remove("region");
        assert!(refused(&event, "region")
            .to_string()
            .contains("given with `account`"));
    }

    #[test]
    fn a_direct_request_may_name_an_account_and_region() {
        let (trigger, place) = parse_addressed(&json!({
            "action": "drift-check", "account": "111111111111", "region": "us-east-1"
        }))
        .unwrap();
        assert_eq!(trigger, Trigger::DriftCheck { dry_run: false });
        assert_eq!(place.unwrap().account.as_str(), "111111111111");
        let (_, place) =
            parse_addressed(&json!({"action": "reconcile", "endpoint": "e1"})).unwrap();
        assert_eq!(place, None);
        let only_account =
            json!({"action": "release", "endpoint": "e1", "account": "111111111111"});
        refused(&only_account, "region");
        let only_region = json!({"action": "reconcile", "endpoint": "e1", "region": "us-east-1"});
        refused(&only_region, "account");
    }

    #[test]
    fn every_rejection_names_the_field_the_value_and_what_was_expected() {
        let in_service = fixture("endpoint-in-service.json");
        let with = |path: &[&str], value: Value| {
            let mut event = in_service.clone();
            let mut at = &mut event;
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = value;
            event
        };
        let cases: Vec<(Value, &str, Option<&str>, &str)> = vec![
            (
                with(&["detail", "EndpointStatus"], json!(null)),
                "detail.EndpointStatus",
                Some("null"),
                "event spelling",
            ),
            (
                with(&["detail", "EndpointStatus"], json!("InService")),
                "detail.EndpointStatus",
                Some("\"InService\""),
                "IN_SERVICE",
            ),
            (
                with(&["detail", "EndpointName"], json!(42)),
                "detail.EndpointName",
                Some("42"),
                "SageMaker endpoint name",
            ),
            (
                with(&["detail", "EndpointName"], json!("../etc/passwd")),
                "detail.EndpointName",
                Some("\"../etc/passwd\""),
                "SageMaker endpoint name",
            ),
            (
                with(&["source"], json!(["aws.sagemaker"])),
                "source",
                Some("[\"aws.sagemaker\"]"),
                "string",
            ),
            (
                with(&["source"], json!("aws.ec2")),
                "source",
                Some("\"aws.ec2\""),
                "aws.sagemaker",
            ),
            (
                with(&["detail-type"], json!(7)),
                "detail-type",
                Some("7"),
                "string",
            ),
            (
                json!({"action": "reconcile", "endpoint": "x", "dry_run": "false"}),
                "dry_run",
                Some("\"false\""),
                "true or false",
            ),
            (
                json!({"action": "reconcile"}),
                "endpoint",
                None,
                "SageMaker endpoint name",
            ),
            (
                json!({"action": "reconcile", "endpoint": "x", "force": true}),
                "force",
                Some("true"),
                "no such field",
            ),
            (
                json!({"action": "reconcile", "endpoint": "bad name!"}),
                "endpoint",
                Some("\"bad name!\""),
                "SageMaker endpoint name",
            ),
            (
                json!({"action": "explode"}),
                "action",
                Some("\"explode\""),
                "\"reconcile\"",
            ),
            (json!({"action": 3}), "action", Some("3"), "drift-check"),
            (json!([1, 2]), "payload", Some("[1,2]"), "JSON object"),
            (json!("hello"), "payload", Some("\"hello\""), "JSON object"),
            (
                json!({"hello": "world"}),
                "payload",
                Some("{\"hello\":\"world\"}"),
                "action",
            ),
        ];
        for (payload, field, got, expected) in cases {
            let err = refused(&payload, field);
            assert_eq!(err.got.as_deref(), got, "{err}");
            assert!(err.expected.contains(expected), "{err}");
        }
        let err = refused(
            &fixture("malformed-missing-endpoint-name.json"),
            "detail.EndpointName",
        );
        assert_eq!(
            err.to_string(),
            format!("detail.EndpointName: missing, expected {ENDPOINT_NAME_RULE}")
        );
        refused(
            &fixture("malformed-wrong-types.json"),
            "detail.EndpointName",
        );
        refused(&fixture("malformed-unknown-source.json"), "source");
    }

    #[test]
    fn quoted_values_are_cut_short() {
        let long = "x".repeat(10_000);
        let err = refused(&json!({"action": long}), "action");
        let got = err.got.unwrap();
        assert_eq!(got, format!("\"{}...", "x".repeat(QUOTE_CHARS - 1)));
        // Cut on a character boundary, never inside one.
        let err = refused(&json!({"action": "é".repeat(100)}), "action");
        assert_eq!(err.got.unwrap().chars().count(), QUOTE_CHARS + 3);
    }

    #[test]
    fn oversized_payloads_are_refused_before_parsing() {
        // Not even JSON: only the length is looked at.
        let raw = vec![b'['; MAX_PAYLOAD_BYTES + 1];
        let err = payload_from_bytes(&raw).unwrap_err();
        assert_eq!(err.field, "payload");
        assert!(err.to_string().contains("at most 262144 bytes"), "{err}");
        assert!(err.to_string().contains("262145 bytes"), "{err}");
        let mut padded = br#"{"action": "drift-check"}"#.to_vec();
        padded.resize(MAX_PAYLOAD_BYTES, b' ');
        assert!(payload_from_bytes(&padded).is_ok());
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_and_nothing_else_is() {
        let json = br#"{"action": "drift-check"}"#;
        let with_bom = [UTF8_BOM, json].concat();
        assert_eq!(
            parse(&payload_from_bytes(&with_bom).unwrap()).unwrap(),
            Trigger::DriftCheck { dry_run: false }
        );
        let twice = [UTF8_BOM, UTF8_BOM, json].concat();
        let err = payload_from_bytes(&twice).unwrap_err();
        assert!(err.to_string().contains("is not JSON"), "{err}");
        let utf16_bom = [b"\xFF\xFE".as_slice(), json].concat();
        assert!(payload_from_bytes(&utf16_bom).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_without_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = payload_from_bytes(deep.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
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
