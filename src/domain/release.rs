//! Releasing an endpoint for an update. AWS refuses an `UpdateEndpoint`
//! that changes the instance type of, or removes, a variant registered as a
//! scalable target, so a deploy pipeline first releases the endpoint: the
//! tool's scaling is removed and the endpoint carries a release mark (two
//! tags) that keeps every reconcile away from it until the update it was
//! made for has happened, or until the mark expires.
//!
//! The mark is judged from what the endpoint looks like now, never from
//! what triggered a reconcile: it is spent once the endpoint is `InService`
//! with a `LastModifiedTime` later than the one it had when it was
//! released. Both times come from SageMaker's clock, so a skewed local
//! clock cannot end a mark early.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Serialize;
use serde_json::json;

use super::desired::{desired_for, is_opted_out, EndpointIntent, SkipReason, TagError};
use super::plan::{Action, AlarmAction, Change, Difference, ScalingAction};
use super::snapshot::{EndpointSnapshot, VariantScaling};
use crate::config::Settings;
use crate::difference::Subject;
use crate::resource::Scaled;

pub mod all;

/// When the release mark expires (RFC 3339, UTC).
pub const TAG_RELEASED_UNTIL: &str = "autoscaling:released-until";
/// The endpoint's `LastModifiedTime` when it was released (RFC 3339, UTC,
/// milliseconds): a later one means the update has happened.
pub const TAG_RELEASED_LAST_MODIFIED: &str = "autoscaling:released-last-modified";
pub const RELEASE_TAGS: [&str; 2] = [TAG_RELEASED_UNTIL, TAG_RELEASED_LAST_MODIFIED];

/// How long a release lasts unless told otherwise: long enough for an
/// endpoint update, short enough that a forgotten release heals itself.
pub const DEFAULT_RELEASE: TimeDelta = TimeDelta::hours(1);
/// The longest release: past it, opting out (`autoscaling:enabled=false`) is
/// the honest tool.
pub const MAX_RELEASE: TimeDelta = TimeDelta::hours(24);

/// What a release duration looks like, for messages about one.
pub const DURATION_RULE: &str =
    "a whole number of minutes, hours or days from 1m to 24h, such as 30m, 2h or 1d";

/// Parses a release duration: a whole number followed by `m`, `h` or `d`
/// (`30m`, `2h`, `1d`), from one minute to `MAX_RELEASE`.
pub fn parse_duration(raw: &str) -> Result<TimeDelta, String> {
    let expected = format!("expected {DURATION_RULE}");
    let expected = expected.as_str();
    let bad = |why: &str| format!("{raw:?} is not a release duration: {why}");
    let split = raw
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| bad(expected))?;
    let (digits, unit) = raw.split_at(split);
    if digits.is_empty() {
        return Err(bad(expected));
    }
    let n: i64 = digits.parse().map_err(|_| bad("the number is too large"))?;
    let duration = match unit {
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        _ => return Err(bad(expected)),
    }
    .ok_or_else(|| bad("the number is too large"))?;
    if duration < TimeDelta::minutes(1) {
        return Err(bad("a release lasts at least 1m"));
    }
    if duration > MAX_RELEASE {
        return Err(bad(
            "a release lasts at most 24h (tag the endpoint autoscaling:enabled=false to leave it alone for longer)",
        ));
    }
    Ok(duration)
}

/// A `LastModifiedTime` as its release tag holds it: RFC 3339, UTC, to the
/// millisecond.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A release's expiry as its tag holds it: RFC 3339, UTC, to the second.
pub fn format_until(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Milliseconds since the epoch, rounded to the nearest: SageMaker's times
/// are exact to the millisecond, and rounding keeps a value read twice
/// (through floating-point epoch seconds) from ever differing.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    let nanos = t.timestamp_subsec_nanos() % 1_000_000;
    t.timestamp_millis() + i64::from(nanos >= 500_000)
}

/// `t` at millisecond precision, rounded as `to_millis` rounds.
pub fn round_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(to_millis(t)).unwrap_or(t)
}

/// Why a release mark no longer holds the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpentCause {
    /// The endpoint was modified since it was released and is in service.
    Updated,
    /// The mark ran out before that happened.
    Expired,
}

/// Where an endpoint stands with respect to a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseState {
    /// No release mark: managed as usual.
    NotReleased,
    /// Released and the update has not happened yet: left alone.
    Released { until: DateTime<Utc> },
    /// The mark has done its job or run out: it is cleared and the endpoint
    /// is managed as usual.
    Spent {
        cause: SpentCause,
        until: DateTime<Utc>,
    },
}

fn tag_error(tag: &str, value: &str, problem: impl Into<String>) -> TagError {
    TagError {
        tag: tag.to_string(),
        value: value.to_string(),
        problem: problem.into(),
    }
}

fn parse_time(tag: &str, raw: &str) -> Result<DateTime<Utc>, TagError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            tag_error(
                tag,
                raw,
                format!("expected an RFC 3339 time such as 2026-01-31T17:00:00Z ({e})"),
            )
        })
}

