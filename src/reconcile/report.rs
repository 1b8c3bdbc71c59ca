//! What a reconcile reports, for people (logs, the command line) and for
//! machines (the Lambda result, the drift summary).

use serde::Serialize;

use crate::domain::desired::SkipReason;
use crate::domain::plan::{Change, Difference};
use crate::domain::release::ReleaseMark;
use crate::error::ErrorType;
use crate::resource::Scaled;

/// Differences on one line, for people and log queries:
/// `scalable_target max_capacity: 9 -> 4; policy x target_value: 50.0 -> 70.0`.
pub fn differences<'a>(all: impl IntoIterator<Item = &'a Difference>) -> String {
    all.into_iter()
        .map(|d| format!("{} {}: {} -> {}", d.subject, d.field, d.actual, d.desired))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantStatus {
    /// Already as desired.
    Compliant,
    /// Differs from the desired state; changes were planned, not applied.
    Drifted,
    /// Differed and was brought to the desired state.
    Changed,
    Skipped,
    Error,
}

impl VariantStatus {
    /// The JSON name, for log fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::Drifted => "drifted",
            Self::Changed => "changed",
            Self::Skipped => "skipped",
            Self::Error => "error",
        }
    }
}

fn as_label<S: serde::Serializer>(subject: &Scaled, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&subject.label())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantReport {
    /// What is scaled. Serialized as `variant`, the key reports and log
    /// queries have always used, holding its label (`Scaled::label`): the
    /// variant's name, or `inference-component/NAME`.
    #[serde(rename = "variant", serialize_with = "as_label")]
    pub subject: Scaled,
    pub status: VariantStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<SkipReason>,
    /// Changes applied (or, when drifted, planned).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Stable error type when `status` is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<ErrorType>,
    /// The configured maximum was below the running count and was raised.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub max_raised_to_running: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Compliant,
    Drifted,
    Changed,
    Skipped,
    /// The endpoint does not exist (any more): nothing to do, not an error.
    Gone,
    Error,
}

impl Outcome {
    /// The JSON name, for log fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::Drifted => "drifted",
            Self::Changed => "changed",
            Self::Skipped => "skipped",
            Self::Gone => "gone",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointReport {
    pub endpoint: String,
    pub outcome: Outcome,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<SkipReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Stable error type when `outcome` is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<ErrorType>,
    pub variants: Vec<VariantReport>,
    /// The endpoint's release mark, when it carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_mark: Option<ReleaseMark>,
    pub reads: u64,
    pub writes: u64,
}

impl EndpointReport {
    pub fn new(endpoint: &str, dry_run: bool) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            outcome: Outcome::Compliant,
            dry_run,
            reason: None,
            error: None,
            error_type: None,
            variants: Vec::new(),
            release_mark: None,
            reads: 0,
            writes: 0,
        }
    }

    /// Records the release mark. Clearing a spent one is a change of its
    /// own, planned (`drifted`) or made (`changed`), whatever the variants.
    pub fn note_release(&mut self, mark: Option<ReleaseMark>) {
        if let Some(m) = &mark {
            if m.state == "spent" && matches!(self.outcome, Outcome::Compliant | Outcome::Skipped) {
                self.outcome = if m.cleared {
                    Outcome::Changed
                } else {
                    Outcome::Drifted
                };
            }
        }
        self.release_mark = mark;
    }

    /// The endpoint's outcome follows from its variants: any error wins,
    /// then changes, then drift; all skipped is skipped.
    pub fn settle_outcome(&mut self) {
        if matches!(self.outcome, Outcome::Gone | Outcome::Error) || self.reason.is_some() {
            return;
        }
        let has = |s: VariantStatus| self.variants.iter().any(|v| v.status == s);
        self.outcome = if has(VariantStatus::Error) {
            Outcome::Error
        } else if has(VariantStatus::Changed) {
            Outcome::Changed
        } else if has(VariantStatus::Drifted) {
            Outcome::Drifted
        } else if !self.variants.is_empty()
            && self
                .variants
                .iter()
                .all(|v| v.status == VariantStatus::Skipped)
        {
            Outcome::Skipped
        } else {
            Outcome::Compliant
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(status: VariantStatus) -> VariantReport {
        VariantReport {
            subject: Scaled::variant("e", "v"),
            status,
            reason: None,
            changes: vec![],
            error: None,
            error_type: None,
            max_raised_to_running: false,
        }
    }

    fn outcome(statuses: &[VariantStatus]) -> Outcome {
        let mut r = EndpointReport::new("e", false);
        r.variants = statuses.iter().copied().map(variant).collect();
        r.settle_outcome();
        r.outcome
    }

    #[test]
    fn outcome_is_the_most_serious_variant_status() {
        use VariantStatus::*;
        assert_eq!(outcome(&[Compliant, Skipped]), Outcome::Compliant);
        assert_eq!(outcome(&[Skipped, Skipped]), Outcome::Skipped);
        assert_eq!(outcome(&[Compliant, Drifted]), Outcome::Drifted);
        assert_eq!(outcome(&[Drifted, Changed]), Outcome::Changed);
        assert_eq!(outcome(&[Changed, Error]), Outcome::Error);
        assert_eq!(outcome(&[]), Outcome::Compliant);
    }

    #[test]
    fn log_names_are_the_json_names() {
        use VariantStatus::*;
        for s in [Compliant, Drifted, Changed, Skipped, Error] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for o in [
            Outcome::Compliant,
            Outcome::Drifted,
            Outcome::Changed,
            Outcome::Skipped,
            Outcome::Gone,
            Outcome::Error,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
