//! The errors the function can end with, and the one list of their types.
//! A type's name is what Lambda reports as `errorType`, what a report's
//! `error_type` holds and what a log line's `error_type` field says: alarms,
//! log queries and tests match on it, so a name never changes.

use std::fmt;

use lambda_runtime::Diagnostic;
use serde::Serialize;

use crate::aws::AwsError;
use crate::org::OrgError;

/// Every error type, each under one stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorType {
    /// The payload is not one the function accepts: not JSON, over 256 KB,
    /// not an object, an unknown source or action, a missing or mistyped
    /// field, an invalid endpoint name or release duration.
    InvalidEvent,
    /// An endpoint tag has a value that cannot be used, or an unknown
    /// `autoscaling:` key.
    InvalidTag,
    /// An AWS call failed after retries.
    AwsError,
    /// The policy set cannot be applied to a variant (a per-core target on an
    /// instance type of unknown size, a minimum above a serverless variant's
    /// `MaxConcurrency`).
    PolicyNotApplicable,
    /// The drift check could not run at all (a listing failed or came back
    /// incomplete).
    DriftCheckFailed,
    /// A release was refused; nothing was changed.
    ReleaseRefused,
    /// A release failed part way (an AWS call failed, or the endpoint was
    /// modified while it was being marked).
    ReleaseFailed,
    /// The account and Region a request is for cannot be worked in (no spoke
    /// role to assume, the role cannot be assumed, the Region is not
    /// reached, or the hub's own account is unknown).
    AccountNotReached,
}

impl ErrorType {
    /// Every error type, in the order the README lists them.
    pub const ALL: [ErrorType; 8] = [
        ErrorType::InvalidEvent,
        ErrorType::InvalidTag,
        ErrorType::AwsError,
        ErrorType::PolicyNotApplicable,
        ErrorType::DriftCheckFailed,
        ErrorType::ReleaseRefused,
        ErrorType::ReleaseFailed,
        ErrorType::AccountNotReached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidEvent => "InvalidEvent",
            ErrorType::InvalidTag => "InvalidTag",
            ErrorType::AwsError => "AwsError",
            ErrorType::PolicyNotApplicable => "PolicyNotApplicable",
            ErrorType::DriftCheckFailed => "DriftCheckFailed",
            ErrorType::ReleaseRefused => "ReleaseRefused",
            ErrorType::ReleaseFailed => "ReleaseFailed",
            ErrorType::AccountNotReached => "AccountNotReached",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// A reconcile that ended in an error: a bad tag, a failed AWS call, a
    /// variant the policy set does not fit.
    #[error("endpoint {endpoint} was not reconciled: {detail}")]
    NotReconciled {
        error_type: ErrorType,
        endpoint: String,
        detail: String,
    },
    #[error("the drift check could not run: {0}")]
    DriftCheckFailed(AwsError),
    #[error("release of endpoint {endpoint} refused: {detail}")]
    ReleaseRefused { endpoint: String, detail: String },
    #[error("release of endpoint {endpoint} failed: {detail}")]
    ReleaseFailed { endpoint: String, detail: String },
    /// The account and Region a request is for cannot be worked in.
    #[error("{0}")]
    AccountNotReached(OrgError),
    #[error("release of all owned scaling failed: {0}")]
    ReleaseAllFailed(String),
}

impl GuardError {
    pub fn error_type(&self) -> ErrorType {
        match self {
            GuardError::InvalidEvent(_) => ErrorType::InvalidEvent,
            GuardError::NotReconciled { error_type, .. } => *error_type,
            GuardError::DriftCheckFailed(_) => ErrorType::DriftCheckFailed,
            GuardError::ReleaseRefused { .. } => ErrorType::ReleaseRefused,
            GuardError::ReleaseFailed { .. } | GuardError::ReleaseAllFailed(_) => {
                ErrorType::ReleaseFailed
            }
            GuardError::AccountNotReached(_) => ErrorType::AccountNotReached,
        }
    }

    /// The endpoint it is about, when it is about one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            GuardError::NotReconciled { endpoint, .. }
            | GuardError::ReleaseRefused { endpoint, .. }
            | GuardError::ReleaseFailed { endpoint, .. } => Some(endpoint),
            GuardError::InvalidEvent(_)
            | GuardError::DriftCheckFailed(_)
            | GuardError::ReleaseAllFailed(_)
            | GuardError::AccountNotReached(_) => None,
        }
    }

    /// The shape Lambda gives a failed invocation; the command line prints
    /// the same.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"errorType": self.error_type(), "errorMessage": self.to_string()})
    }
}

impl From<GuardError> for Diagnostic {
    fn from(err: GuardError) -> Self {
        Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_diagnostics_carry_the_stable_type() {
        let d: Diagnostic = GuardError::InvalidEvent("missing field `detail`".into()).into();
        assert_eq!(d.error_type, "InvalidEvent");
        assert_eq!(d.error_message, "invalid event: missing field `detail`");
    }

    #[test]
    fn every_type_is_listed_once_under_its_own_name() {
        let names: Vec<&str> = ErrorType::ALL.iter().map(|t| t.as_str()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for t in ErrorType::ALL {
            // The name is the variant's own, in JSON as in text.
            assert_eq!(format!("{t:?}"), t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }
}
