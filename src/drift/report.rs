//! What a drift check reports: a summary of counts, what drifted and what
//! was done, as JSON, as a table, and as a CloudWatch Embedded Metric Format
//! line that alarms can use without any API call.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::orphans::Orphan;
use crate::config::DriftMode;
use crate::domain::plan::Change;
use crate::reconcile::report::{EndpointReport, Outcome, VariantStatus};

pub const EMF_NAMESPACE: &str = "AutoscalingGuard";

/// Counts of variants, except `endpoints`, `not_reached` (endpoints, and
/// orphan candidates the sweep had no time to check), the orphan counts
/// (targets) and the call counts. `errors` also counts orphan candidates
/// whose fresh read or removal failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSummary {
    pub endpoints: u64,
    pub compliant: u64,
    pub drifted: u64,
    pub remediated: u64,
    pub skipped: u64,
    pub errors: u64,
    pub orphans_found: u64,
    pub orphans_removed: u64,
    pub not_reached: u64,
    pub reads: u64,
    pub writes: u64,
}

/// One endpoint that is not simply compliant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftEntry {
    /// What the sweep found, with the changes it would make.
    pub found: EndpointReport,
    /// What remediation did, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<EndpointReport>,
    /// Drifted, but the sweep ran out of time before reaching it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_reached: bool,
}

/// What became of an orphan candidate. Only a fresh read that finds the
/// endpoint, variant or component gone makes a candidate an orphan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanStatus {
    /// Confirmed gone; not removed (report mode or a dry run).
    Found,
    /// Confirmed gone and removed.
    Removed,
    /// Confirmed gone, but a removal failed (see `error`).
    Error,
    /// The fresh read failed (see `error`): whether it is gone is unknown,
    /// so nothing is removed.
    Unconfirmed,
    /// The fresh read found the endpoint and variant (or the component):
    /// the listing lagged behind. Not an orphan.
    StillInUse,
    /// Time ran short before the fresh read.
    NotReached,
}

impl OrphanStatus {
    /// Confirmed gone: what `orphans_found` counts.
    pub fn is_orphan(self) -> bool {
        matches!(self, Self::Found | Self::Removed | Self::Error)
    }

