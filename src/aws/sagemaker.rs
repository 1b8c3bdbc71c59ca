//! Reads endpoints from SageMaker into `EndpointSnapshot`s.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_sagemaker::Client;

use super::paging::collect_pages;
use super::AwsError;
use crate::domain::snapshot::{EndpointSnapshot, VariantSnapshot};

/// What an endpoint config says about its variants. Endpoint configs are
/// immutable, so this is cached for the life of the process.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFacts {
    pub is_async: bool,
    /// Variant name to (instance type, serverless).
    pub variants: HashMap<String, (Option<String>, bool)>,
}

#[derive(Debug, Clone)]
pub struct SageMakerEndpoints {
    client: Client,
    configs: Arc<Mutex<HashMap<String, ConfigFacts>>>,
}

/// SageMaker answers a missing endpoint or config with a generic
/// ValidationException whose message says "Could not find".
fn is_not_found(err: &AwsError) -> bool {
    err.code_is("ValidationException") && err.message.contains("Could not find")
}

impl SageMakerEndpoints {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            configs: Arc::default(),
        }
    }

    /// `None` when the config no longer exists (AWS lets one be deleted
    /// while its endpoint still runs).
    pub async fn config_facts(&self, name: &str) -> Result<Option<ConfigFacts>, AwsError> {
        if let Some(hit) = self.configs.lock().expect("config cache").get(name) {
            return Ok(Some(hit.clone()));
        }
        let out = match self
            .client
            .describe_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = AwsError::from_sdk("DescribeEndpointConfig", e);
                return if is_not_found(&err) {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let facts = ConfigFacts {
            is_async: out.async_inference_config().is_some(),
            variants: out
                .production_variants()
                .iter()
                .map(|v| {
                    (
                        v.variant_name().unwrap_or_default().to_string(),
                        (
                            v.instance_type().map(|t| t.as_str().to_string()),
                            v.serverless_config().is_some(),
                        ),
                    )
                })
                .collect(),
        };
        self.configs
            .lock()
            .expect("config cache")
            .insert(name.to_string(), facts.clone());
        Ok(Some(facts))
    }

    async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let tags = collect_pages("ListTags", |token| {
            let req = self
                .client
                .list_tags()
                .resource_arn(arn)
                .set_next_token(token);
            async move {
                let out = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ListTags", e))?;
                let page: Vec<(String, String)> = out
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                Ok((page, out.next_token().map(str::to_string)))
            }
        })
        .await?;
        Ok(tags.into_iter().collect())
    }

    /// Reads one endpoint: DescribeEndpoint, DescribeEndpointConfig (cached)
    /// and ListTags. `None` when the endpoint does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<EndpointSnapshot>, AwsError> {
        let out = match self
            .client
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = AwsError::from_sdk("DescribeEndpoint", e);
                return if is_not_found(&err) {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let config_name = out.endpoint_config_name().unwrap_or_default().to_string();
        let facts = self.config_facts(&config_name).await?;
        let arn = out.endpoint_arn().unwrap_or_default().to_string();
        let tags = self.tags(&arn).await?;
        let variants = out
            .production_variants()
            .iter()
            .map(|v| {
                let name = v.variant_name().unwrap_or_default().to_string();
                let (instance_type, serverless_in_config) = facts
                    .as_ref()
                    .and_then(|f| f.variants.get(&name).cloned())
                    .unwrap_or((None, false));
                VariantSnapshot {
                    instance_type,
                    current_instance_count: v.current_instance_count(),
                    desired_instance_count: v.desired_instance_count(),
                    serverless: serverless_in_config || v.current_serverless_config().is_some(),
                    name,
                }
            })
            .collect();
        Ok(Some(EndpointSnapshot {
            name: out.endpoint_name().unwrap_or(name).to_string(),
            arn,
            status: out
                .endpoint_status()
                .map_or("Unknown", |s| s.as_str())
                .to_string(),
            config_name,
            is_async: facts.as_ref().is_some_and(|f| f.is_async),
            tags,
            variants,
        }))
    }
}
