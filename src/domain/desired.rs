//! What the scaling of an endpoint should be: the standard policy set, with
//! the endpoint's tag overrides, for every variant this tool may manage.

use std::fmt;

use serde::Serialize;

use super::snapshot::{EndpointSnapshot, VariantSnapshot};
use super::{variant_resource_id, INVOCATIONS_METRIC, INVOCATIONS_POLICY};
use crate::config::{parse_bool, parse_cooldown, parse_count, parse_positive, Settings};

pub const TAG_ENABLED: &str = "autoscaling:enabled";
pub const TAG_MIN: &str = "autoscaling:min-capacity";
pub const TAG_MAX: &str = "autoscaling:max-capacity";
pub const TAG_TARGET: &str = "autoscaling:target-value";
pub const TAG_SCALE_IN: &str = "autoscaling:scale-in-cooldown";
pub const TAG_SCALE_OUT: &str = "autoscaling:scale-out-cooldown";
pub const KNOWN_TAGS: [&str; 6] = [
    TAG_ENABLED,
    TAG_MIN,
    TAG_MAX,
    TAG_TARGET,
    TAG_SCALE_IN,
    TAG_SCALE_OUT,
];

/// An endpoint tag whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagError {
    pub tag: String,
    pub value: String,
    pub problem: String,
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid tag {}={:?}: {}",
            self.tag, self.value, self.problem
        )
    }
}

/// Why a variant or a whole endpoint is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    NotInService { status: String },
    OptedOut,
    NotOptedIn,
    AsyncEndpoint,
    Serverless,
    Burstable { instance_type: String },
    NoInstanceType,
    ForeignPolicies { names: Vec<String> },
}

impl SkipReason {
    /// A stable code for machines; `Display` is for people.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::NotInService { .. } => "not_in_service",
            SkipReason::OptedOut => "opted_out",
            SkipReason::NotOptedIn => "not_opted_in",
            SkipReason::AsyncEndpoint => "async_endpoint",
            SkipReason::Serverless => "serverless",
            SkipReason::Burstable { .. } => "burstable_instance",
            SkipReason::NoInstanceType => "no_instance_type",
            SkipReason::ForeignPolicies { .. } => "foreign_policy",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotInService { status } => {
                write!(f, "endpoint is {status}, not InService")
            }
            SkipReason::OptedOut => write!(f, "endpoint is tagged {TAG_ENABLED}=false"),
            SkipReason::NotOptedIn => write!(
                f,
                "REQUIRE_OPT_IN is set and the endpoint is not tagged {TAG_ENABLED}=true"
            ),
            SkipReason::AsyncEndpoint => write!(
                f,
                "asynchronous endpoint: invocations-per-instance target tracking never acts on it"
            ),
            SkipReason::Serverless => write!(f, "serverless variant: not instance-based"),
            SkipReason::Burstable { instance_type } => write!(
                f,
                "burstable instance type {instance_type} cannot be autoscaled"
            ),
            SkipReason::NoInstanceType => {
                write!(
                    f,
                    "variant declares no instance type in its endpoint config"
                )
            }
            SkipReason::ForeignPolicies { names } => write!(
                f,
                "variant has scaling policies this tool does not own ({}): left to its owner",
                names.join(", ")
            ),
        }
    }
}

impl Serialize for SkipReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SkipReason", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// The desired target-tracking policy of a variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredPolicy {
    pub name: String,
    pub predefined_metric: String,
    pub target_value: f64,
    pub scale_in_cooldown: i32,
    pub scale_out_cooldown: i32,
}

/// The whole desired scaling of one managed variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredScaling {
    pub variant: String,
    pub resource_id: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
    /// The configured maximum was below the running instance count and was
    /// raised to it, so that registering never scales the variant in.
    pub max_raised_to_running: bool,
    pub policies: Vec<DesiredPolicy>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VariantIntent {
    Manage(DesiredScaling),
    Skip { variant: String, reason: SkipReason },
}

#[derive(Debug, Clone, PartialEq)]
pub enum EndpointIntent {
    Skip(SkipReason),
    Variants(Vec<VariantIntent>),
}

/// The standard set after an endpoint's tag overrides.
#[derive(Debug, Clone, PartialEq)]
struct EffectivePolicy {
    min: i32,
    max: i32,
    target: f64,
    scale_in: i32,
    scale_out: i32,
}

