use serde_json::{json, Value};

use super::*;

fn example() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policy-set.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn parse(doc: &Value) -> Result<PolicySet, PolicySetError> {
    PolicySet::from_json(&doc.to_string())
}

#[test]
fn the_shipped_example_is_valid() {
    let set = parse(&example()).unwrap();
    assert_eq!(set.instance.max_capacity, 8);
    assert_eq!(set.instance.target_tracking.len(), 3);
    assert_eq!(set.instance.target_tracking[1].target_per_core, Some(70.0));
    // Cooldowns default to 300 s in and 60 s out.
    assert_eq!(set.instance.target_tracking[2].scale_in_cooldown, 300);
    assert_eq!(set.instance.scheduled_actions.len(), 2);
    let burst = &set.instance.step_scaling[0];
    assert_eq!(burst.steps.len(), 2);
    assert_eq!(burst.alarm.metric, "InvocationsPerInstance");
}

/// Applies `edit` to the example and returns the error.
fn error_of(edit: impl FnOnce(&mut Value)) -> PolicySetError {
    let mut doc = example();
    edit(&mut doc);
    parse(&doc).unwrap_err()
}

#[test]
fn every_error_names_the_field() {
    type Case = (Box<dyn FnOnce(&mut Value)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(|d| d["instance"]["colour"] = json!("red")),
            "instance.colour",
            "unknown field `colour`",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][0]["targt_value"] = json!(1)),
            "instance.target_tracking[0].targt_value",
            "unknown field `targt_value`",
        ),
        (
            Box::new(|d| d["instance"]["min_capacity"] = json!("one")),
            "instance.min_capacity",
            "invalid type",
        ),
        (
            Box::new(|d| d["instance"]["min_capacity"] = json!(0)),
            "instance.min_capacity",
            "0 is below 1",
        ),
        (
            Box::new(|d| d["instance"]["max_capacity"] = json!(0)),
            "instance.max_capacity",
            "below min_capacity",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][0]["metric"] = json!("Latency")),
            "instance.target_tracking[0].metric",
            "not a metric",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][0]["target_value"] = json!(-5)),
            "instance.target_tracking[0].target_value",
            "greater than 0",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][0]["target_per_core"] = json!(5)),
            "instance.target_tracking[0]",
            "exactly one of",
        ),
        (
            Box::new(|d| {
                d["instance"]["target_tracking"][2] =
                    json!({"name": "m", "metric": "MemoryUtilization", "target_per_core": 5})
            }),
            "instance.target_tracking[2].target_per_core",
            "only CPUUtilization and GPUUtilization",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][1]["scale_in_cooldown"] = json!(-1)),
            "instance.target_tracking[1].scale_in_cooldown",
            "outside 0-86400",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][1]["name"] = json!("invocations")),
            "instance.target_tracking[1].name",
            "used twice",
        ),
        (
            Box::new(|d| d["instance"]["target_tracking"][1]["name"] = json!("cpu policy")),
            "instance.target_tracking[1].name",
            "letters, digits and hyphens",
        ),
        (
            Box::new(|d| {
                d["instance"]["scheduled_actions"][0]["schedule"] = json!("cron(0 8 * * MON *)")
            }),
            "instance.scheduled_actions[0].schedule",
            "exactly one of day-of-month",
        ),
        (
            Box::new(|d| {
                d["instance"]["scheduled_actions"][0]["schedule"] = json!("every morning")
            }),
            "instance.scheduled_actions[0].schedule",
            "cron(...), rate(...) or at(...)",
        ),
        (
            Box::new(|d| d["instance"]["scheduled_actions"][0]["timezone"] = json!("Berlin")),
            "instance.scheduled_actions[0].timezone",
            "IANA",
        ),
        (
            Box::new(|d| {
                d["instance"]["scheduled_actions"][0] =
                    json!({"name": "x", "schedule": "rate(1 day)"})
            }),
            "instance.scheduled_actions[0]",
            "min_capacity, max_capacity or both",
        ),
        (
            Box::new(|d| d["instance"]["scheduled_actions"][0]["max_capacity"] = json!(1)),
            "instance.scheduled_actions[0].min_capacity",
            "above max_capacity",
        ),
        (
            Box::new(|d| d["instance"]["scheduled_actions"][1]["name"] = json!("weekday-morning")),
            "instance.scheduled_actions[1].name",
            "used twice",
        ),
    ];
    for (edit, path, problem) in cases {
        let err = error_of(edit);
        assert_eq!(err.path, path, "{err}");
        assert!(err.problem.contains(problem), "{err} should say {problem}");
        assert!(err.to_string().starts_with("invalid policy set: "));
    }
}

