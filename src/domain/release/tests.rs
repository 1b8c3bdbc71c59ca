use super::*;
use crate::domain::desired::TAG_ENABLED;
use crate::domain::snapshot::{
    ObservedAlarm, ScalableTarget, ScalingPolicy, ScheduledAction, VariantSnapshot,
};
use crate::domain::Dimension;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const RELEASED_AT: &str = "2026-11-28T16:00:00.190Z";
const UNTIL: &str = "2026-11-28T17:00:00Z";

fn endpoint(status: &str, last_modified: &str, tags: &[(&str, &str)]) -> EndpointSnapshot {
    EndpointSnapshot {
        arn: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/fraud".into(),
        status: status.into(),
        last_modified: Some(at(last_modified)),
        config_name: "fraud-config".into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        variants: vec![VariantSnapshot {
            name: "primary".into(),
            instance_type: Some("ml.m5.large".into()),
            current_instance_count: Some(1),
            desired_instance_count: Some(1),
            hosts_components: false,
            serverless: None,
        }],
        ..EndpointSnapshot::in_service("fraud")
    }
}

fn released(status: &str, last_modified: &str) -> EndpointSnapshot {
    endpoint(
        status,
        last_modified,
        &[
            (TAG_RELEASED_UNTIL, UNTIL),
            (TAG_RELEASED_LAST_MODIFIED, RELEASED_AT),
        ],
    )
}

const BEFORE_EXPIRY: &str = "2026-11-28T16:30:00Z";

#[test]
fn durations_are_minutes_hours_or_days_up_to_a_day() {
    assert_eq!(parse_duration("30m"), Ok(TimeDelta::minutes(30)));
    assert_eq!(parse_duration("2h"), Ok(TimeDelta::hours(2)));
    assert_eq!(parse_duration("1d"), Ok(TimeDelta::days(1)));
    assert_eq!(parse_duration("1440m"), Ok(TimeDelta::hours(24)));
    for (bad, why) in [
        ("", "expected a whole number"),
        ("2", "expected a whole number"),
        ("h", "expected a whole number"),
        ("1.5h", "expected a whole number"),
        ("2 h", "expected a whole number"),
        ("2H", "expected a whole number"),
        ("-1h", "expected a whole number"),
        ("10s", "expected a whole number"),
        ("0m", "at least 1m"),
        ("25h", "at most 24h"),
        ("2d", "at most 24h"),
        ("99999999999999999999d", "too large"),
    ] {
        let err = parse_duration(bad).unwrap_err();
        assert!(err.contains(why), "{bad:?}: {err}");
        assert!(err.contains(&format!("{bad:?}")), "names the value: {err}");
    }
}

#[test]
fn times_round_to_the_nearest_millisecond() {
    let t = at("2026-11-28T16:00:00.1904999Z");
    assert_eq!(format_time(round_to_millis(t)), "2026-11-28T16:00:00.190Z");
    let t = at("2026-11-28T16:00:00.1905Z");
    assert_eq!(format_time(round_to_millis(t)), "2026-11-28T16:00:00.191Z");
    assert_eq!(
        to_millis(at("2026-11-28T16:00:00.999999Z")),
        to_millis(at("2026-11-28T16:00:01Z"))
    );
}

#[test]
fn no_mark_is_not_released() {
    let e = endpoint("InService", RELEASED_AT, &[]);
    assert_eq!(
        release_state(&e, at(BEFORE_EXPIRY)),
        Ok(ReleaseState::NotReleased)
    );
}

#[test]
fn an_unexpired_mark_on_an_endpoint_not_yet_updated_holds() {
    let held = ReleaseState::Released { until: at(UNTIL) };
    // In service, not modified since the release.
    assert_eq!(
        release_state(&released("InService", RELEASED_AT), at(BEFORE_EXPIRY)),
        Ok(held.clone())
    );
    // The same time read back through floating-point seconds.
    assert_eq!(
        release_state(
            &released("InService", "2026-11-28T16:00:00.1900001Z"),
            at(BEFORE_EXPIRY)
        ),
        Ok(held.clone())
    );
    // Being updated: modified, but not in service yet.
    assert_eq!(
        release_state(
            &released("Updating", "2026-11-28T16:05:00Z"),
            at(BEFORE_EXPIRY)
        ),
        Ok(held)
    );
}

#[test]
fn an_updated_endpoint_in_service_spends_the_mark() {
    let spent = ReleaseState::Spent {
        cause: SpentCause::Updated,
        until: at(UNTIL),
    };
    assert_eq!(
        release_state(
            &released("InService", "2026-11-28T16:12:31.004Z"),
            at(BEFORE_EXPIRY)
        ),
        Ok(spent.clone())
    );
    // One millisecond later is an update too.
    assert_eq!(
        release_state(
            &released("InService", "2026-11-28T16:00:00.191Z"),
            at(BEFORE_EXPIRY)
        ),
        Ok(spent)
    );
}

