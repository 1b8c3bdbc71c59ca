//! The Lambda face: a thin loop over the Runtime API around the handler.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::tower::util::MapRequestLayer;
use lambda_runtime::{layers, service_fn, Error, LambdaEvent, LambdaInvocation, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app;
use crate::drift::report::emf_line;
use crate::error::GuardError;
use crate::handler::{Invocation, Response};
use crate::org::hub::Hub;
use crate::org::settings::OrgSettings;
use crate::trigger::{self, InvalidPayload, MAX_PAYLOAD_BYTES};

pub async fn run() -> Result<(), Error> {
    app::init_logging(true);
    // A bad setting stops the function here, before any event is taken,
    // with a message that names the variable and the value.
    let settings = app::load_settings()
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let drift_mode = settings.drift_mode;
    let org = OrgSettings::from_env()
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let hub = Hub::new(crate::aws::sdk_config_from_env().await, settings, org);
    let hub = &hub;
    let function = service_fn(move |event: LambdaEvent<RawPayload>| async move {
        let invocation = Invocation {
            force_dry_run: false,
            deadline: deadline_of(event.context.deadline, now_ms(), Instant::now()),
        };
        let placed = match payload_of(&event.payload) {
            Ok(payload) => hub.handle(payload, invocation).await,
            Err(e) => Err(e),
        }
        .map_err(Failed::logged)?;
        // Drift counts as metrics, from the log line alone: no API call.
        if let Response::DriftCheck(report) = &placed.response {
            let place = placed.place.as_ref();
            let place = place.map(|p| (p.account.as_str(), p.region.as_str()));
            println!("{}", emf_line(&report.summary, drift_mode, now_ms(), place));
        }
        Ok::<_, Failed>(placed)
    });
    Runtime::new(function)
        .layer(MapRequestLayer::new(|mut invocation: LambdaInvocation| {
            invocation.body = RawPayload::wrap(&invocation.body).into();
            invocation
        }))
        .layer(layers::TracingLayer::new())
        .run()
        .await
}

/// A failed invocation. The runtime logs a handler's error in its `Debug`
/// form: here that is the type and the message on one line.
struct Failed(GuardError);

impl Failed {
    fn logged(err: GuardError) -> Self {
        tracing::error!(
            endpoint = err.endpoint(),
            outcome = "error",
            error_type = err.error_type().as_str(),
            error = %err,
            "invocation failed"
        );
        Failed(err)
    }
}

impl std::fmt::Debug for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.error_type(), self.0)
    }
}

impl From<Failed> for lambda_runtime::Diagnostic {
    fn from(failed: Failed) -> Self {
        failed.0.into()
    }
}

/// A payload as the caller sent it: its size, and its text when it is
/// within the size limit and UTF-8. The runtime would refuse a payload that
/// is not JSON with an error type of its own; wrapped, every payload reaches
/// the handler, which refuses a bad one as `InvalidEvent` like any other,
/// and an oversized one is never parsed at all.
#[derive(Debug, Serialize, Deserialize)]
struct RawPayload {
    size: usize,
    text: Option<String>,
}

impl RawPayload {
    fn wrap(body: &[u8]) -> Vec<u8> {
        let text = if body.len() > MAX_PAYLOAD_BYTES {
            None
        } else {
            std::str::from_utf8(body).ok().map(str::to_string)
        };
        let raw = RawPayload {
            size: body.len(),
            text,
        };
        serde_json::to_vec(&raw).expect("a size and a string serialize")
    }
}

/// The JSON of a raw payload, refused whole when it is over the size limit.
fn payload_of(raw: &RawPayload) -> Result<Value, GuardError> {
    let invalid = |e: InvalidPayload| GuardError::InvalidEvent(e.to_string());
    match &raw.text {
        Some(text) => trigger::payload_from_bytes(text.as_bytes()).map_err(invalid),
        None if raw.size > MAX_PAYLOAD_BYTES => Err(invalid(trigger::too_large(raw.size))),
        None => Err(invalid(InvalidPayload {
            field: "payload".to_string(),
            got: Some("bytes that are not UTF-8 text".to_string()),
            expected: "a JSON document".to_string(),
        })),
    }
}

/// The invocation's deadline (epoch milliseconds) as an `Instant`. A
/// deadline that has already passed when the invocation starts cannot be
/// right (a skewed clock, or an emulator that sends none): honouring it
/// would mean doing nothing at all, so it is ignored, with a warning.
fn deadline_of(deadline_ms: u64, now_ms: u64, now: Instant) -> Option<Instant> {
    if deadline_ms <= now_ms {
        tracing::warn!(
            deadline_ms,
            now_ms,
            "the invocation deadline has already passed; ignoring it"
        );
        return None;
    }
    Some(now + Duration::from_millis(deadline_ms - now_ms))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;

    fn through_the_runtime(body: &[u8]) -> Result<Value, GuardError> {
        let raw: RawPayload = serde_json::from_slice(&RawPayload::wrap(body)).unwrap();
        payload_of(&raw)
    }

    #[test]
    fn an_oversized_payload_is_refused_with_its_size() {
        let big = format!("[{}1]", "1,".repeat(MAX_PAYLOAD_BYTES / 2));
        let err = through_the_runtime(big.as_bytes()).unwrap_err();
        assert_eq!(err.error_type(), ErrorType::InvalidEvent);
        let size = big.len();
        assert!(err.to_string().contains("at most 262144 bytes"), "{err}");
        assert!(
            err.to_string().contains(&format!("got {size} bytes")),
            "{err}"
        );
        let small = through_the_runtime(br#"{"action": "drift-check"}"#).unwrap();
        assert_eq!(small["action"], "drift-check");
    }

    #[test]
    fn a_payload_that_is_not_json_is_an_invalid_event() {
        for body in [
            &b"this is not json"[..],
            b"{\"action\":",
            b"",
            b"\xff\xfe{}",
        ] {
            let err = through_the_runtime(body).unwrap_err();
            assert_eq!(err.error_type(), ErrorType::InvalidEvent);
            let text = err.to_string();
            assert!(
                text.starts_with("invalid event: payload: expected a JSON document, got "),
                "{text}"
            );
        }
    }

    #[test]
    fn a_future_deadline_becomes_an_instant() {
        let now = Instant::now();
        assert_eq!(
            deadline_of(10_500, 10_000, now),
            Some(now + Duration::from_millis(500))
        );
    }

    #[test]
    fn a_deadline_in_the_past_is_ignored() {
        let now = Instant::now();
        assert_eq!(deadline_of(9_000, 10_000, now), None);
        // cargo lambda's emulator sends a duration (600000) instead of a time.
        assert_eq!(deadline_of(600_000, 1_795_846_863_676, now), None);
    }
}
