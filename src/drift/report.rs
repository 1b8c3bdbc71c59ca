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
use crate::reconcile::report::{
    differences, EndpointReport, Outcome, VariantReport, VariantStatus,
};
use crate::resource::Scaled;

pub const EMF_NAMESPACE: &str = "AutoscalingGuard";
/// What a drift check counts. Each count has one unit:
/// - endpoints: `endpoints` (listed), `endpoints_unreadable` (listed, but
///   their details could not be read, so their variants are in no variant
///   count) and `not_reached` (drifted, but the sweep had no time to repair
///   them);
/// - variants (an inference component counts as one): `compliant`,
///   `drifted`, `skipped` and `errors` say what the check found, an outcome
///   of the whole endpoint (opted out, a bad tag) counted once per variant;
///   `remediated` counts the variants a repair changed, and `errors` also
///   counts a variant whose repair failed (each variant once);
/// - orphan targets: `orphans_found`, `orphans_removed`,
///   `orphans_not_reached` and `orphan_errors`;
/// - AWS requests: `reads` and `writes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSummary {
    pub endpoints: u64,
    pub endpoints_unreadable: u64,
    pub compliant: u64,
    pub drifted: u64,
    pub remediated: u64,
    pub skipped: u64,
    pub errors: u64,
    pub not_reached: u64,
    pub orphans_found: u64,
    pub orphans_removed: u64,
    pub orphans_not_reached: u64,
    pub orphan_errors: u64,
    pub reads: u64,
    pub writes: u64,
}

impl DriftSummary {
    /// Whether anything ended in an error: a variant, an endpoint that could
    /// not be read, an orphan.
    pub fn has_errors(&self) -> bool {
        self.errors + self.endpoints_unreadable + self.orphan_errors > 0
    }

    /// Each count with its name (`EMF_METRICS`: the JSON field and the
    /// EMF metric) and its label in the table, in the table's order.
    pub fn counts(&self) -> [(&'static str, &'static str, u64); 14] {
        let values = [
            self.endpoints,
            self.endpoints_unreadable,
            self.compliant,
            self.drifted,
            self.remediated,
            self.skipped,
            self.errors,
            self.not_reached,
            self.orphans_found,
            self.orphans_removed,
            self.orphans_not_reached,
            self.orphan_errors,
            self.reads,
            self.writes,
        ];
        std::array::from_fn(|i| (EMF_METRICS[i], LABELS[i], values[i]))
    }
}

/// The one dimension of every metric: (name, value).
pub const EMF_DIMENSION: (&str, &str) = ("Service", "autoscaling-guard");
/// The metrics of a drift check's EMF line, one per summary count, named as
/// the summary's JSON fields. The stack's dashboard and alarms use these
/// names (tests/template_metrics.rs holds them to what `emf_line` writes).
pub const EMF_METRICS: [&str; 14] = [
    "endpoints",
    "endpoints_unreadable",
    "compliant",
    "drifted",
    "remediated",
    "skipped",
    "errors",
    "not_reached",
    "orphans_found",
    "orphans_removed",
    "orphans_not_reached",
    "orphan_errors",
    "reads",
    "writes",
];

/// What each count is called in the table, in `EMF_METRICS` order.
const LABELS: [&str; 14] = [
    "endpoints",
    "endpoints unreadable",
    "variants compliant",
    "variants drifted",
    "variants remediated",
    "variants skipped",
    "variants with errors",
    "endpoints not reached",
    "orphans found",
    "orphans removed",
    "orphans not reached",
    "orphans with errors",
    "AWS reads",
    "AWS writes",
];

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
    /// The endpoints that need attention: all of them from the sweep; in a
    /// result (`bounded`), errors first and at most `MAX_LISTED_ENDPOINTS`.
    pub endpoints: Vec<DriftEntry>,
    /// How many more there were (the summary counts them all; the logs have
    /// one line per change).
    #[serde(skip_serializing_if = "is_zero")]
    pub endpoints_not_listed: u64,
    pub orphans: Vec<OrphanReport>,
    pub calls_by_operation: BTreeMap<String, u64>,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Keeps a Lambda result well under its 6 MB limit, even when a whole fleet
/// is onboarded at once.
pub const MAX_LISTED_ENDPOINTS: usize = 200;

impl DriftReport {
    /// Keeps at most `limit` endpoints, the most serious first (errors,
    /// then repairs and drift, then skips), in name order within each, and
    /// counts the rest in `endpoints_not_listed`.
    pub fn bounded(mut self, limit: usize) -> Self {
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
        self.endpoints.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| a.found.endpoint.cmp(&b.found.endpoint))
        });
        let omitted = self.endpoints.len().saturating_sub(limit) as u64;
        self.endpoints.truncate(limit);
        self.endpoints_not_listed += omitted;
        self
    }
}