#[test]
fn an_expired_mark_is_spent_whatever_the_endpoint_does() {
    let expired = ReleaseState::Spent {
        cause: SpentCause::Expired,
        until: at(UNTIL),
    };
    for status in ["InService", "Updating", "Failed"] {
        assert_eq!(
            release_state(&released(status, RELEASED_AT), at(UNTIL)),
            Ok(expired.clone()),
            "{status}"
        );
    }
    assert_eq!(
        release_state(
            &released("InService", RELEASED_AT),
            at("2026-11-29T09:00:00Z")
        ),
        Ok(expired)
    );
}

#[test]
fn a_mark_that_cannot_be_read_is_an_error_naming_the_tag() {
    let cases = [
        (
            vec![
                (TAG_RELEASED_UNTIL, "tomorrow"),
                (TAG_RELEASED_LAST_MODIFIED, RELEASED_AT),
            ],
            TAG_RELEASED_UNTIL,
            "tomorrow",
            "RFC 3339",
        ),
        (
            vec![
                (TAG_RELEASED_UNTIL, UNTIL),
                (TAG_RELEASED_LAST_MODIFIED, ""),
            ],
            TAG_RELEASED_LAST_MODIFIED,
            "",
            "RFC 3339",
        ),
        (
            vec![(TAG_RELEASED_UNTIL, "2026-11-28 17:00")],
            TAG_RELEASED_UNTIL,
            "2026-11-28 17:00",
            "needs autoscaling:released-last-modified too",
        ),
        (
            vec![(TAG_RELEASED_LAST_MODIFIED, RELEASED_AT)],
            TAG_RELEASED_LAST_MODIFIED,
            RELEASED_AT,
            "needs autoscaling:released-until too",
        ),
    ];
    for (tags, tag, value, problem) in cases {
        let e = endpoint("InService", RELEASED_AT, &tags);
        let err = release_state(&e, at(BEFORE_EXPIRY)).unwrap_err();
        assert_eq!((err.tag.as_str(), err.value.as_str()), (tag, value));
        assert!(err.problem.contains(problem), "{err}");
        // The reconcile fails on it instead of skipping or onboarding.
        assert_eq!(
            endpoint_intent(&e, &Settings::default(), at(BEFORE_EXPIRY)).unwrap_err(),
            err
        );
    }
}

#[test]
fn a_released_endpoint_is_skipped_and_a_spent_mark_manages_it_again() {
    let settings = Settings::default();
    let (intent, state) = endpoint_intent(
        &released("InService", RELEASED_AT),
        &settings,
        at(BEFORE_EXPIRY),
    )
    .unwrap();
    assert_eq!(
        intent,
        EndpointIntent::Skip(SkipReason::Released {
            until: "2026-11-28T17:00:00Z".into()
        })
    );
    assert_eq!(ReleaseMark::of(&state, false).unwrap().state, "released");

    let updated = released("InService", "2026-11-28T16:20:00Z");
    let (intent, state) = endpoint_intent(&updated, &settings, at(BEFORE_EXPIRY)).unwrap();
    // The release tags are known tags: no unknown-tag error, the usual intent.
    assert_eq!(intent, desired_for(&updated, &settings).unwrap());
    assert!(matches!(intent, EndpointIntent::Variants(_)));
    let mark = ReleaseMark::of(&state, true).unwrap();
    assert_eq!(
        serde_json::to_value(&mark).unwrap(),
        json!({"state": "spent", "cause": "updated", "until": "2026-11-28T17:00:00Z", "cleared": true})
    );
}

#[test]
fn opting_out_wins_over_a_broken_mark() {
    let e = endpoint(
        "InService",
        RELEASED_AT,
        &[(TAG_ENABLED, "false"), (TAG_RELEASED_UNTIL, "garbage")],
    );
    let (intent, state) = endpoint_intent(&e, &Settings::default(), at(BEFORE_EXPIRY)).unwrap();
    assert_eq!(intent, EndpointIntent::Skip(SkipReason::OptedOut));
    assert_eq!(state, ReleaseState::NotReleased);
}

