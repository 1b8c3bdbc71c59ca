//! Lambda: the function starting its own work asynchronously.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::Client;
use serde_json::Value;

use super::AwsError;

#[derive(Debug, Clone)]
pub struct Functions {
    client: Client,
}

impl Functions {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Queues `payload` for `function` (InvocationType Event): Lambda
    /// answers at once and runs it later, retrying it on failure as the
    /// function's asynchronous configuration says.
    pub async fn start(&self, function: &str, payload: &Value) -> Result<(), AwsError> {
        self.client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("Invoke", e))?;
        Ok(())
    }
}