    pub fn is_error(self) -> bool {
        matches!(self, Self::Error | Self::Unconfirmed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Removed => "removed",
            Self::Error => "error",
            Self::Unconfirmed => "unconfirmed",
            Self::StillInUse => "still_in_use",
            Self::NotReached => "not_reached",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrphanReport {
    #[serde(flatten)]
    pub orphan: Orphan,
    pub status: OrphanStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    pub action: &'static str,
    pub mode: DriftMode,
    pub dry_run: bool,
    pub summary: DriftSummary,
    /// The endpoints that need attention, errors first, at most
    /// `MAX_LISTED_ENDPOINTS` of them.
    pub endpoints: Vec<DriftEntry>,
    /// How many more there were (the summary counts them all; the logs have
    /// one line per change).
    #[serde(skip_serializing_if = "is_zero")]
    pub endpoints_not_listed: u64,
    pub orphans: Vec<OrphanReport>,
    pub calls_by_operation: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Keeps a Lambda result well under its 6 MB limit, even when a whole fleet
/// is onboarded at once.
pub const MAX_LISTED_ENDPOINTS: usize = 200;

/// Keeps at most `limit` entries, the most serious first (errors, then
/// repairs and drift, then skips), in name order within each.
pub fn bounded(mut entries: Vec<DriftEntry>, limit: usize) -> (Vec<DriftEntry>, u64) {
    let rank = |e: &DriftEntry| {
        let outcome = e
            .remediation
            .as_ref()
            .map_or(e.found.outcome, |r| r.outcome);
        match outcome {
            Outcome::Error => 0,
            Outcome::Changed | Outcome::Drifted => 1,
            _ => 2,
        }
    };
    entries.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.found.endpoint.cmp(&b.found.endpoint))
    });
    let omitted = entries.len().saturating_sub(limit) as u64;
    entries.truncate(limit);
    (entries, omitted)
}

fn variant_count(report: &EndpointReport) -> u64 {
    report.variants.len().max(1) as u64
}

/// Counts what the sweep found and did; call counts are filled in by the
/// caller.
pub fn summarize(
    found: &[EndpointReport],
    entries: &[DriftEntry],
    orphans: &[OrphanReport],
) -> DriftSummary {
    let mut s = DriftSummary {
        endpoints: found.len() as u64,
        ..DriftSummary::default()
    };
    for report in found {
        match report.outcome {
            // Endpoint-level outcomes count once per variant.
            Outcome::Error if report.variants.is_empty() => s.errors += variant_count(report),
            Outcome::Skipped if report.variants.is_empty() => s.skipped += variant_count(report),
            Outcome::Gone => {}
            _ => {
                for v in &report.variants {
                    match v.status {
                        VariantStatus::Compliant => s.compliant += 1,
                        VariantStatus::Drifted | VariantStatus::Changed => s.drifted += 1,
                        VariantStatus::Skipped => s.skipped += 1,
                        VariantStatus::Error => s.errors += 1,
                    }
                }
            }
        }
    }
    for entry in entries {
        if entry.not_reached {
            s.not_reached += 1;
        }
        if let Some(done) = &entry.remediation {
            if done.outcome == Outcome::Error && done.variants.is_empty() {
                s.errors += variant_count(done);
            }
            for v in &done.variants {
                match v.status {
                    VariantStatus::Changed => s.remediated += 1,
                    VariantStatus::Error => s.errors += 1,
                    _ => {}
                }
            }
        }
    }
    for o in orphans {
        s.orphans_found += u64::from(o.status.is_orphan());
        s.orphans_removed += u64::from(o.status == OrphanStatus::Removed);
        s.errors += u64::from(o.status.is_error());
        s.not_reached += u64::from(o.status == OrphanStatus::NotReached);
    }
    s
}

/// One CloudWatch Embedded Metric Format line with the summary's counts.
pub fn emf_line(summary: &DriftSummary, mode: DriftMode, timestamp_ms: u64) -> String {
    let counts = serde_json::to_value(summary).expect("summary serializes");
    let Value::Object(counts) = counts else {
        unreachable!("a struct serializes to an object")
    };
    let metrics: Vec<Value> = counts
        .keys()
        .map(|name| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": EMF_NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": metrics,
            }],
        },
        "Service": "autoscaling-guard",
        "Mode": mode,
    });
    for (name, value) in counts {
        line[name] = value;
    }
    line.to_string()
}