fn tag_error(tag: &str, value: &str, problem: impl Into<String>) -> TagError {
    TagError {
        tag: tag.to_string(),
        value: value.to_string(),
        problem: problem.into(),
    }
}

fn effective_policy(
    snapshot: &EndpointSnapshot,
    settings: &Settings,
) -> Result<EffectivePolicy, TagError> {
    let std = &settings.standard;
    let tags = &snapshot.tags;
    if let Some((key, value)) = tags
        .iter()
        .find(|(k, _)| k.starts_with("autoscaling:") && !KNOWN_TAGS.contains(&k.as_str()))
    {
        return Err(tag_error(
            key,
            value,
            format!(
                "unknown autoscaling tag; known tags are {}",
                KNOWN_TAGS.join(", ")
            ),
        ));
    }
    let read =
        |tag: &str, parse: &dyn Fn(&str) -> Result<f64, String>| -> Result<Option<f64>, TagError> {
            match tags.get(tag) {
                None => Ok(None),
                Some(raw) => parse(raw).map(Some).map_err(|p| tag_error(tag, raw, p)),
            }
        };
    let count = |raw: &str| parse_count(raw, 1).map(f64::from);
    let cooldown = |raw: &str| parse_cooldown(raw).map(f64::from);
    let min = read(TAG_MIN, &count)?.map_or(std.min_capacity, |v| v as i32);
    let max = read(TAG_MAX, &count)?.map_or(std.max_capacity, |v| v as i32);
    if min > max {
        // Name the tag that was set; with both set, the max is named.
        let (tag, value) = match (tags.get(TAG_MAX), tags.get(TAG_MIN)) {
            (Some(v), _) => (TAG_MAX, v.clone()),
            (None, Some(v)) => (TAG_MIN, v.clone()),
            (None, None) => unreachable!("settings validate MIN <= MAX"),
        };
        return Err(tag_error(
            tag,
            &value,
            format!("minimum capacity {min} is above maximum capacity {max}"),
        ));
    }
    Ok(EffectivePolicy {
        min,
        max,
        target: read(TAG_TARGET, &parse_positive)?.unwrap_or(std.target_invocations_per_instance),
        scale_in: read(TAG_SCALE_IN, &cooldown)?.map_or(std.scale_in_cooldown, |v| v as i32),
        scale_out: read(TAG_SCALE_OUT, &cooldown)?.map_or(std.scale_out_cooldown, |v| v as i32),
    })
}

