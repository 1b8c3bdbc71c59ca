//! Thin adapters over the AWS SDK. They own every conversion between SDK
//! types and domain types, so the rest of the crate never sees the SDK.

pub mod alarms;
pub mod autoscaling;
pub mod calls;
pub mod identity;
pub mod lambda;
pub mod metrics;
pub mod paging;
pub mod sagemaker;
pub mod store;

use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sagemaker::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use calls::CallCounter;

/// An AWS call that failed, with the service's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub operation: String,
    pub code: Option<String>,
    pub message: String,
    /// Worth trying again later (throttling, 5xx, timeouts).
    pub retryable: bool,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed: {}: {}", self.operation, code, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    pub fn from_sdk<E, R>(operation: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_string);
        let message = err
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| one_line(&err));
        let retryable = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            SdkError::ResponseError(_) => true,
            _ => matches!(
                code.as_deref(),
                Some(
                    "ThrottlingException"
                        | "Throttling"
                        | "ConcurrentUpdateException"
                        | "InternalServiceException"
                )
            ),
        };
        AwsError {
            operation: operation.to_string(),
            code,
            message,
            retryable,
        }
    }

    pub fn incomplete(operation: &str, message: String) -> Self {
        AwsError {
            operation: operation.to_string(),
            code: Some("IncompleteListing".to_string()),
            message,
            retryable: false,
        }
    }

    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// An error and its causes on one line (`dispatch failure: io error: ...:
/// Connection refused`), without the SDK's debug forms.
pub(crate) fn one_line(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // A wrapper often repeats its cause's text.
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Deleting what is already gone is what was wanted: a failure whose code
/// is one of the service's not-found codes counts as done.
pub fn already_gone_is_done<T>(
    result: Result<T, AwsError>,
    not_found: &[&str],
) -> Result<(), AwsError> {
    match result {
        Err(e) if !not_found.iter().any(|code| e.code_is(code)) => Err(e),
        _ => Ok(()),
    }
}

/// The SDK clients, each with the call counter installed.
#[derive(Debug, Clone)]
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

/// Throttling is real and AWS publishes no rate limits: retry transient
/// failures (throttling, 5xx, timeouts) with exponential backoff and jitter.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10))
}

/// The standard AWS configuration chain, with this tool's retries.
/// `AWS_ENDPOINT_URL` and `AWS_REGION` are honoured by the chain itself.
pub async fn sdk_config_from_env() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .load()
        .await
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        let sagemaker = aws_sdk_sagemaker::Client::from_conf(
            aws_sdk_sagemaker::config::Builder::from(config)
                .interceptor(CallCounter)
                .build(),
        );
        let autoscaling = aws_sdk_applicationautoscaling::Client::from_conf(
            aws_sdk_applicationautoscaling::config::Builder::from(config)
                .interceptor(CallCounter)
                .build(),
        );
        let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(config)
                .interceptor(CallCounter)
                .build(),
        );
        Clients {
            sagemaker,
            autoscaling,
            cloudwatch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn an_error_without_a_service_message_is_its_causes_on_one_line() {
        let err = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "io error",
                Some(Box::new(Layer("connection\nreset", None))),
            ))),
        );
        assert_eq!(
            one_line(&err),
            "dispatch failure: io error: connection reset"
        );
    }
}
