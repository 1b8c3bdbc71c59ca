//! An endpoint's kind, worked out once from its snapshot: which profile of
//! the policy set applies, which dimension is scaled, what is scaled and how
//! much of it runs. Everything else asks this module.

use aws_sdk_sagemaker::types::InferenceComponentStatus;

use super::desired::SkipReason;
use super::snapshot::{ComponentSnapshot, EndpointSnapshot, VariantSnapshot};
use super::Dimension;
pub use crate::policy_set::Kind;
use crate::policy_set::{PolicySet, Profile};
use crate::resource::Scaled;

impl Kind {
    /// What Application Auto Scaling scales for this kind.
    pub fn dimension(self) -> Dimension {
        match self {
            Kind::Instance | Kind::Async => Dimension::VariantInstances,
            Kind::Serverless => Dimension::VariantProvisionedConcurrency,
            Kind::Component => Dimension::ComponentCopies,
        }
    }

    /// The profile of the policy set that applies.
    pub fn profile(self, set: &PolicySet) -> &Profile {
        match self {
            Kind::Instance => &set.instance,
            Kind::Async => &set.async_inference,
            Kind::Serverless => &set.serverless,
            Kind::Component => &set.inference_components,
        }
    }

    /// The kind of an endpoint's instance-based variants.
    pub fn of_instances(endpoint: &EndpointSnapshot) -> Kind {
        if endpoint.is_async {
            Kind::Async
        } else {
            Kind::Instance
        }
    }

    /// The kinds whose profiles an endpoint's tags are judged against, in
    /// the order they are checked: a profile that applies to nothing on
    /// the endpoint is not judged.
    pub fn on_endpoint(endpoint: &EndpointSnapshot) -> Vec<Kind> {
        let mut kinds = vec![Kind::of_instances(endpoint)];
        if endpoint.variants.iter().any(|v| v.serverless.is_some()) {
            kinds.push(Kind::Serverless);
        }
        if !endpoint.components.is_empty() {
            kinds.push(Kind::Component);
        }
        kinds
    }
}

/// Something to scale, resolved from the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit<'a> {
    pub kind: Kind,
    pub subject: Scaled,
    /// Capacity running now; the maximum is never set below it.
    pub running: i32,
    /// A hard upper bound (a serverless variant's MaxConcurrency).
    pub ceiling: Option<i32>,
    /// Needed only for per-core targets.
    pub instance_type: Option<&'a str>,
}

/// A variant's unit, or why it is not managed.
pub fn variant_unit<'a>(
    endpoint: &EndpointSnapshot,
    variant: &'a VariantSnapshot,
) -> Result<Unit<'a>, SkipReason> {
    let subject = Scaled::variant(&endpoint.name, &variant.name);
    if variant.hosts_components {
        return Err(SkipReason::HostsComponents);
    }
    if let Some(serverless) = variant.serverless {
        let provisioned = serverless.provisioned_concurrency.unwrap_or(0);
        if provisioned <= 0 {
            return Err(SkipReason::Serverless);
        }
        return Ok(Unit {
            kind: Kind::Serverless,
            subject,
            running: provisioned,
            // Provisioned concurrency can never exceed MaxConcurrency.
            ceiling: serverless.max_concurrency,
            instance_type: None,
        });
    }
    let Some(instance_type) = &variant.instance_type else {
        return Err(if endpoint.config_gone {
            SkipReason::ConfigGone {
                config: endpoint.config_name.clone(),
            }
        } else {
            SkipReason::NoInstanceType
        });
    };
    if is_burstable(instance_type) {
        return Err(SkipReason::Burstable {
            instance_type: instance_type.clone(),
        });
    }
    Ok(Unit {
        kind: Kind::of_instances(endpoint),
        subject,
        running: variant.running_count().unwrap_or(0),
        ceiling: None,
        instance_type: Some(instance_type),
    })
}

/// An inference component's unit: its copies are the capacity.
pub fn component_unit(component: &ComponentSnapshot) -> Result<Unit<'static>, SkipReason> {
    if component.status != InferenceComponentStatus::InService {
        return Err(SkipReason::NotInService {
            status: component.status.as_str().to_string(),
        });
    }
    Ok(Unit {
        kind: Kind::Component,
        subject: Scaled::component(&component.name),
        running: component.running_copies().unwrap_or(0),
        ceiling: None,
        instance_type: None,
    })
}

fn is_burstable(instance_type: &str) -> bool {
    // ml.t2.medium, ml.t3.xlarge, ... (and any later ml.tN family)
    instance_type
        .strip_prefix("ml.t")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}