#[test]
fn release_tags_hold_the_expiry_and_the_last_modified_time() {
    let tags = release_tags(at("2026-11-28T16:00:00.1899999Z"), at(UNTIL));
    assert_eq!(
        tags,
        [
            (
                TAG_RELEASED_UNTIL.to_string(),
                "2026-11-28T17:00:00Z".to_string()
            ),
            (
                TAG_RELEASED_LAST_MODIFIED.to_string(),
                "2026-11-28T16:00:00.190Z".to_string()
            ),
        ]
    );
    // What is written reads back as a mark that holds.
    let e = endpoint(
        "InService",
        "2026-11-28T16:00:00.1899999Z",
        &[(&tags[0].0, &tags[0].1), (&tags[1].0, &tags[1].1)],
    );
    assert_eq!(
        release_state(&e, at(BEFORE_EXPIRY)),
        Ok(ReleaseState::Released { until: at(UNTIL) })
    );
}

const RID: &str = "endpoint/fraud/variant/primary";

fn policy(name: &str) -> ScalingPolicy {
    ScalingPolicy::test(name, RID)
}

fn scheduled(name: &str) -> ScheduledAction {
    ScheduledAction {
        name: name.into(),
        resource_id: RID.into(),
        dimension: Dimension::VariantInstances,
        schedule: "cron(0 8 ? * MON-FRI *)".into(),
        timezone: None,
        min_capacity: Some(2),
        max_capacity: None,
    }
}

fn target() -> Option<ScalableTarget> {
    Some(ScalableTarget {
        resource_id: RID.into(),
        dimension: Dimension::VariantInstances,
        min_capacity: 1,
        max_capacity: 4,
    })
}

fn one(rid: &str, scaling: VariantScaling) -> BTreeMap<String, VariantScaling> {
    [(rid.to_string(), scaling)].into()
}

fn names(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| match &c.action {
            Action::Alarm(AlarmAction::DeleteAlarm { alarm_name: n })
            | Action::Scaling(ScalingAction::DeletePolicy { policy_name: n })
            | Action::Scaling(ScalingAction::DeleteScheduledAction {
                scheduled_action_name: n,
            }) => format!("{} {n}", c.name()),
            _ => format!("{} {}", c.name(), c.resource_id()),
        })
        .collect()
}

#[test]
fn owned_scaling_is_removed_alarm_before_policy_and_target_last() {
    let actual = one(
        RID,
        VariantScaling {
            target: target(),
            policies: vec![
                policy("autoscaling-guard-invocations"),
                policy("autoscaling-guard-burst"),
            ],
            scheduled: vec![scheduled("autoscaling-guard-morning")],
            alarms: vec![ObservedAlarm::test("autoscaling-guard-fraud/primary/burst")],
        },
    );
    let changes = plan_release(&actual).unwrap();
    assert_eq!(
        names(&changes),
        [
            "delete_alarm autoscaling-guard-fraud/primary/burst",
            "delete_policy autoscaling-guard-invocations",
            "delete_policy autoscaling-guard-burst",
            "delete_scheduled_action autoscaling-guard-morning",
            "deregister_target endpoint/fraud/variant/primary",
        ]
    );
    assert!(changes
        .iter()
        .all(|c| c.dimension == Dimension::VariantInstances));
    assert_eq!(changes[0].because()[0].field, "released");
}

#[test]
fn a_bare_target_is_deregistered_and_a_variant_without_scaling_needs_nothing() {
    let bare = VariantScaling {
        target: target(),
        ..VariantScaling::default()
    };
    let mut actual = one(RID, bare);
    actual.insert(
        "endpoint/fraud/variant/canary".into(),
        VariantScaling::default(),
    );
    assert_eq!(
        names(&plan_release(&actual).unwrap()),
        ["deregister_target endpoint/fraud/variant/primary"]
    );
    assert_eq!(plan_release(&BTreeMap::new()), Ok(vec![]));
}

#[test]
fn a_persons_scaling_on_any_variant_refuses_the_whole_release() {
    let mut actual = one(
        RID,
        VariantScaling {
            target: target(),
            policies: vec![policy("autoscaling-guard-invocations")],
            ..VariantScaling::default()
        },
    );
    actual.insert(
        "endpoint/fraud/variant/canary".into(),
        VariantScaling {
            target: target(),
            policies: vec![policy("team-latency"), policy("autoscaling-guard-x")],
            scheduled: vec![scheduled("nightly")],
            alarms: Vec::new(),
        },
    );
    let refused = plan_release(&actual).unwrap_err();
    assert_eq!(
        refused,
        [ForeignScaling {
            variant: "canary".into(),
            items: vec![
                "policy team-latency".into(),
                "scheduled action nightly".into()
            ],
        }]
    );
    assert_eq!(
        refused[0].to_string(),
        "variant canary has policy team-latency, scheduled action nightly"
    );
}