fn is_burstable(instance_type: &str) -> bool {
    // ml.t2.medium, ml.t3.xlarge, ... (and any later ml.tN family)
    instance_type
        .strip_prefix("ml.t")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

fn variant_intent(
    endpoint: &str,
    variant: &VariantSnapshot,
    policy: &EffectivePolicy,
) -> VariantIntent {
    let skip = |reason| VariantIntent::Skip {
        variant: variant.name.clone(),
        reason,
    };
    if variant.serverless {
        return skip(SkipReason::Serverless);
    }
    let Some(instance_type) = &variant.instance_type else {
        return skip(SkipReason::NoInstanceType);
    };
    if is_burstable(instance_type) {
        return skip(SkipReason::Burstable {
            instance_type: instance_type.clone(),
        });
    }
    let running = variant.running_count().unwrap_or(0);
    VariantIntent::Manage(DesiredScaling {
        variant: variant.name.clone(),
        resource_id: variant_resource_id(endpoint, &variant.name),
        min_capacity: policy.min,
        max_capacity: policy.max.max(running),
        max_raised_to_running: running > policy.max,
        policies: vec![DesiredPolicy {
            name: INVOCATIONS_POLICY.to_string(),
            predefined_metric: INVOCATIONS_METRIC.to_string(),
            target_value: policy.target,
            scale_in_cooldown: policy.scale_in,
            scale_out_cooldown: policy.scale_out,
        }],
    })
}

/// Computes what an endpoint's scaling should be. A bad tag value fails the
/// whole endpoint, so nothing is written from a half-understood intent.
pub fn desired_for(
    snapshot: &EndpointSnapshot,
    settings: &Settings,
) -> Result<EndpointIntent, TagError> {
    if snapshot.status != "InService" {
        return Ok(EndpointIntent::Skip(SkipReason::NotInService {
            status: snapshot.status.clone(),
        }));
    }
    let enabled = match snapshot.tags.get(TAG_ENABLED) {
        None => None,
        Some(raw) => Some(parse_bool(raw).map_err(|p| tag_error(TAG_ENABLED, raw, p))?),
    };
    match enabled {
        Some(false) => return Ok(EndpointIntent::Skip(SkipReason::OptedOut)),
        None if settings.require_opt_in => return Ok(EndpointIntent::Skip(SkipReason::NotOptedIn)),
        _ => {}
    }
    let policy = effective_policy(snapshot, settings)?;
    if snapshot.is_async {
        return Ok(EndpointIntent::Skip(SkipReason::AsyncEndpoint));
    }
    Ok(EndpointIntent::Variants(
        snapshot
            .variants
            .iter()
            .map(|v| variant_intent(&snapshot.name, v, &policy))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::VariantSnapshot;

    fn variant(name: &str, instance_type: &str, count: i32) -> VariantSnapshot {
        VariantSnapshot {
            name: name.into(),
            instance_type: Some(instance_type.into()),
            current_instance_count: Some(count),
            desired_instance_count: Some(count),
            serverless: false,
        }
    }

    fn endpoint(tags: &[(&str, &str)]) -> EndpointSnapshot {
        EndpointSnapshot {
            name: "fraud".into(),
            arn: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud".into(),
            status: "InService".into(),
            config_name: "fraud-config".into(),
            is_async: false,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            variants: vec![
                variant("a", "ml.m5.large", 1),
                variant("b", "ml.c5.xlarge", 2),
            ],
        }
    }

    fn managed(intent: EndpointIntent) -> Vec<DesiredScaling> {
        match intent {
            EndpointIntent::Variants(vs) => vs
                .into_iter()
                .map(|v| match v {
                    VariantIntent::Manage(d) => d,
                    other => panic!("expected managed, got {other:?}"),
                })
                .collect(),
            other => panic!("expected variants, got {other:?}"),
        }
    }

    fn skipped(intent: EndpointIntent) -> SkipReason {
        match intent {
            EndpointIntent::Skip(r) => r,
            other => panic!("expected skip, got {other:?}"),
        }
    }

    #[test]
    fn every_instance_variant_gets_the_standard_set() {
        let d = managed(desired_for(&endpoint(&[]), &Settings::default()).unwrap());
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].resource_id, "endpoint/fraud/variant/a");
        assert_eq!(d[1].resource_id, "endpoint/fraud/variant/b");
        for v in &d {
            assert_eq!((v.min_capacity, v.max_capacity), (1, 4));
            assert!(!v.max_raised_to_running);
            assert_eq!(
                v.policies,
                vec![DesiredPolicy {
                    name: "autoscaling-guard-invocations".into(),
                    predefined_metric: "SageMakerVariantInvocationsPerInstance".into(),
                    target_value: 70.0,
                    scale_in_cooldown: 300,
                    scale_out_cooldown: 60,
                }]
            );
        }
    }

    #[test]
    fn tags_override_every_value() {
        let snap = endpoint(&[
            (TAG_MIN, "2"),
            (TAG_MAX, "9"),
            (TAG_TARGET, "150.5"),
            (TAG_SCALE_IN, "900"),
            (TAG_SCALE_OUT, "30"),
            (TAG_ENABLED, "true"),
        ]);
        let d = managed(desired_for(&snap, &Settings::default()).unwrap());
        assert_eq!((d[0].min_capacity, d[0].max_capacity), (2, 9));
        let p = &d[0].policies[0];
        assert_eq!(p.target_value, 150.5);
        assert_eq!((p.scale_in_cooldown, p.scale_out_cooldown), (900, 30));
    }

    #[test]
    fn max_is_raised_to_the_running_count_never_below_it() {
        let mut snap = endpoint(&[]);
        snap.variants[1].current_instance_count = Some(6);
        snap.variants[1].desired_instance_count = Some(7);
        let d = managed(desired_for(&snap, &Settings::default()).unwrap());
        assert_eq!(d[0].max_capacity, 4);
        assert_eq!(d[1].max_capacity, 7);
        assert!(d[1].max_raised_to_running);
    }

    #[test]
    fn bad_tags_fail_the_endpoint_naming_tag_and_value() {
        let cases = [
            (TAG_MIN, "zero", "not a whole number"),
            (TAG_MIN, "0", "at least 1"),
            (TAG_MAX, "-2", "at least 1"),
            (TAG_TARGET, "-5", "greater than 0"),
            (TAG_SCALE_IN, "1.5", "not a whole number"),
            (TAG_SCALE_OUT, "-1", "at least 0"),
            (TAG_ENABLED, "maybe", "true or false"),
            ("autoscaling:max-capcity", "5", "unknown autoscaling tag"),
        ];
        for (tag, value, problem) in cases {
            let err = desired_for(&endpoint(&[(tag, value)]), &Settings::default()).unwrap_err();
            assert_eq!((err.tag.as_str(), err.value.as_str()), (tag, value));
            assert!(err.problem.contains(problem), "{err}");
            assert!(err.to_string().contains(tag));
        }
    }

    #[test]
    fn min_above_max_names_the_tag() {
        let err = desired_for(&endpoint(&[(TAG_MIN, "6")]), &Settings::default()).unwrap_err();
        assert_eq!(err.tag, TAG_MIN);
        assert!(err
            .problem
            .contains("minimum capacity 6 is above maximum capacity 4"));
        let err = desired_for(
            &endpoint(&[(TAG_MIN, "3"), (TAG_MAX, "2")]),
            &Settings::default(),
        )
        .unwrap_err();
        assert_eq!((err.tag.as_str(), err.value.as_str()), (TAG_MAX, "2"));
    }

    #[test]
    fn opt_out_and_opt_in() {
        let off = endpoint(&[(TAG_ENABLED, "false"), (TAG_MAX, "junk")]);
        // Opting out wins over a broken tag: the endpoint is not ours to judge.
        assert_eq!(
            skipped(desired_for(&off, &Settings::default()).unwrap()),
            SkipReason::OptedOut
        );

        let opt_in = Settings {
            require_opt_in: true,
            ..Settings::default()
        };
        assert_eq!(
            skipped(desired_for(&endpoint(&[]), &opt_in).unwrap()),
            SkipReason::NotOptedIn
        );
        assert_eq!(
            managed(desired_for(&endpoint(&[(TAG_ENABLED, "True")]), &opt_in).unwrap()).len(),
            2
        );
        assert_eq!(
            skipped(desired_for(&off, &opt_in).unwrap()),
            SkipReason::OptedOut
        );
    }

    #[test]
    fn endpoints_not_in_service_and_async_endpoints_are_skipped() {
        let mut snap = endpoint(&[]);
        snap.status = "Updating".into();
        assert_eq!(
            skipped(desired_for(&snap, &Settings::default()).unwrap()),
            SkipReason::NotInService {
                status: "Updating".into()
            }
        );
        let mut snap = endpoint(&[]);
        snap.is_async = true;
        assert_eq!(
            skipped(desired_for(&snap, &Settings::default()).unwrap()),
            SkipReason::AsyncEndpoint
        );
    }

    #[test]
    fn serverless_burstable_and_untyped_variants_are_skipped_one_by_one() {
        let mut snap = endpoint(&[]);
        snap.variants = vec![
            variant("ok", "ml.g5.xlarge", 1),
            variant("t2", "ml.t2.medium", 1),
            variant("t3", "ml.t3.large", 1),
            VariantSnapshot {
                serverless: true,
                instance_type: None,
                ..variant("sls", "x", 0)
            },
            VariantSnapshot {
                instance_type: None,
                ..variant("ic", "x", 1)
            },
            // trn1 starts with "t" but is not burstable.
            variant("trn", "ml.trn1.2xlarge", 1),
        ];
        let EndpointIntent::Variants(vs) = desired_for(&snap, &Settings::default()).unwrap() else {
            panic!()
        };
        let codes: Vec<&str> = vs
            .iter()
            .map(|v| match v {
                VariantIntent::Manage(_) => "manage",
                VariantIntent::Skip { reason, .. } => reason.code(),
            })
            .collect();
        assert_eq!(
            codes,
            [
                "manage",
                "burstable_instance",
                "burstable_instance",
                "serverless",
                "no_instance_type",
                "manage"
            ]
        );
    }

    #[test]
    fn skip_reasons_serialize_with_a_code_and_a_message() {
        let json = serde_json::to_value(SkipReason::Burstable {
            instance_type: "ml.t2.medium".into(),
        })
        .unwrap();
        assert_eq!(json["code"], "burstable_instance");
        assert!(json["message"].as_str().unwrap().contains("ml.t2.medium"));
    }
}