#[test]
fn step_policies_and_their_alarms_are_checked() {
    let steps = |v: Value| move |d: &mut Value| d["instance"]["step_scaling"][0]["steps"] = v;
    let alarm = |field: &'static str, v: Value| {
        move |d: &mut Value| d["instance"]["step_scaling"][0]["alarm"][field] = v
    };
    type Case = (Box<dyn FnOnce(&mut Value)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(steps(json!([]))),
            "instance.step_scaling[0].steps",
            "0 steps; give 1 to 20",
        ),
        (
            Box::new(steps(Value::Array(
                (0..21)
                    .map(|i| json!({"lower": i, "upper": i + 1, "adjustment": 1}))
                    .collect(),
            ))),
            "instance.step_scaling[0].steps",
            "21 steps",
        ),
        (
            Box::new(steps(
                json!([{"lower": 0, "upper": 100, "adjustment": 1}, {"lower": 150, "adjustment": 2}]),
            )),
            "instance.step_scaling[0].steps[1].lower",
            "leaves a gap",
        ),
        (
            Box::new(steps(
                json!([{"lower": 0, "upper": 100, "adjustment": 1}, {"lower": 50, "adjustment": 2}]),
            )),
            "instance.step_scaling[0].steps[1].lower",
            "overlaps",
        ),
        (
            Box::new(steps(
                json!([{"lower": 0, "adjustment": 1}, {"lower": 100, "adjustment": 2}]),
            )),
            "instance.step_scaling[0].steps[0].upper",
            "only the last step may leave upper open",
        ),
        (
            Box::new(steps(
                json!([{"lower": 0, "upper": 100, "adjustment": 1}, {"upper": 200, "adjustment": 2}]),
            )),
            "instance.step_scaling[0].steps[1].lower",
            "only the first step may leave lower open",
        ),
        (
            Box::new(steps(
                json!([{"lower": 100, "upper": 100, "adjustment": 1}]),
            )),
            "instance.step_scaling[0].steps[0]",
            "must be below upper",
        ),
        (
            Box::new(steps(json!([{"lower": 0, "adjustment": 0}]))),
            "instance.step_scaling[0].steps[0].adjustment",
            "0 changes nothing",
        ),
        (
            Box::new(|d: &mut Value| {
                d["instance"]["step_scaling"][0]["adjustment_type"] = json!("Double")
            }),
            "instance.step_scaling[0].adjustment_type",
            "not one of ChangeInCapacity",
        ),
        (
            Box::new(|d: &mut Value| {
                d["instance"]["step_scaling"][0]["min_adjustment_magnitude"] = json!(2)
            }),
            "instance.step_scaling[0].min_adjustment_magnitude",
            "only applies to PercentChangeInCapacity",
        ),
        (
            Box::new(|d: &mut Value| d["instance"]["step_scaling"][0]["name"] = json!("cpu")),
            "instance.step_scaling[0].name",
            "used twice",
        ),
        (
            Box::new(alarm("period", json!(45))),
            "instance.step_scaling[0].alarm.period",
            "10, 30 or a multiple of 60",
        ),
        (
            Box::new(alarm("comparison", json!("Above"))),
            "instance.step_scaling[0].alarm.comparison",
            "not one of",
        ),
        (
            Box::new(alarm("statistic", json!("p99"))),
            "instance.step_scaling[0].alarm.statistic",
            "not one of",
        ),
        (
            Box::new(alarm("evaluation_periods", json!(0))),
            "instance.step_scaling[0].alarm.evaluation_periods",
            "below 1",
        ),
        (
            Box::new(alarm("datapoints_to_alarm", json!(3))),
            "instance.step_scaling[0].alarm.datapoints_to_alarm",
            "between 1 and evaluation_periods (2)",
        ),
        (
            Box::new(alarm("namespace", json!("Custom/Mine"))),
            "instance.step_scaling[0].alarm.namespace",
            "not one of",
        ),
        (
            Box::new(alarm("treat_missing_data", json!("zero"))),
            "instance.step_scaling[0].alarm.treat_missing_data",
            "not one of",
        ),
        (
            Box::new(|d: &mut Value| {
                d["instance"]["step_scaling"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("alarm")
                    .map(|_| ())
                    .unwrap()
            }),
            "instance.step_scaling[0]",
            "missing field `alarm`",
        ),
    ];
    for (edit, path, problem) in cases {
        let err = error_of(edit);
        assert_eq!(err.path, path, "{err}");
        assert!(err.problem.contains(problem), "{err} should say {problem}");
    }
}

