//! What the scaling of an endpoint should be: the standard policy set, with
//! the endpoint's tag overrides, for every variant this tool may manage.

use std::fmt;

use serde::Serialize;

use super::kind::{component_unit, variant_unit, Kind, Unit};
use super::snapshot::EndpointSnapshot;
use super::Dimension;
use crate::config::{parse_cooldown, parse_count, parse_positive, Settings};
use crate::policy_set::alarm::MAX_ALARM_NAME;
use crate::policy_set::Profile;
pub use crate::policy_set::{
    DesiredAlarm, DesiredPolicy, DesiredStepPolicy, DesiredTargetTracking, MetricSpec,
};
use crate::resource::{owned_name, Scaled};

pub const TAG_ENABLED: &str = "autoscaling:enabled";
pub const TAG_MIN: &str = "autoscaling:min-capacity";
pub const TAG_MAX: &str = "autoscaling:max-capacity";
pub const TAG_TARGET: &str = "autoscaling:target-value";
pub const TAG_SCALE_IN: &str = "autoscaling:scale-in-cooldown";
pub const TAG_SCALE_OUT: &str = "autoscaling:scale-out-cooldown";
pub const KNOWN_TAGS: [&str; 8] = [
    TAG_ENABLED,
    TAG_MIN,
    TAG_MAX,
    TAG_TARGET,
    TAG_SCALE_IN,
    TAG_SCALE_OUT,
    super::release::TAG_RELEASED_UNTIL,
    super::release::TAG_RELEASED_LAST_MODIFIED,
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
    NotInService {
        status: String,
    },
    OptedOut,
    NotOptedIn,
    Serverless,
    Burstable {
        instance_type: String,
    },
    NoInstanceType,
    /// The endpoint config was deleted while the endpoint runs: what it said
    /// about the variant (its instance type) is unknown.
    ConfigGone {
        config: String,
    },
    HostsComponents,
    ForeignPolicies {
        names: Vec<String>,
    },
    /// Released for an endpoint update (`release`), until the update has
    /// happened or the mark expires.
    Released {
        until: String,
    },
}

impl SkipReason {
    /// A stable code for machines; `Display` is for people.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::NotInService { .. } => "not_in_service",
            SkipReason::OptedOut => "opted_out",
            SkipReason::NotOptedIn => "not_opted_in",
            SkipReason::Serverless => "serverless",
            SkipReason::Burstable { .. } => "burstable_instance",
            SkipReason::NoInstanceType => "no_instance_type",
            SkipReason::ConfigGone { .. } => "endpoint_config_gone",
            SkipReason::HostsComponents => "hosts_inference_components",
            SkipReason::ForeignPolicies { .. } => "foreign_policy",
            SkipReason::Released { .. } => "released",
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
            SkipReason::Serverless => {
                write!(
                    f,
                    "serverless variant without provisioned concurrency: nothing to scale"
                )
            }
            SkipReason::Burstable { instance_type } => write!(
                f,
                "burstable instance type {instance_type} cannot be autoscaled"
            ),
            SkipReason::HostsComponents => write!(
                f,
                "variant hosts inference components: their copy counts are scaled instead"
            ),
            SkipReason::NoInstanceType => {
                write!(
                    f,
                    "variant declares no instance type in its endpoint config"
                )
            }
            SkipReason::ConfigGone { config } => write!(
                f,
                "endpoint config {config} no longer exists, so the variant's instance type is unknown"
            ),
            SkipReason::ForeignPolicies { names } => write!(
                f,
                "variant has scaling this tool does not own ({}): left to its owner",
                names.join(", ")
            ),
            SkipReason::Released { until } => write!(
                f,
                "released for an endpoint update until {until}, or until the update has happened"
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

/// A desired scheduled action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredSchedule {
    pub name: String,
    pub schedule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i32>,
}

/// The whole desired scaling of one managed variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredScaling {
    pub subject: Scaled,
    pub dimension: Dimension,
    pub min_capacity: i32,
    pub max_capacity: i32,
    /// The configured maximum was below the running instance count and was
    /// raised to it, so that registering never scales the variant in.
    pub max_raised_to_running: bool,
    /// In the order they are put.
    pub policies: Vec<DesiredPolicy>,
    pub scheduled: Vec<DesiredSchedule>,
}

