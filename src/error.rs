//! The errors the function can end with. Each has a stable `error_type`,
//! which is what Lambda reports and what alarms and tests match on.

use lambda_runtime::Diagnostic;

use crate::aws::AwsError;
use crate::org::OrgError;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("endpoint {endpoint}: {detail}")]
    InvalidTag { endpoint: String, detail: String },
    #[error("the drift check could not run: {0}")]
    DriftCheckFailed(AwsError),
    #[error("endpoint {endpoint} was not fully reconciled: {detail}")]
    ReconcileFailed { endpoint: String, detail: String },
    #[error("release of endpoint {endpoint} refused: {detail}")]
    ReleaseRefused { endpoint: String, detail: String },
    #[error("release of endpoint {endpoint} failed: {detail}")]
    ReleaseFailed { endpoint: String, detail: String },
    /// The account and Region a request is for cannot be worked in.
    #[error("{0}")]
    AccountNotReached(OrgError),
}

impl GuardError {
    pub fn error_type(&self) -> &'static str {
        match self {
            GuardError::InvalidEvent(_) => "InvalidEvent",
            GuardError::InvalidTag { .. } => "InvalidTag",
            GuardError::DriftCheckFailed(_) => "DriftCheckFailed",
            GuardError::ReconcileFailed { .. } => "ReconcileFailed",
            GuardError::ReleaseRefused { .. } => "ReleaseRefused",
            GuardError::ReleaseFailed { .. } => "ReleaseFailed",
            GuardError::AccountNotReached(_) => "AccountNotReached",
        }
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
}
