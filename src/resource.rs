//! What gets scaled, and every name derived from it: the Application Auto
//! Scaling resource id, the owner endpoint, the owned alarm names, and the
//! prefix that marks what this tool owns. These formats are written and
//! parsed here and nowhere else.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Every policy, scheduled action or alarm this tool creates starts with
/// this prefix; it is how the tool knows what it owns.
pub const OWNED_PREFIX: &str = "autoscaling-guard-";

pub fn is_owned(name: &str) -> bool {
    name.starts_with(OWNED_PREFIX)
}

/// The name of a policy or scheduled action from its short name in the
/// policy set.
pub fn owned_name(short_name: &str) -> String {
    format!("{OWNED_PREFIX}{short_name}")
}

/// A scalable resource: a variant of an endpoint or an inference component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scaled {
    Variant { endpoint: String, variant: String },
    Component { component: String },
}

const VARIANT_ID_PREFIX: &str = "endpoint/";
const VARIANT_ID_SEPARATOR: &str = "/variant/";
const COMPONENT_ID_PREFIX: &str = "inference-component/";
/// `:` cannot appear in endpoint names, so component alarm names never
/// collide with variant alarm names.
const COMPONENT_ALARM_PREFIX: &str = "ic:";

impl Scaled {
    pub fn variant(endpoint: impl Into<String>, variant: impl Into<String>) -> Self {
        Scaled::Variant {
            endpoint: endpoint.into(),
            variant: variant.into(),
        }
    }

    pub fn component(name: impl Into<String>) -> Self {
        Scaled::Component {
            component: name.into(),
        }
    }

    /// The Application Auto Scaling resource id.
    pub fn resource_id(&self) -> String {
        self.to_string()
    }

    /// Parses `endpoint/<endpoint>/variant/<variant>` or
    /// `inference-component/<name>`.
    pub fn parse(resource_id: &str) -> Option<Self> {
        if let Some(name) = resource_id.strip_prefix(COMPONENT_ID_PREFIX) {
            return (!name.is_empty() && !name.contains('/')).then(|| Self::component(name));
        }
        let rest = resource_id.strip_prefix(VARIANT_ID_PREFIX)?;
        let (endpoint, variant) = rest.split_once(VARIANT_ID_SEPARATOR)?;
        if endpoint.is_empty() || variant.is_empty() || variant.contains('/') {
            return None;
        }
        Some(Self::variant(endpoint, variant))
    }

    /// The endpoint a variant belongs to; a component names none of its own.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Scaled::Variant { endpoint, .. } => Some(endpoint),
            Scaled::Component { .. } => None,
        }
    }

    /// The variant's or the component's own name.
    pub fn name(&self) -> &str {
        match self {
            Scaled::Variant { variant, .. } => variant,
            Scaled::Component { component } => component,
        }
    }

    /// The name reports use: the variant name, or the component's resource
    /// id so that it cannot be mistaken for a variant.
    pub fn label(&self) -> String {
        match self {
            Scaled::Variant { variant, .. } => variant.clone(),
            Scaled::Component { .. } => self.resource_id(),
        }
    }

    /// The alarm of one of its step policies: unique in the account
    /// (endpoint names are unique per Region) and under the owned prefix.
    pub fn alarm_name(&self, policy_short_name: &str) -> String {
        match self {
            Scaled::Variant { endpoint, variant } => {
                format!("{OWNED_PREFIX}{endpoint}/{variant}/{policy_short_name}")
            }
            Scaled::Component { component } => {
                format!("{OWNED_PREFIX}{COMPONENT_ALARM_PREFIX}{component}/{policy_short_name}")
            }
        }
    }

    /// What the names of the alarms to read for it start with: one listing
    /// per endpoint covers all of its variants.
    pub fn alarm_listing_prefix(&self) -> String {
        match self {
            Scaled::Variant { endpoint, .. } => format!("{OWNED_PREFIX}{endpoint}/"),
            Scaled::Component { component } => {
                format!("{OWNED_PREFIX}{COMPONENT_ALARM_PREFIX}{component}/")
            }
        }
    }

    /// What an owned alarm's name belongs to.
    pub fn from_alarm_name(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(OWNED_PREFIX)?;
        if let Some(rest) = rest.strip_prefix(COMPONENT_ALARM_PREFIX) {
            let (component, policy) = rest.split_once('/')?;
            return (!component.is_empty() && !policy.is_empty())
                .then(|| Self::component(component));
        }
        let mut parts = rest.splitn(3, '/');
        let (endpoint, variant, policy) = (parts.next()?, parts.next()?, parts.next()?);
        if endpoint.is_empty() || variant.is_empty() || policy.is_empty() {
            return None;
        }
        Some(Self::variant(endpoint, variant))
    }
}