/// The policies of one type, for tests that look at one type at a time.
#[cfg(test)]
impl DesiredScaling {
    pub fn target_tracking(&self) -> Vec<&DesiredTargetTracking> {
        self.policies
            .iter()
            .filter_map(|p| match p {
                DesiredPolicy::TargetTracking(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    pub fn step_scaling(&self) -> Vec<&DesiredStepPolicy> {
        self.policies
            .iter()
            .filter_map(|p| match p {
                DesiredPolicy::StepScaling(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

impl DesiredScaling {
    pub fn resource_id(&self) -> String {
        self.subject.resource_id()
    }

    /// The name in reports.
    pub fn label(&self) -> String {
        self.subject.label()
    }
}

#[derive(Debug, Clone, PartialEq)]
/// What to do with one variant or inference component.
pub enum VariantIntent {
    Manage(DesiredScaling),
    Skip {
        subject: Scaled,
        reason: SkipReason,
    },
    /// The standard cannot be applied to it (for example a per-core target
    /// on an instance type of unknown size).
    Error {
        subject: Scaled,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum EndpointIntent {
    Skip(SkipReason),
    Variants(Vec<VariantIntent>),
}

fn tag_error(tag: &str, value: &str, problem: impl Into<String>) -> TagError {
    TagError {
        tag: tag.to_string(),
        value: value.to_string(),
        problem: problem.into(),
    }
}

// Tag values follow one strict rule: whole numbers are plain ASCII digits,
// other numbers plain ASCII digits with an optional fraction (`0.5`), with
// no space, sign or exponent anywhere; booleans are exactly `true` or
// `false`, in lower case. A value that a person could read two ways (` 2`,
// `+2`, `1e2`, `TRUE`) is refused rather than guessed at.

const DIGITS_RULE: &str = "must be plain digits (no spaces, sign or exponent), e.g. \"4\"";
const NUMBER_RULE: &str =
    "must be plain digits with an optional fraction (no spaces, sign or exponent), e.g. \"70\" or \"0.5\"";

fn is_digits(raw: &str) -> bool {
    !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit())
}

/// A whole-number tag value of at least `floor`.
fn tag_count(raw: &str, floor: i32) -> Result<i32, String> {
    if !is_digits(raw) {
        return Err(DIGITS_RULE.to_string());
    }
    parse_count(raw, floor)
}

/// A cooldown tag value, in seconds.
fn tag_cooldown(raw: &str) -> Result<i32, String> {
    if !is_digits(raw) {
        return Err(DIGITS_RULE.to_string());
    }
    parse_cooldown(raw)
}

/// A number tag value greater than zero.
fn tag_number(raw: &str) -> Result<f64, String> {
    let plain = match raw.split_once('.') {
        Some((whole, fraction)) => is_digits(whole) && is_digits(fraction),
        None => is_digits(raw),
    };
    if !plain {
        return Err(NUMBER_RULE.to_string());
    }
    parse_positive(raw)
}

/// Whether the endpoint is tagged `autoscaling:enabled=false`, read by the
/// strict tag rule (an unreadable value is no opt-out).
pub fn is_opted_out(snapshot: &EndpointSnapshot) -> bool {
    snapshot
        .tags
        .get(TAG_ENABLED)
        .is_some_and(|raw| tag_bool(raw) == Ok(false))
}

/// A boolean tag value: exactly `true` or `false`.
fn tag_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be exactly true or false (lower case)".to_string()),
    }
}

/// A key in this tool's namespace, however it is capitalized
/// (`Autoscaling:max-capacity` is a mistake, not someone else's tag), that
/// is not one of its tags.
fn is_unknown_tag(key: &str) -> bool {
    const PREFIX: &str = "autoscaling:";
    key.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        && !KNOWN_TAGS.contains(&key)
}

/// The known tag a mistyped key was probably meant to be: the same but for
/// case, or at most two letters off.
fn near_miss(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    KNOWN_TAGS
        .iter()
        .map(|known| (edit_distance(&key, known), *known))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance between two short ASCII strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A kind's profile of the policy set after the endpoint's tag overrides:
/// tags set the capacities and the first target-tracking policy's target
/// value and cooldowns.
fn effective_profile(snapshot: &EndpointSnapshot, base: &Profile) -> Result<Profile, TagError> {
    let mut profile = base.clone();
    let tags = &snapshot.tags;
    if let Some((key, value)) = tags.iter().find(|(k, _)| is_unknown_tag(k)) {
        let problem = match near_miss(key) {
            Some(known) => format!(
                "unknown autoscaling tag; did you mean {known}? (tag keys are case-sensitive)"
            ),
            None => format!(
                "unknown autoscaling tag; known tags are {}",
                KNOWN_TAGS.join(", ")
            ),
        };
        return Err(tag_error(key, value, problem));
    }
    let read =
        |tag: &str, parse: &dyn Fn(&str) -> Result<f64, String>| -> Result<Option<f64>, TagError> {
            match tags.get(tag) {
                None => Ok(None),
                Some(raw) => parse(raw).map(Some).map_err(|p| tag_error(tag, raw, p)),
            }
        };
    let count = |raw: &str| tag_count(raw, 1).map(f64::from);
    let cooldown = |raw: &str| tag_cooldown(raw).map(f64::from);
    if let Some(v) = read(TAG_MIN, &count)? {
        profile.min_capacity = v as i32;
    }
    if let Some(v) = read(TAG_MAX, &count)? {
        profile.max_capacity = v as i32;
    }
    if profile.min_capacity > profile.max_capacity {
        // Name the tag that was set; with both set, the max is named.
        let (tag, value) = match (tags.get(TAG_MAX), tags.get(TAG_MIN)) {
            (Some(v), _) => (TAG_MAX, v.clone()),
            (None, Some(v)) => (TAG_MIN, v.clone()),
            (None, None) => unreachable!("the policy set validates min <= max"),
        };
        return Err(tag_error(
            tag,
            &value,
            format!(
                "minimum capacity {} is above maximum capacity {}",
                profile.min_capacity, profile.max_capacity
            ),
        ));
    }
    let target = read(TAG_TARGET, &tag_number)?;
    let scale_in = read(TAG_SCALE_IN, &cooldown)?;
    let scale_out = read(TAG_SCALE_OUT, &cooldown)?;
    if let Some(main) = profile.target_tracking.first_mut() {
        if let Some(v) = target {
            main.target_value = Some(v);
            main.target_per_core = None;
        }
        if let Some(v) = scale_in {
            main.scale_in_cooldown = v as i32;
        }
        if let Some(v) = scale_out {
            main.scale_out_cooldown = v as i32;
        }
    }
    Ok(profile)
}

/// The desired scaling of what a snapshot names, or why there is none.
fn intent(
    subject: Scaled,
    unit: Result<Unit<'_>, SkipReason>,
    profiles: &[(Kind, Profile)],
) -> VariantIntent {
    let unit = match unit {
        Ok(unit) => unit,
        Err(reason) => return VariantIntent::Skip { subject, reason },
    };
    let (_, profile) = profiles
        .iter()
        .find(|(kind, _)| *kind == unit.kind)
        .expect("every kind on the endpoint has its profile");
    match scaling(unit, profile) {
        Ok(d) => VariantIntent::Manage(d),
        Err(message) => VariantIntent::Error { subject, message },
    }
}

/// A unit's desired scaling from a profile.
fn scaling(unit: Unit<'_>, profile: &Profile) -> Result<DesiredScaling, String> {
    let mut max_capacity = profile.max_capacity.max(unit.running);
    if let Some(ceiling) = unit.ceiling {
        if profile.min_capacity > ceiling {
            return Err(format!(
                "minimum provisioned concurrency {} is above the variant's MaxConcurrency {ceiling}",
                profile.min_capacity
            ));
        }
        max_capacity = max_capacity.min(ceiling);
    }
    let policies = profile.desired_policies(&unit.subject, unit.instance_type)?;
    // SageMaker's 63-character endpoint, variant and component names and
    // the 64-character short names keep alarm names well within the limit;
    // should one still be longer, it is this unit's error, not a CloudWatch
    // rejection halfway through applying.
    if let Some(long) = policies
        .iter()
        .filter_map(|p| p.alarm().map(|a| &a.name))
        .find(|name| name.chars().count() > MAX_ALARM_NAME)
    {
        return Err(format!(
            "alarm name {long:?} is {} characters; CloudWatch allows {MAX_ALARM_NAME}",
            long.chars().count()
        ));
    }
    let scheduled = profile
        .scheduled_actions
        .iter()
        .map(|s| DesiredSchedule {
            name: owned_name(&s.name),
            schedule: s.schedule.clone(),
            timezone: s.timezone.clone(),
            min_capacity: s.min_capacity,
            max_capacity: s.max_capacity,
        })
        .collect();
    Ok(DesiredScaling {
        subject: unit.subject,
        dimension: unit.kind.dimension(),
        min_capacity: profile.min_capacity,
        max_capacity,
        max_raised_to_running: unit.running > profile.max_capacity,
        policies,
        scheduled,
    })
}

/// Computes what an endpoint's scaling should be. A bad tag value fails the
/// whole endpoint, so nothing is written from a half-understood intent.
pub fn desired_for(
    snapshot: &EndpointSnapshot,
    settings: &Settings,
) -> Result<EndpointIntent, TagError> {
    if !snapshot.is_in_service() {
        return Ok(EndpointIntent::Skip(SkipReason::NotInService {
            status: snapshot.status.as_str().to_string(),
        }));
    }
    let enabled = match snapshot.tags.get(TAG_ENABLED) {
        None => None,
        Some(raw) => Some(tag_bool(raw).map_err(|p| tag_error(TAG_ENABLED, raw, p))?),
    };
    match enabled {
        Some(false) => return Ok(EndpointIntent::Skip(SkipReason::OptedOut)),
        None if settings.require_opt_in => return Ok(EndpointIntent::Skip(SkipReason::NotOptedIn)),
        _ => {}
    }
    let set = &settings.policy_set;
    let mut profiles: Vec<(Kind, Profile)> = Vec::new();
    for kind in Kind::on_endpoint(snapshot) {
        profiles.push((kind, effective_profile(snapshot, kind.profile(set))?));
    }
    let variants = snapshot.variants.iter().map(|v| {
        let subject = Scaled::variant(&snapshot.name, &v.name);
        intent(subject, variant_unit(snapshot, v), &profiles)
    });
    let components = snapshot
        .components
        .iter()
        .map(|c| intent(Scaled::component(&c.name), component_unit(c), &profiles));
    let intents = variants.chain(components).collect();
    Ok(EndpointIntent::Variants(intents))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::VariantSnapshot;
    use aws_sdk_applicationautoscaling::types::MetricType;

    fn variant(name: &str, instance_type: &str, count: i32) -> VariantSnapshot {
        VariantSnapshot::test(name)
            .instance_type(Some(instance_type))
            .counts(Some(count), Some(count))
    }

    fn endpoint(tags: &[(&str, &str)]) -> EndpointSnapshot {
        EndpointSnapshot::test("fraud")
            .tags(tags)
            .variant(variant("a", "ml.m5.large", 1))
            .variant(variant("b", "ml.c5.xlarge", 2))
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
        assert_eq!(d[0].resource_id(), "endpoint/fraud/variant/a");
        assert_eq!(d[1].resource_id(), "endpoint/fraud/variant/b");
        for v in &d {
            assert_eq!((v.min_capacity, v.max_capacity), (1, 4));
            assert!(!v.max_raised_to_running);
            assert_eq!(
                v.target_tracking(),
                vec![&DesiredTargetTracking {
                    name: "autoscaling-guard-invocations".into(),
                    metric: MetricSpec::Predefined {
                        metric_type: MetricType::SageMakerVariantInvocationsPerInstance
                    },
                    target_value: 70.0,
                    scale_in_cooldown: 300,
                    scale_out_cooldown: 60,
                    disable_scale_in: false,
                }]
            );
            assert!(v.scheduled.is_empty());
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
        let p = &d[0].target_tracking()[0];
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
            (TAG_MIN, "zero", "plain digits"),
            (TAG_MIN, "0", "at least 1"),
            (TAG_MAX, "-2", "plain digits"),
            (TAG_MAX, "99999999999", "too large"),
            (TAG_TARGET, "-5", "plain digits"),
            (TAG_TARGET, "0", "greater than 0"),
            (TAG_TARGET, "0.0", "greater than 0"),
            (TAG_SCALE_IN, "1.5", "plain digits"),
            (TAG_SCALE_IN, "86401", "at most 86400"),
            (TAG_SCALE_OUT, "-1", "plain digits"),
            (TAG_ENABLED, "maybe", "true or false"),
            (
                "autoscaling:max-capcity",
                "5",
                "did you mean autoscaling:max-capacity?",
            ),
            (
                "Autoscaling:max-capacity",
                "5",
                "did you mean autoscaling:max-capacity?",
            ),
            (
                "AUTOSCALING:ENABLED",
                "false",
                "did you mean autoscaling:enabled?",
            ),
            (
                "autoscaling:owner",
                "me",
                "known tags are autoscaling:enabled, ",
            ),
        ];
        for (tag, value, problem) in cases {
            let err = desired_for(&endpoint(&[(tag, value)]), &Settings::default()).unwrap_err();
            assert_eq!((err.tag.as_str(), err.value.as_str()), (tag, value));
            assert!(err.problem.contains(problem), "{err}");
            assert!(err.to_string().contains(tag));
        }
    }

    #[test]
    fn tag_values_are_plain_digits_and_lower_case_booleans() {
        let loose = [
            (TAG_MIN, " 2"),
            (TAG_MIN, "+2"),
            (TAG_MIN, "2 "),
            (TAG_MIN, ""),
            (TAG_MIN, "٢"),
            (TAG_MAX, "0x10"),
            (TAG_MAX, "4.0"),
            (TAG_TARGET, "70 "),
            (TAG_TARGET, "+70"),
            (TAG_TARGET, "1e2"),
            (TAG_TARGET, ".5"),
            (TAG_TARGET, "5."),
            (TAG_TARGET, "1.2.3"),
            (TAG_TARGET, "inf"),
            (TAG_TARGET, "NaN"),
            (TAG_SCALE_IN, "\t300"),
            (TAG_SCALE_OUT, "3_00"),
            (TAG_ENABLED, "TRUE"),
            (TAG_ENABLED, "True"),
            (TAG_ENABLED, " true"),
            (TAG_ENABLED, "1"),
            (TAG_ENABLED, "yes"),
        ];
        for (tag, value) in loose {
            let err = desired_for(&endpoint(&[(tag, value)]), &Settings::default()).unwrap_err();
            assert_eq!(
                (err.tag.as_str(), err.value.as_str()),
                (tag, value),
                "{err}"
            );
            assert!(err.problem.starts_with("must be"), "{err}");
        }
        for (tag, value) in [
            (TAG_MIN, "2"),
            (TAG_MAX, "007"),
            (TAG_TARGET, "70"),
            (TAG_TARGET, "0.5"),
            (TAG_SCALE_IN, "0"),
            (TAG_ENABLED, "true"),
        ] {
            let intent = desired_for(&endpoint(&[(tag, value)]), &Settings::default());
            assert!(intent.is_ok(), "{tag}={value}: {intent:?}");
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
            managed(desired_for(&endpoint(&[(TAG_ENABLED, "true")]), &opt_in).unwrap()).len(),
            2
        );
        assert_eq!(
            skipped(desired_for(&off, &opt_in).unwrap()),
            SkipReason::OptedOut
        );
    }

    #[test]
    fn endpoints_not_in_service_are_skipped() {
        let mut snap = endpoint(&[]);
        snap.status = "Updating".into();
        assert_eq!(
            skipped(desired_for(&snap, &Settings::default()).unwrap()),
            SkipReason::NotInService {
                status: "Updating".into()
            }
        );
    }

    #[test]
    fn async_endpoints_track_the_backlog_and_scale_out_from_zero() {
        let mut snap = endpoint(&[]);
        snap.is_async = true;
        let d = managed(desired_for(&snap, &Settings::default()).unwrap());
        assert_eq!((d[0].min_capacity, d[0].max_capacity), (0, 4));
        let backlog = &d[0].target_tracking()[0];
        assert_eq!(backlog.name, "autoscaling-guard-backlog");
        assert_eq!(
            backlog.metric,
            MetricSpec::Custom {
                namespace: "AWS/SageMaker".into(),
                metric_name: "ApproximateBacklogSizePerInstance".into(),
                dimensions: vec![("EndpointName".into(), "fraud".into())],
                statistic: "Average".into(),
            }
        );
        let from_zero = &d[0].step_scaling()[0];
        assert_eq!(from_zero.alarm.metric_name, "HasBacklogWithoutCapacity");
        assert_eq!(
            from_zero.alarm.dimensions,
            vec![("EndpointName".to_string(), "fraud".to_string())]
        );
        assert_eq!(
            from_zero.alarm.name,
            "autoscaling-guard-fraud/a/backlog-from-zero"
        );
        assert_eq!(from_zero.steps[0].adjustment, 1);
        // No invocations-per-instance policy: async endpoints never publish it.
        assert!(d[0]
            .policies
            .iter()
            .all(|p| p.name() != "autoscaling-guard-invocations"));
    }

    #[test]
    fn an_alarm_name_over_cloudwatchs_limit_is_the_variants_error() {
        let mut snap = endpoint(&[]);
        snap.is_async = true;
        snap.name = "e".repeat(240);
        let EndpointIntent::Variants(vs) = desired_for(&snap, &Settings::default()).unwrap() else {
            panic!()
        };
        match &vs[0] {
            VariantIntent::Error { subject, message } => {
                assert_eq!(subject.label(), "a");
                assert!(
                    message.contains(
                        "/a/backlog-from-zero\" is 278 characters; CloudWatch allows 255"
                    ),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serverless_burstable_and_untyped_variants_are_skipped_one_by_one() {
        let mut snap = endpoint(&[]);
        snap.variants = vec![
            variant("ok", "ml.g5.xlarge", 1),
            variant("t2", "ml.t2.medium", 1),
            variant("t3", "ml.t3.large", 1),
            variant("sls", "x", 0).serverless(Some(5), None),
            variant("ic", "x", 1).instance_type(None),
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
                VariantIntent::Error { .. } => "error",
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
    fn a_variant_whose_config_is_gone_is_skipped_naming_the_config() {
        let mut snap = endpoint(&[]);
        snap.config_gone = true;
        snap.variants = vec![VariantSnapshot {
            instance_type: None,
            ..variant("primary", "x", 1)
        }];
        let EndpointIntent::Variants(vs) = desired_for(&snap, &Settings::default()).unwrap() else {
            panic!()
        };
        let VariantIntent::Skip { reason, .. } = &vs[0] else {
            panic!("{vs:?}")
        };
        assert_eq!(reason.code(), "endpoint_config_gone");
        assert_eq!(
            reason.to_string(),
            format!(
                "endpoint config {} no longer exists, so the variant's instance type is unknown",
                snap.config_name
            )
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

#[cfg(test)]
mod policy_set_tests {
    use super::*;
    use crate::domain::snapshot::VariantSnapshot;
    use crate::policy_set::PolicySet;

    fn settings(doc: &str) -> Settings {
        Settings {
            policy_set: PolicySet::from_json(doc).unwrap(),
            ..Settings::default()
        }
    }

    fn endpoint(instance_type: &str, tags: &[(&str, &str)]) -> EndpointSnapshot {
        EndpointSnapshot::test("e")
            .tags(tags)
            .variant(VariantSnapshot::test("v").instance_type(Some(instance_type)))
    }

    const DOC: &str = r#"{"instance": {"min_capacity": 1, "max_capacity": 6,
        "target_tracking": [
            {"name": "cpu", "metric": "CPUUtilization", "target_per_core": 70},
            {"name": "gpu", "metric": "GPUUtilization", "target_per_core": 50, "disable_scale_in": true},
            {"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance", "target_value": 100}],
        "scheduled_actions": [
            {"name": "morning", "schedule": "cron(0 8 ? * MON-FRI *)", "timezone": "Europe/Berlin", "min_capacity": 2}]}}"#;

    fn one(intent: EndpointIntent) -> VariantIntent {
        match intent {
            EndpointIntent::Variants(mut v) => v.remove(0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn per_core_targets_are_multiplied_by_the_instance_shape() {
        let VariantIntent::Manage(d) =
            one(desired_for(&endpoint("ml.g5.12xlarge", &[]), &settings(DOC)).unwrap())
        else {
            panic!()
        };
        let names: Vec<_> = d.policies.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "autoscaling-guard-cpu",
                "autoscaling-guard-gpu",
                "autoscaling-guard-invocations"
            ]
        );
        // 48 vCPUs x 70 %, 4 GPUs x 50 %.
        assert_eq!(d.target_tracking()[0].target_value, 3360.0);
        assert_eq!(d.target_tracking()[1].target_value, 200.0);
        assert!(d.target_tracking()[1].disable_scale_in);
        assert_eq!(
            d.target_tracking()[0].metric,
            MetricSpec::Custom {
                namespace: "/aws/sagemaker/Endpoints".into(),
                metric_name: "CPUUtilization".into(),
                dimensions: vec![
                    ("EndpointName".into(), "e".into()),
                    ("VariantName".into(), "v".into())
                ],
                statistic: "Average".into(),
            }
        );
        assert_eq!(d.scheduled[0].name, "autoscaling-guard-morning");
        assert_eq!(d.scheduled[0].timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(d.max_capacity, 6);
    }

    #[test]
    fn unknown_shapes_and_missing_gpus_are_variant_errors() {
        match one(desired_for(&endpoint("ml.m99.huge", &[]), &settings(DOC)).unwrap()) {
            VariantIntent::Error { message, .. } => assert!(
                message.contains("ml.m99.huge has no known vCPU/GPU count"),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
        match one(desired_for(&endpoint("ml.m5.large", &[]), &settings(DOC)).unwrap()) {
            VariantIntent::Error { message, .. } => {
                assert!(message.contains("has no GPUs"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tags_override_the_first_policy_and_the_capacities() {
        let snap = endpoint(
            "ml.g5.xlarge",
            &[(TAG_TARGET, "55"), (TAG_SCALE_IN, "900"), (TAG_MAX, "10")],
        );
        let VariantIntent::Manage(d) = one(desired_for(&snap, &settings(DOC)).unwrap()) else {
            panic!()
        };
        assert_eq!(d.max_capacity, 10);
        // The per-core target became an absolute one.
        assert_eq!(d.target_tracking()[0].target_value, 55.0);
        assert_eq!(d.target_tracking()[0].scale_in_cooldown, 900);
        assert_eq!(d.target_tracking()[1].target_value, 50.0);
    }
}

#[cfg(test)]
mod serverless_tests {
    use super::*;
    use crate::domain::snapshot::VariantSnapshot;

    fn endpoint(
        provisioned: Option<i32>,
        max_concurrency: i32,
        tags: &[(&str, &str)],
    ) -> EndpointSnapshot {
        EndpointSnapshot::test("sls").tags(tags).variant(
            VariantSnapshot::test("v")
                .counts(None, None)
                .serverless(Some(max_concurrency), provisioned),
        )
    }

    fn one(snapshot: &EndpointSnapshot) -> VariantIntent {
        match desired_for(snapshot, &Settings::default()).unwrap() {
            EndpointIntent::Variants(mut v) => v.remove(0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn provisioned_concurrency_is_scaled_on_its_own_dimension() {
        let VariantIntent::Manage(d) = one(&endpoint(Some(2), 50, &[])) else {
            panic!()
        };
        assert_eq!(d.dimension, Dimension::VariantProvisionedConcurrency);
        assert_eq!(d.resource_id(), "endpoint/sls/variant/v");
        assert_eq!((d.min_capacity, d.max_capacity), (1, 10));
        assert_eq!(
            d.target_tracking()[0].metric,
            MetricSpec::Predefined {
                metric_type: "SageMakerVariantProvisionedConcurrencyUtilization".into()
            }
        );
        assert_eq!(d.target_tracking()[0].target_value, 0.7);
    }

    #[test]
    fn the_maximum_stays_within_max_concurrency_and_above_what_runs() {
        let VariantIntent::Manage(d) = one(&endpoint(Some(4), 6, &[])) else {
            panic!()
        };
        assert_eq!(d.max_capacity, 6);
        let VariantIntent::Manage(d) = one(&endpoint(Some(12), 20, &[])) else {
            panic!()
        };
        assert_eq!(d.max_capacity, 12);
        assert!(d.max_raised_to_running);
        match one(&endpoint(Some(1), 1, &[("autoscaling:min-capacity", "3")])) {
            VariantIntent::Error { message, .. } => assert!(
                message.contains("above the variant's MaxConcurrency 1"),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_provisioned_concurrency_there_is_nothing_to_scale() {
        for provisioned in [None, Some(0)] {
            match one(&endpoint(provisioned, 10, &[])) {
                VariantIntent::Skip { reason, .. } => assert_eq!(reason.code(), "serverless"),
                other => panic!("{other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod component_tests {
    use super::*;
    use crate::domain::snapshot::{ComponentSnapshot, VariantSnapshot};
    use crate::policy_set::PolicySet;

    fn endpoint() -> EndpointSnapshot {
        let component = |name: &str, status: &str, copies: i32| {
            ComponentSnapshot::test(name, "AllTraffic")
                .status(status)
                .copies(copies)
        };
        EndpointSnapshot::test("llm")
            .variant(
                VariantSnapshot::test("AllTraffic")
                    .instance_type(Some("ml.g5.12xlarge"))
                    .counts(Some(2), Some(2))
                    .hosting_components(),
            )
            .component(component("chat", "InService", 6))
            .component(component("embed", "Creating", 1))
    }

    fn intents(settings: &Settings) -> Vec<VariantIntent> {
        match desired_for(&endpoint(), settings).unwrap() {
            EndpointIntent::Variants(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn components_are_scaled_by_copies_and_their_host_variant_is_left_alone() {
        let all = intents(&Settings::default());
        assert_eq!(all.len(), 3);
        match &all[0] {
            VariantIntent::Skip { subject, reason } => {
                assert_eq!(
                    (subject.label().as_str(), reason.code()),
                    ("AllTraffic", "hosts_inference_components")
                )
            }
            other => panic!("{other:?}"),
        }
        let VariantIntent::Manage(chat) = &all[1] else {
            panic!("{:?}", all[1])
        };
        assert_eq!(chat.resource_id(), "inference-component/chat");
        assert_eq!(chat.label(), "inference-component/chat");
        assert_eq!(chat.dimension, Dimension::ComponentCopies);
        // Six copies run: the maximum of 4 is raised, never scaled in.
        assert_eq!((chat.min_capacity, chat.max_capacity), (1, 6));
        assert_eq!(
            chat.target_tracking()[0].metric,
            MetricSpec::Predefined {
                metric_type: "SageMakerInferenceComponentInvocationsPerCopy".into()
            }
        );
        match &all[2] {
            VariantIntent::Skip { subject, reason } => {
                assert_eq!(
                    (subject.label().as_str(), reason.code()),
                    ("inference-component/embed", "not_in_service")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn component_step_alarms_are_named_and_measured_per_component() {
        let doc = r#"{"instance": {"min_capacity": 1, "max_capacity": 2},
            "inference_components": {"min_capacity": 0, "max_capacity": 8,
              "step_scaling": [{"name": "from-zero", "adjustment_type": "ChangeInCapacity",
                "steps": [{"lower": 0, "adjustment": 1}],
                "alarm": {"metric": "NoCapacityInvocationFailures", "statistic": "Sum",
                          "period": 60, "evaluation_periods": 1, "threshold": 1,
                          "comparison": "GreaterThanOrEqualToThreshold"}}]}}"#;
        let settings = Settings {
            policy_set: PolicySet::from_json(doc).unwrap(),
            ..Settings::default()
        };
        let VariantIntent::Manage(chat) = &intents(&settings)[1] else {
            panic!()
        };
        assert_eq!(chat.min_capacity, 0);
        let alarm = &chat.step_scaling()[0].alarm;
        assert_eq!(alarm.name, "autoscaling-guard-ic:chat/from-zero");
        assert_eq!(
            alarm.dimensions,
            vec![("InferenceComponentName".to_string(), "chat".to_string())]
        );
        assert_eq!(
            Scaled::from_alarm_name(&alarm.name)
                .map(|s| s.resource_id())
                .as_deref(),
            Some("inference-component/chat")
        );
    }

    #[test]
    fn alarm_names_lead_back_to_their_resource() {
        assert_eq!(
            Scaled::from_alarm_name("autoscaling-guard-fraud/primary/burst")
                .map(|s| s.resource_id())
                .as_deref(),
            Some("endpoint/fraud/variant/primary")
        );
        assert_eq!(
            Scaled::from_alarm_name("autoscaling-guard-ic:chat/burst")
                .map(|s| s.resource_id())
                .as_deref(),
            Some("inference-component/chat")
        );
        assert_eq!(Scaled::from_alarm_name("autoscaling-guard-ic:chat"), None);
        assert_eq!(Scaled::from_alarm_name("someone-elses-alarm"), None);
        // A component alarm is never read as a variant's.
        assert_eq!(
            Scaled::from_alarm_name("autoscaling-guard-ic:chat/burst"),
            Some(Scaled::component("chat"))
        );
    }
}
