//! Pure domain logic: what an endpoint looks like, what its scaling should
//! be, and the changes that get from one to the other. Nothing here talks to
//! AWS, so all of it is unit-tested.

use serde::Serialize;

pub mod desired;
pub mod plan;
pub mod release;
pub mod snapshot;

/// Every policy, scheduled action or alarm this tool creates starts with
/// this prefix; it is how the tool knows what it owns.
pub const OWNED_PREFIX: &str = "autoscaling-guard-";

pub const SERVICE_NAMESPACE: &str = "sagemaker";

/// What a scalable target scales.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Dimension {
    /// Instances of an instance-based variant.
    #[default]
    #[serde(rename = "sagemaker:variant:DesiredInstanceCount")]
    VariantInstances,
    /// Provisioned concurrency of a serverless variant.
    #[serde(rename = "sagemaker:variant:DesiredProvisionedConcurrency")]
    VariantProvisionedConcurrency,
    /// Copies of an inference component.
    #[serde(rename = "sagemaker:inference-component:DesiredCopyCount")]
    ComponentCopies,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [
        Dimension::VariantInstances,
        Dimension::VariantProvisionedConcurrency,
        Dimension::ComponentCopies,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::VariantInstances => "sagemaker:variant:DesiredInstanceCount",
            Dimension::VariantProvisionedConcurrency => {
                "sagemaker:variant:DesiredProvisionedConcurrency"
            }
            Dimension::ComponentCopies => "sagemaker:inference-component:DesiredCopyCount",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

pub fn is_owned(name: &str) -> bool {
    name.starts_with(OWNED_PREFIX)
}

/// The Application Auto Scaling resource id of an endpoint variant.
pub fn variant_resource_id(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
}

/// Splits `endpoint/<endpoint>/variant/<variant>` into its names.
pub fn parse_variant_resource_id(resource_id: &str) -> Option<(&str, &str)> {
    let rest = resource_id.strip_prefix("endpoint/")?;
    let (endpoint, variant) = rest.split_once("/variant/")?;
    if endpoint.is_empty() || variant.is_empty() || variant.contains('/') {
        return None;
    }
    Some((endpoint, variant))
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_round_trip() {
        let id = variant_resource_id("fraud-model", "AllTraffic");
        assert_eq!(id, "endpoint/fraud-model/variant/AllTraffic");
        assert_eq!(
            parse_variant_resource_id(&id),
            Some(("fraud-model", "AllTraffic"))
        );
        assert_eq!(parse_variant_resource_id("inference-component/x"), None);
        assert_eq!(parse_variant_resource_id("endpoint/x/variant/"), None);
    }

    #[test]
    fn ownership_is_the_name_prefix() {
        assert!(is_owned("autoscaling-guard-invocations"));
        assert!(!is_owned("my-policy"));
        assert!(!is_owned("autoscaling-guard"));
    }
}
