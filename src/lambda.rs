//! The Lambda face: a thin loop over the Runtime API around the handler.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::app;
use crate::drift::report::{emf_line, DriftSummary};
use crate::error::GuardError;
use crate::handler::Invocation;
use crate::org::hub::{emf_for_place, Hub};
use crate::org::settings::OrgSettings;
use crate::trigger;

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
    // The payload is taken as raw text, so that its size is checked before
    // any JSON tree is built from it.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let invocation = Invocation {
                force_dry_run: false,
                deadline: deadline_of(event.context.deadline, now_ms(), Instant::now()),
            };
            let payload = payload_of(&event.payload)?;
            let result = hub.handle(payload, invocation).await?;
            // Drift counts as metrics, from the log line alone: no API call.
            if let Some(summary) = result.get("summary") {
                if let Ok(summary) = serde_json::from_value::<DriftSummary>(summary.clone()) {
                    let line = emf_line(&summary, drift_mode, now_ms());
                    println!("{}", emf_for_place(line, &result));
                }
            }
            Ok::<Value, GuardError>(result)
        },
    ))
    .await
}

/// The JSON of a raw payload, refused whole when it is over the size limit.
fn payload_of(raw: &RawValue) -> Result<Value, GuardError> {
    trigger::payload_from_bytes(raw.get().as_bytes())
        .map_err(|e| GuardError::InvalidEvent(e.to_string()))
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

    #[test]
    fn an_oversized_payload_is_refused_with_the_limit() {
        let big = format!("[{}1]", "1,".repeat(trigger::MAX_PAYLOAD_BYTES / 2));
        let raw = RawValue::from_string(big).unwrap();
        let err = payload_of(&raw).unwrap_err();
        assert_eq!(err.error_type(), "InvalidEvent");
        assert!(err.to_string().contains("at most 262144 bytes"), "{err}");
        let small = RawValue::from_string(r#"{"action": "drift-check"}"#.into()).unwrap();
        assert_eq!(payload_of(&small).unwrap()["action"], "drift-check");
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