/// Each variant's status in a report. An outcome of the whole endpoint (a
/// skip, an error) stands for each of its `units` variants; `None` when
/// they are unknown (the endpoint could not be read). Such a variant has no
/// subject of its own.
fn statuses(
    report: &EndpointReport,
    units: Option<u64>,
) -> Option<Vec<(Option<&Scaled>, VariantStatus)>> {
    let whole = match report.outcome {
        Outcome::Skipped if report.reason.is_some() => Some(VariantStatus::Skipped),
        Outcome::Error if report.variants.is_empty() => Some(VariantStatus::Error),
        _ => None,
    };
    match whole {
        Some(status) => units.map(|n| vec![(None, status); n as usize]),
        None => Some(
            report
                .variants
                .iter()
                .map(|v| (Some(&v.subject), v.status))
                .collect(),
        ),
    }
}

/// Counts what the sweep found and did; call counts are filled in by the
/// caller. `units` gives each read endpoint's number of variants.
pub fn summarize(
    found: &[EndpointReport],
    entries: &[DriftEntry],
    orphans: &[OrphanReport],
    units: &BTreeMap<String, u64>,
) -> DriftSummary {
    let mut s = DriftSummary {
        endpoints: found.len() as u64,
        ..DriftSummary::default()
    };
    let mut failed: BTreeMap<&str, Vec<Option<&Scaled>>> = BTreeMap::new();
    for report in found {
        let Some(variants) = statuses(report, units.get(&report.endpoint).copied()) else {
            s.endpoints_unreadable += 1;
            continue;
        };
        for (name, status) in variants {
            match status {
                VariantStatus::Compliant => s.compliant += 1,
                VariantStatus::Drifted | VariantStatus::Changed => s.drifted += 1,
                VariantStatus::Skipped => s.skipped += 1,
                VariantStatus::Error => {
                    s.errors += 1;
                    failed.entry(&report.endpoint).or_default().push(name);
                }
            }
        }
    }
    for entry in entries {
        s.not_reached += u64::from(entry.not_reached);
        let Some(done) = &entry.remediation else {
            continue;
        };
        let before = failed.get(done.endpoint.as_str());
        let units = units.get(&done.endpoint).copied();
        for (name, status) in statuses(done, units).unwrap_or_default() {
            match status {
                VariantStatus::Changed => s.remediated += 1,
                // A variant that had already failed is counted once.
                VariantStatus::Error if !before.is_some_and(|b| b.contains(&name)) => s.errors += 1,
                _ => {}
            }
        }
    }
    for o in orphans {
        s.orphans_found += u64::from(o.status.is_orphan());
        s.orphans_removed += u64::from(o.status == OrphanStatus::Removed);
        s.orphan_errors += u64::from(o.status.is_error());
        s.orphans_not_reached += u64::from(o.status == OrphanStatus::NotReached);
    }
    s
}

/// One CloudWatch Embedded Metric Format line with the summary's counts.
/// `place` is the account and Region a check is about (organization mode):
/// they are a second dimension set beside the fleet-wide `Service` one.
pub fn emf_line(
    summary: &DriftSummary,
    mode: DriftMode,
    timestamp_ms: u64,
    place: Option<(&str, &str)>,
) -> String {
    let metrics: Vec<Value> = EMF_METRICS
        .iter()
        .map(|name| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let (dimension, service) = EMF_DIMENSION;
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": EMF_NAMESPACE,
                "Dimensions": [[dimension]],
                "Metrics": metrics,
            }],
        },
        dimension: service,
        "Mode": mode,
    });
    for (name, _, value) in summary.counts() {
        line[name] = json!(value);
    }
    if let Some((account, region)) = place {
        line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] =
            json!([[dimension], [dimension, "Account", "Region"]]);
        line["Account"] = json!(account);
        line["Region"] = json!(region);
    }
    line.to_string()
}

/// The repair's report of a variant found not compliant, when it was repaired.
pub fn repaired<'a>(entry: &'a DriftEntry, found: &VariantReport) -> Option<&'a VariantReport> {
    entry
        .remediation
        .as_ref()
        .and_then(|done| done.variants.iter().find(|a| a.subject == found.subject))
}