/// The summary and the endpoints that need attention, for a terminal.
pub fn table(report: &DriftReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let mode = match (report.mode, report.dry_run) {
        (_, true) => "dry run",
        (DriftMode::Report, _) => "report only",
        (DriftMode::Remediate, _) => "remediate",
    };
    let _ = writeln!(out, "drift check ({mode})");
    for (label, n) in [
        ("endpoints", s.endpoints),
        ("variants compliant", s.compliant),
        ("variants drifted", s.drifted),
        ("variants remediated", s.remediated),
        ("variants skipped", s.skipped),
        ("variants with errors", s.errors),
        ("orphans found", s.orphans_found),
        ("orphans removed", s.orphans_removed),
        ("endpoints not reached", s.not_reached),
        ("AWS reads", s.reads),
        ("AWS writes", s.writes),
    ] {
        let _ = writeln!(out, "  {label:<22} {n:>6}");
    }
    let mut rows = Vec::new();
    for entry in &report.endpoints {
        let found = &entry.found;
        if let Some(reason) = &found.reason {
            rows.push((
                found.endpoint.clone(),
                "skipped".to_string(),
                reason.to_string(),
            ));
        }
        if let Some(err) = &found.error {
            rows.push((found.endpoint.clone(), "error".to_string(), err.clone()));
        }
        for v in &found.variants {
            let after = entry
                .remediation
                .as_ref()
                .and_then(|done| done.variants.iter().find(|a| a.variant == v.variant));
            // What a repair did says what differed; otherwise the plan does.
            let shown = after.unwrap_or(v);
            let what = match shown.status {
                VariantStatus::Skipped => shown
                    .reason
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                VariantStatus::Error => shown.error.clone().unwrap_or_default(),
                _ => shown
                    .changes
                    .iter()
                    .flat_map(|c| c.because())
                    .map(|d| format!("{} {}: {} -> {}", d.subject, d.field, d.actual, d.desired))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            let mut status = format!("{:?}", v.status).to_lowercase();
            if let Some(after) = after {
                status = format!("{status} -> {:?}", after.status).to_lowercase();
            }
            if entry.not_reached {
                status.push_str(" (not reached)");
            }
            if v.status != VariantStatus::Compliant {
                rows.push((format!("{}/{}", found.endpoint, v.variant), status, what));
            }
        }
    }
    for o in &report.orphans {
        let cause = o.orphan.cause.as_str().to_string();
        rows.push((
            o.orphan.resource_id.clone(),
            format!("orphan {}", o.status.as_str()),
            match &o.error {
                Some(e) => format!("{cause}: {e}"),
                None => cause,
            },
        ));
    }
    if !rows.is_empty() {
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        let _ = writeln!(out);
        for (a, b, c) in rows {
            let _ = writeln!(out, "  {a:<w0$}  {b:<w1$}  {c}");
        }
    }
    if report.endpoints_not_listed > 0 {
        let _ = writeln!(
            out,
            "  ... and {} more endpoints (counted above; see the logs)",
            report.endpoints_not_listed
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::desired::SkipReason;
    use crate::reconcile::report::VariantReport;

    fn variant(status: VariantStatus) -> VariantReport {
        VariantReport {
            variant: format!("{status:?}"),
            status,
            reason: None,
            changes: vec![],
            error: None,
            error_type: None,
            max_raised_to_running: false,
        }
    }

    fn report(name: &str, outcome: Outcome, statuses: &[VariantStatus]) -> EndpointReport {
        let mut r = EndpointReport::new(name, true);
        r.outcome = outcome;
        r.variants = statuses.iter().copied().map(variant).collect();
        r
    }

    #[test]
    fn counts_variants_and_endpoint_level_outcomes() {
        use VariantStatus::*;
        let mut opted_out = report("c", Outcome::Skipped, &[]);
        opted_out.reason = Some(SkipReason::OptedOut);
        let found = vec![
            report("a", Outcome::Compliant, &[Compliant, Skipped]),
            report("b", Outcome::Drifted, &[Drifted, Drifted, Compliant]),
            opted_out,
            report("d", Outcome::Error, &[]),
        ];
        let mut fixed = report("b", Outcome::Changed, &[Changed, Error, Compliant]);
        fixed.dry_run = false;
        let entries = vec![
            DriftEntry {
                found: found[1].clone(),
                remediation: Some(fixed),
                not_reached: false,
            },
            DriftEntry {
                found: report("x", Outcome::Drifted, &[Drifted]),
                remediation: None,
                not_reached: true,
            },
        ];
        let s = summarize(&found, &entries, &[]);
        assert_eq!(
            s,
            DriftSummary {
                endpoints: 4,
                compliant: 2,
                drifted: 2,
                remediated: 1,
                skipped: 2,
                errors: 2,
                not_reached: 1,
                ..DriftSummary::default()
            }
        );
    }

    #[test]
    fn orphans_count_once_confirmed_and_their_failures_are_errors() {
        use super::super::orphans::{Orphan, OrphanCause};
        let orphan = |status| OrphanReport {
            orphan: Orphan {
                resource_id: "endpoint/gone/variant/a".into(),
                dimension: Default::default(),
                endpoint: "gone".into(),
                variant: "a".into(),
                cause: OrphanCause::EndpointGone,
                owned_policies: vec!["autoscaling-guard-invocations".into()],
                owned_scheduled_actions: vec![],
                owned_alarms: vec![],
                foreign: vec![],
            },
            status,
            changes: vec![],
            error: None,
        };
        use OrphanStatus::*;
        let all: Vec<_> = [Found, Removed, Error, Unconfirmed, StillInUse, NotReached]
            .into_iter()
            .map(orphan)
            .collect();
        let s = summarize(&[], &[], &all);
        assert_eq!(
            (s.orphans_found, s.orphans_removed, s.errors, s.not_reached),
            (3, 1, 2, 1),
            "{s:?}"
        );
    }

    #[test]
    fn the_table_shows_what_a_repair_changed_and_why() {
        use crate::domain::plan::Difference;
        use serde_json::json;
        let mut found = report("fraud", Outcome::Drifted, &[VariantStatus::Drifted]);
        found.variants[0].variant = "primary".into();
        let mut done = report("fraud", Outcome::Changed, &[VariantStatus::Changed]);
        done.variants[0].variant = "primary".into();
        done.variants[0].changes = vec![Change::RegisterTarget {
            resource_id: "endpoint/fraud/variant/primary".into(),
            dimension: Default::default(),
            min_capacity: 1,
            max_capacity: 4,
            because: vec![Difference::new(
                "scalable_target",
                "max_capacity",
                json!(9),
                json!(4),
            )],
        }];
        let drift = DriftReport {
            action: "drift-check",
            mode: DriftMode::Remediate,
            dry_run: false,
            summary: DriftSummary {
                endpoints: 1,
                drifted: 1,
                remediated: 1,
                ..DriftSummary::default()
            },
            endpoints: vec![DriftEntry {
                found,
                remediation: Some(done),
                not_reached: false,
            }],
            endpoints_not_listed: 3,
            orphans: vec![],
            calls_by_operation: BTreeMap::new(),
        };
        let text = table(&drift);
        assert!(text.starts_with("drift check (remediate)"), "{text}");
        assert!(text.contains("variants remediated         1"), "{text}");
        assert!(
            text.contains(
                "fraud/primary  drifted -> changed  scalable_target max_capacity: 9 -> 4"
            ),
            "{text}"
        );
        assert!(text.contains("... and 3 more endpoints"), "{text}");
    }

    #[test]
    fn the_listed_endpoints_are_bounded_most_serious_first() {
        let entry = |name: &str, outcome| DriftEntry {
            found: report(name, outcome, &[]),
            remediation: None,
            not_reached: false,
        };
        let entries = vec![
            entry("a", Outcome::Skipped),
            entry("b", Outcome::Drifted),
            entry("c", Outcome::Error),
            entry("d", Outcome::Drifted),
        ];
        let (kept, omitted) = bounded(entries, 3);
        let names: Vec<_> = kept.iter().map(|e| e.found.endpoint.as_str()).collect();
        assert_eq!(names, ["c", "b", "d"]);
        assert_eq!(omitted, 1);
        let (kept, omitted) = bounded(vec![entry("x", Outcome::Drifted)], 3);
        assert_eq!((kept.len(), omitted), (1, 0));
    }

    #[test]
    fn emf_line_carries_every_count_under_the_namespace() {
        let summary = DriftSummary {
            endpoints: 10,
            drifted: 3,
            ..DriftSummary::default()
        };
        let line: Value =
            serde_json::from_str(&emf_line(&summary, DriftMode::Remediate, 1_700_000_000_000))
                .unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "AutoscalingGuard");
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_u64);
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 11);
        for name in names {
            assert!(line[name].is_u64(), "{name} has a value");
        }
        assert_eq!(line["drifted"], 3);
        assert_eq!(line["Service"], "autoscaling-guard");
        assert!(!emf_line(&summary, DriftMode::Report, 0).contains('\n'));
    }
}
