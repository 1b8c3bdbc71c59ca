//! Reads endpoints from SageMaker into `EndpointSnapshot`s.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_sagemaker::types::{
    EndpointStatus, InferenceComponentStatus, ProductionVariantSummary, ResourceType, Tag,
};
use aws_sdk_sagemaker::Client;
use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::paging::collect_pages;
use super::AwsError;
use crate::domain::snapshot::{ComponentSnapshot, EndpointSnapshot, Serverless, VariantSnapshot};

/// What an endpoint config says about its variants. Endpoint configs are
/// immutable, so this is cached for the life of the process.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFacts {
    pub is_async: bool,
    pub variants: HashMap<String, VariantFacts>,
}

/// What an endpoint config says about one variant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantFacts {
    pub instance_type: Option<String>,
    /// Instances without a model: the endpoint runs inference components.
    pub hosts_components: bool,
    pub serverless: Option<Serverless>,
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
                        VariantFacts {
                            instance_type: v.instance_type().map(|t| t.as_str().to_string()),
                            hosts_components: v.model_name().is_none()
                                && v.serverless_config().is_none(),
                            serverless: v.serverless_config().map(|c| Serverless {
                                max_concurrency: c.max_concurrency(),
                                provisioned_concurrency: c.provisioned_concurrency(),
                            }),
                        },
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
        let arn = out.endpoint_arn().unwrap_or_default().to_string();
        let record = EndpointRecord {
            name: out.endpoint_name().unwrap_or(name).to_string(),
            tags: self.tags(&arn).await?,
            arn,
            status: status_of(out.endpoint_status()),
            last_modified: out.last_modified_time().and_then(to_utc),
            config_name: out.endpoint_config_name().unwrap_or_default().to_string(),
            variants: out.production_variants().to_vec(),
        };
        let facts = self.config_facts(&record.config_name).await?;
        let mut snapshot = record.into_snapshot(facts.as_ref());
        self.add_components(&mut snapshot).await?;
        Ok(Some(snapshot))
    }

    /// Every endpoint in the account and Region, with variants and tags, from
    /// SageMaker Search (100 a page) plus one DescribeEndpointConfig per
    /// config not seen before. An endpoint whose config cannot be read is
    /// returned as an error of its own; only a failed listing fails it all.
    pub async fn list_all(&self, concurrency: usize) -> Result<Vec<Listed>, AwsError> {
        let records = collect_pages("Search", |token| {
            let req = self
                .client
                .search()
                .resource(ResourceType::Endpoint)
                .max_results(100)
                .set_next_token(token);
            async move {
                let out = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("Search", e))?;
                let page: Vec<EndpointRecord> = out
                    .results()
                    .iter()
                    .filter_map(|r| r.endpoint())
                    .map(|e| EndpointRecord {
                        name: e.endpoint_name().unwrap_or_default().to_string(),
                        arn: e.endpoint_arn().unwrap_or_default().to_string(),
                        status: status_of(e.endpoint_status()),
                        last_modified: e.last_modified_time().and_then(to_utc),
                        config_name: e.endpoint_config_name().unwrap_or_default().to_string(),
                        tags: e
                            .tags()
                            .iter()
                            .map(|t| {
                                (
                                    t.key().unwrap_or_default().to_string(),
                                    t.value().unwrap_or_default().to_string(),
                                )
                            })
                            .collect(),
                        variants: e.production_variants().to_vec(),
                    })
                    .collect();
                Ok((page, out.next_token().map(str::to_string)))
            }
        })
        .await?;
        let listed = futures::stream::iter(records)
            .map(|record| async move {
                let name = record.name.clone();
                let facts = self
                    .config_facts(&record.config_name)
                    .await
                    .map_err(|e| (name.clone(), e))?;
                let mut snapshot = record.into_snapshot(facts.as_ref());
                self.add_components(&mut snapshot)
                    .await
                    .map_err(|e| (name, e))?;
                Ok(snapshot)
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        Ok(listed)
    }
}

