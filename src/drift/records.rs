//! The drift check's records of every variant, past any cap on the result:
//! its log lines (one per variant that is not compliant, in every mode, and
//! the summary) and the JSON Lines file of `drift-check --jsonl`.

use serde_json::{json, Value};

use super::report::{detail, repaired, DriftEntry, DriftReport, DriftSummary};
use crate::config::DriftMode;
use crate::error::ErrorType;
use crate::reconcile::report::{differences, VariantStatus};

/// The `drift check done` log line: every count as a field of its own.
pub fn log_summary(s: &DriftSummary, mode: DriftMode, dry_run: bool) {
    let mode = match mode {
        DriftMode::Remediate => "remediate",
        DriftMode::Report => "report",
    };
    tracing::info!(
        action = "drift-check",
        mode,
        dry_run,
        endpoints = s.endpoints,
        endpoints_unreadable = s.endpoints_unreadable,
        compliant = s.compliant,
        drifted = s.drifted,
        remediated = s.remediated,
        skipped = s.skipped,
        errors = s.errors,
        not_reached = s.not_reached,
        orphans_found = s.orphans_found,
        orphans_removed = s.orphans_removed,
        orphans_not_reached = s.orphans_not_reached,
        orphan_errors = s.orphan_errors,
        reads = s.reads,
        writes = s.writes,
        "drift check done"
    );
}

/// One log line per variant that is not compliant (per endpoint, for an
/// outcome of the whole endpoint), in every mode: every one can be found in
/// the logs, also past the `MAX_LISTED_ENDPOINTS` the result lists.
pub fn log_variants(entries: &[DriftEntry]) {
    for entry in entries {
        let found = &entry.found;
        let endpoint = found.endpoint.as_str();
        if found.variants.is_empty() || found.reason.is_some() || found.error.is_some() {
            let outcome = entry
                .remediation
                .as_ref()
                .map_or(found.outcome, |r| r.outcome);
            let reason = found.reason.as_ref().map(|r| r.to_string());
            tracing::info!(
                endpoint,
                action = "drift-check",
                outcome = outcome.as_str(),
                found = found.outcome.as_str(),
                reason = found.reason.as_ref().map(|r| r.code()),
                error_type = found.error_type.map(ErrorType::as_str),
                detail = found.error.as_deref().or(reason.as_deref()),
                "endpoint not compliant"
            );
            continue;
        }
        for v in found
            .variants
            .iter()
            .filter(|v| v.status != VariantStatus::Compliant)
        {
            let after = repaired(entry, v);
            let last = after.unwrap_or(v);
            let changed = differences(last.changes.iter().flat_map(|c| c.because()));
            let why = match last.status {
                VariantStatus::Skipped | VariantStatus::Error => Some(detail(last)),
                _ => None,
            };
            tracing::info!(
                endpoint,
                variant = v.subject.label(),
                action = "drift-check",
                outcome = last.status.as_str(),
                found = v.status.as_str(),
                reason = last.reason.as_ref().map(|r| r.code()),
                error_type = last.error_type.map(ErrorType::as_str),
                differences = (!changed.is_empty()).then_some(changed.as_str()),
                detail = why.as_deref(),
                not_reached = entry.not_reached,
                "variant not compliant"
            );
        }
    }
}

/// One JSON Lines record per variant of every endpoint that needs
/// attention (one per endpoint for an outcome of the whole endpoint, with
/// no `variant`), one per orphan candidate, then the summary: the whole
/// report, however many endpoints. Returns the records written.
pub fn write_jsonl(report: &DriftReport, mut out: impl std::io::Write) -> std::io::Result<u64> {
    let mut line = |record: Value| -> std::io::Result<()> {
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")
    };
    let mut records = 0;
    for entry in &report.endpoints {
        let found = &entry.found;
        let done = entry.remediation.as_ref();
        if found.variants.is_empty() || found.reason.is_some() || found.error.is_some() {
            line(json!({
                "kind": "endpoint",
                "endpoint": found.endpoint,
                "found": found.outcome,
                "outcome": done.map_or(found.outcome, |d| d.outcome),
                "reason": found.reason,
                "error_type": found.error_type,
                "error": found.error,
                "not_reached": entry.not_reached,
            }))?;
            records += 1;
            continue;
        }
        for v in &found.variants {
            let last = repaired(entry, v).unwrap_or(v);
            line(json!({
                "kind": "variant",
                "endpoint": found.endpoint,
                "variant": v.subject.label(),
                "found": v.status,
                "outcome": last.status,
                "reason": last.reason,
                "error_type": last.error_type,
                "error": last.error,
                "changes": last.changes,
                "not_reached": entry.not_reached,
            }))?;
            records += 1;
        }
    }
    for o in &report.orphans {
        let mut record = serde_json::to_value(o).expect("orphan reports serialize");
        record["kind"] = json!("orphan");
        line(record)?;
        records += 1;
    }
    let mut summary = serde_json::to_value(&report.summary).expect("summaries serialize");
    summary["kind"] = json!("summary");
    summary["mode"] = json!(report.mode);
    summary["dry_run"] = json!(report.dry_run);
    line(summary)?;
    out.flush()?;
    Ok(records + 1)
}
