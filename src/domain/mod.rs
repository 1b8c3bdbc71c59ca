//! Pure domain logic: what an endpoint looks like, what its scaling should
//! be, and the changes that get from one to the other. Nothing here talks to
//! AWS, so all of it is unit-tested.

use serde::Serialize;

pub mod desired;
pub mod holdings;
pub mod kind;
pub mod plan;
pub mod release;
pub mod snapshot;

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

#[cfg(test)]
mod props;