impl fmt::Display for Scaled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scaled::Variant { endpoint, variant } => {
                write!(
                    f,
                    "{VARIANT_ID_PREFIX}{endpoint}{VARIANT_ID_SEPARATOR}{variant}"
                )
            }
            Scaled::Component { component } => write!(f, "{COMPONENT_ID_PREFIX}{component}"),
        }
    }
}

/// `{"resource_id", "endpoint", "variant"}` or `{"resource_id", "component"}`.
impl Serialize for Scaled {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("resource_id", &self.resource_id())?;
        match self {
            Scaled::Variant { endpoint, variant } => {
                map.serialize_entry("endpoint", endpoint)?;
                map.serialize_entry("variant", variant)?;
            }
            Scaled::Component { component } => map.serialize_entry("component", component)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_is_the_name_prefix() {
        assert!(is_owned("autoscaling-guard-invocations"));
        assert!(!is_owned("my-policy"));
        assert!(!is_owned("autoscaling-guard"));
    }

    #[test]
    fn resource_ids_round_trip() {
        let v = Scaled::variant("fraud-model", "AllTraffic");
        assert_eq!(v.resource_id(), "endpoint/fraud-model/variant/AllTraffic");
        assert_eq!(Scaled::parse(&v.resource_id()), Some(v));
        let c = Scaled::component("chat");
        assert_eq!(c.resource_id(), "inference-component/chat");
        assert_eq!(Scaled::parse("inference-component/chat"), Some(c));
        assert_eq!(Scaled::parse("inference-component/"), None);
        assert_eq!(Scaled::parse("endpoint/x/variant/"), None);
        assert_eq!(Scaled::parse("endpoint/x/variant/a/b"), None);
        assert_eq!(Scaled::parse("table/x"), None);
    }

    #[test]
    fn alarm_names_name_what_they_belong_to() {
        let v = Scaled::variant("fraud", "primary");
        assert_eq!(
            v.alarm_name("burst"),
            "autoscaling-guard-fraud/primary/burst"
        );
        assert_eq!(Scaled::from_alarm_name(&v.alarm_name("burst")), Some(v));
        let c = Scaled::component("chat");
        assert_eq!(c.alarm_name("burst"), "autoscaling-guard-ic:chat/burst");
        assert_eq!(
            Scaled::from_alarm_name("autoscaling-guard-ic:chat/burst"),
            Some(c)
        );
        assert_eq!(Scaled::from_alarm_name("autoscaling-guard-ic:chat"), None);
        assert_eq!(
            Scaled::from_alarm_name("autoscaling-guard-fraud/primary"),
            None
        );
        assert_eq!(Scaled::from_alarm_name("someone-elses-alarm"), None);
    }

    #[test]
    fn only_variants_have_an_owner_endpoint() {
        assert_eq!(Scaled::variant("e", "v").endpoint(), Some("e"));
        assert_eq!(Scaled::component("c").endpoint(), None);
        assert_eq!(Scaled::component("c").label(), "inference-component/c");
        assert_eq!(Scaled::variant("e", "v").label(), "v");
        assert_eq!(Scaled::component("c").name(), "c");
    }
}