/// The release state of an endpoint at `now`. A mark that cannot be read
/// is an error naming the tag, never a silent skip or a silent onboarding.
pub fn release_state(
    snapshot: &EndpointSnapshot,
    now: DateTime<Utc>,
) -> Result<ReleaseState, TagError> {
    let tags = &snapshot.tags;
    let (until, modified) = match (
        tags.get(TAG_RELEASED_UNTIL),
        tags.get(TAG_RELEASED_LAST_MODIFIED),
    ) {
        (None, None) => return Ok(ReleaseState::NotReleased),
        (Some(until), Some(modified)) => (until, modified),
        (Some(value), None) | (None, Some(value)) => {
            let (tag, missing) = if tags.contains_key(TAG_RELEASED_UNTIL) {
                (TAG_RELEASED_UNTIL, TAG_RELEASED_LAST_MODIFIED)
            } else {
                (TAG_RELEASED_LAST_MODIFIED, TAG_RELEASED_UNTIL)
            };
            return Err(tag_error(
                tag,
                value,
                format!(
                    "a release mark needs {missing} too; release the endpoint again, \
                     or delete the tag to end the release"
                ),
            ));
        }
    };
    let until = parse_time(TAG_RELEASED_UNTIL, until)?;
    let released_at = parse_time(TAG_RELEASED_LAST_MODIFIED, modified)?;
    let updated = snapshot.is_in_service()
        && snapshot
            .last_modified
            .is_some_and(|t| to_millis(t) > to_millis(released_at));
    Ok(if updated {
        ReleaseState::Spent {
            cause: SpentCause::Updated,
            until,
        }
    } else if now >= until {
        ReleaseState::Spent {
            cause: SpentCause::Expired,
            until,
        }
    } else {
        ReleaseState::Released { until }
    })
}

/// The endpoint's intent with its release mark taken into account: a
/// released endpoint is skipped; otherwise the desired state as usual.
/// Opting out wins over every other tag, a broken release mark included.
pub fn endpoint_intent(
    snapshot: &EndpointSnapshot,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(EndpointIntent, ReleaseState), TagError> {
    let release = match release_state(snapshot, now) {
        Err(_) if is_opted_out(snapshot) => ReleaseState::NotReleased,
        other => other?,
    };
    let intent = match &release {
        ReleaseState::Released { until } => EndpointIntent::Skip(SkipReason::Released {
            until: format_until(*until),
        }),
        ReleaseState::NotReleased | ReleaseState::Spent { .. } => desired_for(snapshot, settings)?,
    };
    Ok((intent, release))
}

/// What the release mark of an endpoint is, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseMark {
    /// `released` (left alone) or `spent` (cleared, or to be cleared).
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<SpentCause>,
    pub until: String,
    /// The mark's tags were deleted.
    pub cleared: bool,
}

impl ReleaseMark {
    pub fn of(state: &ReleaseState, cleared: bool) -> Option<Self> {
        match state {
            ReleaseState::NotReleased => None,
            ReleaseState::Released { until } => Some(Self {
                state: "released",
                cause: None,
                until: format_until(*until),
                cleared: false,
            }),
            ReleaseState::Spent { cause, until } => Some(Self {
                state: "spent",
                cause: Some(*cause),
                until: format_until(*until),
                cleared,
            }),
        }
    }
}

/// The two tags that mark an endpoint, last modified at `last_modified`,
/// released until `until`.
pub fn release_tags(last_modified: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(String, String)> {
    vec![
        (TAG_RELEASED_UNTIL.to_string(), format_until(until)),
        (
            TAG_RELEASED_LAST_MODIFIED.to_string(),
            format_time(round_to_millis(last_modified)),
        ),
    ]
}

/// Scaling on a variant that is not this tool's: a release is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignScaling {
    pub variant: String,
    /// `policy <name>` and `scheduled action <name>`, sorted.
    pub items: Vec<String>,
}

impl fmt::Display for ForeignScaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "variant {} has {}", self.variant, self.items.join(", "))
    }
}

/// The changes that remove this tool's scaling from an endpoint's variants:
/// each owned alarm (before the policy it drives), owned policy and owned
/// scheduled action, then the target, which nothing else then uses. Any
/// foreign policy or scheduled action on any variant refuses the whole
/// release: the endpoint is then left exactly as it was, and a pipeline
/// fails before it starts an update that AWS would refuse anyway.
pub fn plan_release(
    actual: &BTreeMap<String, VariantScaling>,
) -> Result<Vec<Change>, Vec<ForeignScaling>> {
    let foreign: Vec<ForeignScaling> = actual
        .iter()
        .filter_map(|(rid, scaling)| {
            let items = scaling.foreign_items();
            let variant = Scaled::parse(rid).map_or(rid.clone(), |s| s.label());
            (!items.is_empty()).then_some(ForeignScaling { variant, items })
        })
        .collect();
    if !foreign.is_empty() {
        return Err(foreign);
    }
    let because = || {
        vec![Difference::new(
            &Subject::Endpoint,
            "released",
            json!(false),
            json!(true),
        )]
    };
    let mut changes = Vec::new();
    for (rid, scaling) in actual {
        let Some(subject) = Scaled::parse(rid) else {
            continue;
        };
        let dimension = scaling
            .target
            .as_ref()
            .map(|t| t.dimension)
            .or_else(|| scaling.policies.first().map(|p| p.dimension))
            .or_else(|| scaling.scheduled.first().map(|s| s.dimension))
            .unwrap_or_default();
        let change =
            |dimension, action: Action| Change::new(&subject, dimension, action, because());
        changes.extend(scaling.alarms.iter().map(|a| {
            change(
                dimension,
                AlarmAction::DeleteAlarm {
                    alarm_name: a.name.clone(),
                }
                .into(),
            )
        }));
        changes.extend(scaling.policies.iter().map(|p| {
            change(
                p.dimension,
                ScalingAction::DeletePolicy {
                    policy_name: p.name.clone(),
                }
                .into(),
            )
        }));
        changes.extend(scaling.scheduled.iter().map(|s| {
            let name = s.name.clone();
            change(
                s.dimension,
                ScalingAction::DeleteScheduledAction {
                    scheduled_action_name: name,
                }
                .into(),
            )
        }));
        // A target with nothing on it is the tool's too: a reconcile adopts
        // such targets, and it would block the update all the same.
        if let Some(t) = &scaling.target {
            changes.push(change(t.dimension, ScalingAction::DeregisterTarget.into()));
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests;
