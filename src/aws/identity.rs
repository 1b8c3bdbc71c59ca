//! STS: who the configured credentials belong to.

use aws_sdk_sts::Client;

use super::AwsError;

#[derive(Debug, Clone)]
pub struct Identity {
    client: Client,
}

impl Identity {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The caller's account id and ARN, as STS GetCallerIdentity answers
    /// (which needs no permission).
    pub async fn caller(&self) -> Result<(String, String), AwsError> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))?;
        Ok((
            out.account().unwrap_or_default().to_string(),
            out.arn().unwrap_or_default().to_string(),
        ))
    }
}