/// One line on a variant that is not compliant: why it is skipped, its
/// error (`type: message`), or the differences its changes are for.
pub fn detail(v: &VariantReport) -> String {
    match v.status {
        VariantStatus::Skipped => v.reason.as_ref().map(|r| r.to_string()).unwrap_or_default(),
        VariantStatus::Error => match (v.error_type, &v.error) {
            (Some(t), Some(e)) => format!("{t}: {e}"),
            (_, e) => e.clone().unwrap_or_default(),
        },
        _ => differences(v.changes.iter().flat_map(|c| c.because())),
    }
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
    for (_, label, n) in s.counts() {
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
            let what = match found.error_type {
                Some(t) => format!("{t}: {err}"),
                None => err.clone(),
            };
            rows.push((found.endpoint.clone(), "error".to_string(), what));
        }
        if let Some(done) = &entry.remediation {
            if let (Some(t), Some(err)) = (done.error_type, &done.error) {
                let status = "repair failed".to_string();
                rows.push((found.endpoint.clone(), status, format!("{t}: {err}")));
            }
        }
        for v in &found.variants {
            let after = repaired(entry, v);
            // What a repair did says what differed; otherwise the plan does.
            let what = detail(after.unwrap_or(v));
            let mut status = v.status.as_str().to_string();
            if let Some(after) = after {
                status = format!("{status} -> {}", after.status.as_str());
            }
            if entry.not_reached {
                status.push_str(" (not reached)");
            }
            if v.status != VariantStatus::Compliant {
                rows.push((
                    format!("{}/{}", found.endpoint, v.subject.label()),
                    status,
                    what,
                ));
            }
        }
    }
    for o in &report.orphans {
        let cause = o.orphan.cause.as_str().to_string();
        rows.push((
            o.orphan.subject.resource_id(),
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
    use crate::error::ErrorType;
    use crate::reconcile::report::VariantReport;

    fn variant(status: VariantStatus) -> VariantReport {
        VariantReport {
            subject: crate::resource::Scaled::variant("e", format!("{status:?}")),
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
    fn counts_variants_and_endpoint_level_outcomes_per_variant() {
        use VariantStatus::*;
        let named = |endpoint: &str, outcome, variants: &[(&str, VariantStatus)]| {
            let mut r = report(endpoint, outcome, &[]);
            r.variants = variants
                .iter()
                .map(|(name, status)| VariantReport {
                    subject: crate::resource::Scaled::variant(endpoint, *name),
                    ..variant(*status)
                })
                .collect();
            r
        };
        let mut opted_out = report("c", Outcome::Skipped, &[]);
        opted_out.reason = Some(SkipReason::OptedOut);
        let mut bad_tag = report("d", Outcome::Error, &[]);
        bad_tag.error_type = Some(ErrorType::InvalidTag);
        let mut unreadable = report("e", Outcome::Error, &[]);
        unreadable.error_type = Some(ErrorType::AwsError);
        let b = named(
            "b",
            Outcome::Drifted,
            &[("1", Drifted), ("2", Drifted), ("3", Compliant)],
        );
        let f = named("f", Outcome::Error, &[("1", Drifted), ("2", Error)]);
        let x = named("x", Outcome::Drifted, &[("1", Drifted)]);
        let found = vec![
            named("a", Outcome::Compliant, &[("1", Compliant), ("2", Skipped)]),
            b.clone(),
            opted_out,
            bad_tag,
            unreadable,
            f.clone(),
            x.clone(),
        ];
        let units: BTreeMap<String, u64> =
            [("a", 2), ("b", 3), ("c", 3), ("d", 2), ("f", 2), ("x", 1)]
                .into_iter()
                .map(|(n, u)| (n.to_string(), u))
                .collect();
        let entry = |found: EndpointReport, remediation, not_reached| DriftEntry {
            found,
            remediation,
            not_reached,
        };
        let entries = vec![
            entry(
                b,
                Some(named(
                    "b",
                    Outcome::Error,
                    &[("1", Changed), ("2", Error), ("3", Compliant)],
                )),
                false,
            ),
            // The variant that had failed fails again: counted once.
            entry(
                f,
                Some(named("f", Outcome::Error, &[("1", Changed), ("2", Error)])),
                false,
            ),
            entry(x, None, true),
        ];
        let s = summarize(&found, &entries, &[], &units);
        assert_eq!(
            s,
            DriftSummary {
                endpoints: 7,
                endpoints_unreadable: 1,
                compliant: 2,
                drifted: 4,
                remediated: 2,
                skipped: 4,
                errors: 4,
                not_reached: 1,
                ..DriftSummary::default()
            }
        );
        // The variants found add up: each is counted once by what was found.
        let read_variants: u64 = units.values().sum();
        let found_errors = 2 + 1;
        assert_eq!(
            s.compliant + s.drifted + s.skipped + found_errors,
            read_variants
        );
    }

    #[test]
    fn orphans_count_once_confirmed_and_their_failures_are_errors() {
        use super::super::orphans::{Orphan, OrphanCause};
        let orphan = |status| OrphanReport {
            orphan: Orphan {
                subject: crate::resource::Scaled::variant("gone", "a"),
                dimension: Default::default(),
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
        let s = summarize(&[], &[], &all, &BTreeMap::new());
        assert_eq!(
            (
                s.orphans_found,
                s.orphans_removed,
                s.orphan_errors,
                s.orphans_not_reached
            ),
            (3, 1, 2, 1),
            "{s:?}"
        );
        assert_eq!(
            (s.errors, s.not_reached),
            (0, 0),
            "orphans are not variants"
        );
        assert!(s.has_errors());
    }

    #[test]
    fn the_table_shows_what_a_repair_changed_and_why() {
        use crate::domain::plan::Difference;
        use serde_json::json;
        let mut found = report("fraud", Outcome::Drifted, &[VariantStatus::Drifted]);
        found.variants[0].subject = crate::resource::Scaled::variant("fraud", "primary");
        let mut done = report("fraud", Outcome::Changed, &[VariantStatus::Changed]);
        done.variants[0].subject = crate::resource::Scaled::variant("fraud", "primary");
        done.variants[0].changes = vec![Change {
            subject: crate::resource::Scaled::variant("fraud", "primary"),
            dimension: Default::default(),
            action: crate::domain::plan::ScalingAction::RegisterTarget {
                min_capacity: 1,
                max_capacity: 4,
            }
            .into(),
            because: vec![Difference::new(
                &crate::difference::Subject::ScalableTarget,
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
        let drift = |endpoints| DriftReport {
            action: "drift-check",
            mode: DriftMode::Report,
            dry_run: false,
            summary: DriftSummary::default(),
            endpoints,
            endpoints_not_listed: 0,
            orphans: vec![],
            calls_by_operation: BTreeMap::new(),
        };
        let entries = vec![
            entry("a", Outcome::Skipped),
            entry("b", Outcome::Drifted),
            entry("c", Outcome::Error),
            entry("d", Outcome::Drifted),
        ];
        let kept = drift(entries).bounded(3);
        let names: Vec<_> = kept
            .endpoints
            .iter()
            .map(|e| e.found.endpoint.as_str())
            .collect();
        assert_eq!(names, ["c", "b", "d"]);
        assert_eq!(kept.endpoints_not_listed, 1);
        let kept = drift(vec![entry("x", Outcome::Drifted)]).bounded(3);
        assert_eq!((kept.endpoints.len(), kept.endpoints_not_listed), (1, 0));
    }

    #[test]
    fn emf_line_carries_every_count_under_the_namespace() {
        let summary = DriftSummary {
            endpoints: 10,
            drifted: 3,
            ..DriftSummary::default()
        };
        let line: Value = serde_json::from_str(&emf_line(
            &summary,
            DriftMode::Remediate,
            1_700_000_000_000,
            None,
        ))
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
        assert_eq!(names.len(), 14);
        for name in names {
            assert!(line[name].is_u64(), "{name} has a value");
        }
        assert_eq!(line["drifted"], 3);
        assert_eq!(line["Service"], "autoscaling-guard");
        assert!(!emf_line(&summary, DriftMode::Report, 0, None).contains('\n'));
    }

    #[test]
    fn every_summary_count_is_a_metric_under_its_json_name() {
        let mut summary = DriftSummary::default();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        // Each count its own value, to tell them apart.
        summary.endpoints = next();
        summary.endpoints_unreadable = next();
        summary.compliant = next();
        summary.drifted = next();
        summary.remediated = next();
        summary.skipped = next();
        summary.errors = next();
        summary.not_reached = next();
        summary.orphans_found = next();
        summary.orphans_removed = next();
        summary.orphans_not_reached = next();
        summary.orphan_errors = next();
        summary.reads = next();
        summary.writes = next();
        let json = serde_json::to_value(&summary).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields, EMF_METRICS);
        for (name, _, value) in summary.counts() {
            assert_eq!(json[name], value, "{name}");
        }
    }

    #[test]
    fn a_place_s_metrics_carry_account_and_region_dimensions() {
        let there = Some(("111111111111", "eu-west-1"));
        let emf: Value = serde_json::from_str(&emf_line(
            &DriftSummary::default(),
            DriftMode::Remediate,
            1,
            there,
        ))
        .unwrap();
        assert_eq!(
            emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service"], ["Service", "Account", "Region"]])
        );
        assert_eq!(
            (&emf["Account"], &emf["Region"]),
            (&json!("111111111111"), &json!("eu-west-1"))
        );
        // The hub's own check keeps the one fleet-wide dimension.
        let line = emf_line(&DriftSummary::default(), DriftMode::Remediate, 1, None);
        let emf: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service"]])
        );
        assert!(emf.get("Account").is_none() && emf.get("Region").is_none());
    }
}