#[test]
fn per_target_limits_are_enforced() {
    let err = error_of(|d| {
        let one = d["instance"]["target_tracking"][2].clone();
        d["instance"]["target_tracking"] = Value::Array(
            (0..51)
                .map(|i| {
                    let mut p = one.clone();
                    p["name"] = json!(format!("m{i}"));
                    p
                })
                .collect(),
        );
    });
    assert_eq!(err.path, "instance.target_tracking");
    assert!(err.problem.contains("allows 50 per target"));
    let err = error_of(|d| {
        let one = d["instance"]["scheduled_actions"][0].clone();
        d["instance"]["scheduled_actions"] = Value::Array(
            (0..201)
                .map(|i| {
                    let mut s = one.clone();
                    s["name"] = json!(format!("s{i}"));
                    s
                })
                .collect(),
        );
    });
    assert!(err.problem.contains("allows 200 per target"), "{err}");
}

#[test]
fn not_json_is_an_error_too() {
    let err = PolicySet::from_json("{\"instance\": ").unwrap_err();
    assert!(err.to_string().contains("EOF"), "{err}");
}

#[test]
fn async_profiles_may_reach_zero_and_track_the_backlog() {
    let set = parse(&example()).unwrap();
    // Absent from the document: the default async profile.
    assert_eq!(set.async_inference.min_capacity, 0);
    assert_eq!(
        set.async_inference.target_tracking[0].metric,
        "ApproximateBacklogSizePerInstance"
    );
    let doc = json!({"instance": {"min_capacity": 1, "max_capacity": 2},
        "async": {"min_capacity": 0, "max_capacity": 3,
            "target_tracking": [{"name": "backlog", "metric": "ApproximateBacklogSizePerInstance", "target_value": 10}]}});
    assert_eq!(parse(&doc).unwrap().async_inference.max_capacity, 3);
    let err = error_of(|d| d["instance"]["min_capacity"] = json!(0));
    assert_eq!(err.path, "instance.min_capacity");
    let err = parse(&json!({"instance": {"min_capacity": 1, "max_capacity": 2},
        "async": {"min_capacity": 0, "max_capacity": 3,
            "target_tracking": [{"name": "i", "metric": "SageMakerVariantInvocationsPerInstance", "target_value": 10}]}}))
    .unwrap_err();
    assert_eq!(err.path, "async.target_tracking[0].metric");
    assert!(
        err.problem
            .contains("not a metric for asynchronous endpoints"),
        "{err}"
    );
}