impl SageMakerEndpoints {
    /// AddTags on an endpoint: creates the tags or replaces their values.
    pub async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), AwsError> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        self.client
            .add_tags()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("AddTags", e))?;
        Ok(())
    }

    /// DeleteTags on an endpoint; keys it does not carry are no error.
    pub async fn delete_tags(&self, arn: &str, keys: &[&str]) -> Result<(), AwsError> {
        self.client
            .delete_tags()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.iter().map(|k| k.to_string()).collect()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteTags", e))?;
        Ok(())
    }

    pub async fn component_exists(&self, name: &str) -> Result<bool, AwsError> {
        match self
            .client
            .describe_inference_component()
            .inference_component_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = AwsError::from_sdk("DescribeInferenceComponent", e);
                if is_not_found(&err) {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// Reads the inference components of an endpoint whose variants host
    /// them: ListInferenceComponents, then DescribeInferenceComponent each
    /// for its copy counts. Other endpoints cost nothing here.
    async fn add_components(&self, snapshot: &mut EndpointSnapshot) -> Result<(), AwsError> {
        if !snapshot.variants.iter().any(|v| v.hosts_components) {
            return Ok(());
        }
        let names = collect_pages("ListInferenceComponents", |token| {
            let req = self
                .client
                .list_inference_components()
                .endpoint_name_equals(&snapshot.name)
                .max_results(100)
                .set_next_token(token);
            async move {
                let out = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ListInferenceComponents", e))?;
                let page: Vec<String> = out
                    .inference_components()
                    .iter()
                    .filter_map(|c| c.inference_component_name().map(str::to_string))
                    .collect();
                Ok((page, out.next_token().map(str::to_string)))
            }
        })
        .await?;
        for name in names {
            let out = match self
                .client
                .describe_inference_component()
                .inference_component_name(&name)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let err = AwsError::from_sdk("DescribeInferenceComponent", e);
                    // Deleted between the listing and now.
                    if is_not_found(&err) {
                        continue;
                    }
                    return Err(err);
                }
            };
            let runtime = out.runtime_config();
            snapshot.components.push(ComponentSnapshot {
                variant: out.variant_name().unwrap_or_default().to_string(),
                status: out
                    .inference_component_status()
                    .cloned()
                    .unwrap_or_else(|| InferenceComponentStatus::from("Unknown")),
                current_copies: runtime.and_then(|r| r.current_copy_count()),
                desired_copies: runtime.and_then(|r| r.desired_copy_count()),
                name,
            });
        }
        Ok(())
    }
}

/// One endpoint from a listing, or its name and what kept it from being read.
pub type Listed = Result<EndpointSnapshot, (String, AwsError)>;

fn to_utc(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// A status AWS left out reads as `Unknown`, never as in service.
fn status_of(status: Option<&EndpointStatus>) -> EndpointStatus {
    status
        .cloned()
        .unwrap_or_else(|| EndpointStatus::from("Unknown"))
}

/// An endpoint as DescribeEndpoint or Search return it, before its config
/// is joined in.
struct EndpointRecord {
    name: String,
    arn: String,
    status: EndpointStatus,
    last_modified: Option<DateTime<Utc>>,
    config_name: String,
    tags: BTreeMap<String, String>,
    variants: Vec<ProductionVariantSummary>,
}

impl EndpointRecord {
    fn into_snapshot(self, facts: Option<&ConfigFacts>) -> EndpointSnapshot {
        let variants = self
            .variants
            .iter()
            .map(|v| {
                let name = v.variant_name().unwrap_or_default().to_string();
                let config = facts
                    .and_then(|f| f.variants.get(&name).cloned())
                    .unwrap_or_default();
                // The endpoint's current serverless config wins: provisioned
                // concurrency is what autoscaling changes.
                let serverless = match (v.current_serverless_config(), config.serverless) {
                    (Some(c), _) => Some(Serverless {
                        max_concurrency: c.max_concurrency(),
                        provisioned_concurrency: c.provisioned_concurrency(),
                    }),
                    (None, from_config) => from_config,
                };
                VariantSnapshot {
                    instance_type: config.instance_type,
                    current_instance_count: v.current_instance_count(),
                    desired_instance_count: v.desired_instance_count(),
                    hosts_components: config.hosts_components,
                    serverless,
                    name,
                }
            })
            .collect();
        EndpointSnapshot {
            name: self.name,
            arn: self.arn,
            status: self.status,
            last_modified: self.last_modified,
            config_name: self.config_name,
            config_gone: facts.is_none(),
            is_async: facts.is_some_and(|f| f.is_async),
            tags: self.tags,
            variants,
            components: Vec::new(),
        }
    }
}
