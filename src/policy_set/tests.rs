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
            Box::new(|d| d["instance"]["scheduled_actions"][0]["timezone"] = json!("US/Eastern")),
            "instance.scheduled_actions[0].timezone",
            "\"US/Eastern\" is an alias the IANA time zone database keeps for backward compatibility; AWS accepts only canonical names: use \"America/New_York\"",
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
            "45 must be a multiple of 60 seconds",
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
        "async": {"min_capacity": 1, "max_capacity": 3,
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

/// The rules PutScalingPolicy applies to step adjustments (the
/// StepAdjustment documentation of the Application Auto Scaling model); the
/// local AWS accepts all of these.
#[test]
fn steps_that_put_scaling_policy_rejects_are_rejected() {
    let steps = |v: Value| move |d: &mut Value| d["instance"]["step_scaling"][0]["steps"] = v;
    type Case = (Box<dyn FnOnce(&mut Value)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(steps(json!([{"adjustment": 1}]))),
            "instance.step_scaling[0].steps[0]",
            "lower and upper are both absent",
        ),
        (
            Box::new(steps(
                json!([{"lower": 0, "upper": 100, "adjustment": 1}, {"lower": 100, "upper": 200, "adjustment": 2}]),
            )),
            "instance.step_scaling[0].steps[1].upper",
            "200 is a positive upper bound, so PutScalingPolicy needs a step with no upper bound",
        ),
        (
            Box::new(steps(json!([{"lower": 10, "upper": 20, "adjustment": 1}]))),
            "instance.step_scaling[0].steps[0].upper",
            "20 is a positive upper bound",
        ),
        (
            Box::new(steps(
                json!([{"lower": -100, "upper": -50, "adjustment": -2}, {"lower": -50, "upper": 0, "adjustment": -1}]),
            )),
            "instance.step_scaling[0].steps[0].lower",
            "-100 is a negative lower bound, so PutScalingPolicy needs a step with no lower bound",
        ),
        (
            Box::new(steps(json!([{"lower": -10, "adjustment": 1}]))),
            "instance.step_scaling[0].steps[0].lower",
            "-10 is a negative lower bound",
        ),
        (
            Box::new(|d: &mut Value| {
                d["instance"]["step_scaling"][0]["adjustment_type"] = json!("ExactCapacity");
                d["instance"]["step_scaling"][0]["steps"] = json!([{"lower": 0, "adjustment": -1}]);
            }),
            "instance.step_scaling[0].steps[0].adjustment",
            "-1: an ExactCapacity adjustment is a capacity, 0 or more",
        ),
    ];
    for (edit, path, problem) in cases {
        let err = error_of(edit);
        assert_eq!(err.path, path, "{err}");
        assert!(err.problem.contains(problem), "{err} should say {problem}");
    }
}

#[test]
fn steps_that_put_scaling_policy_accepts_still_pass() {
    for good in [
        // Scale out above the threshold, in two steps.
        json!([{"lower": 0, "upper": 100, "adjustment": 1}, {"lower": 100, "adjustment": 2}]),
        // Scale in below it: open below, ending at the threshold.
        json!([{"upper": 0, "adjustment": -1}]),
        json!([{"upper": -10, "adjustment": -2}, {"lower": -10, "upper": 0, "adjustment": -1}]),
        // Both sides of the threshold.
        json!([{"upper": 0, "adjustment": -1}, {"lower": 0, "adjustment": 1}]),
        json!([{"lower": 10, "adjustment": 1}]),
    ] {
        let mut doc = example();
        doc["instance"]["step_scaling"][0]["steps"] = good.clone();
        assert!(parse(&doc).is_ok(), "{good}: {:?}", parse(&doc));
    }
}

/// PutMetricAlarm's limits on the evaluation window, and SageMaker's
/// per-minute metrics.
#[test]
fn alarm_windows_fit_cloudwatch_and_per_minute_metrics() {
    let alarm = |period: i64, evaluations: i64| {
        move |d: &mut Value| {
            d["instance"]["step_scaling"][0]["alarm"]["period"] = json!(period);
            d["instance"]["step_scaling"][0]["alarm"]["evaluation_periods"] = json!(evaluations);
            d["instance"]["step_scaling"][0]["alarm"]
                .as_object_mut()
                .unwrap()
                .remove("datapoints_to_alarm");
        }
    };
    type Case = (Box<dyn FnOnce(&mut Value)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(alarm(10, 3)),
            "instance.step_scaling[0].alarm.period",
            "10 must be a multiple of 60 seconds: SageMaker publishes its endpoint metrics once a minute",
        ),
        (
            Box::new(alarm(30, 3)),
            "instance.step_scaling[0].alarm.period",
            "INSUFFICIENT_DATA",
        ),
        (
            Box::new(alarm(0, 3)),
            "instance.step_scaling[0].alarm.period",
            "0 must be a multiple of 60",
        ),
        (
            // 25 hours of one-minute periods.
            Box::new(alarm(60, 1500)),
            "instance.step_scaling[0].alarm.evaluation_periods",
            "1500 periods of 60 s make 90000 s; CloudWatch evaluates an alarm over at most 86400 s (one day when the period is under an hour)",
        ),
        (
            Box::new(alarm(3540, 25)),
            "instance.step_scaling[0].alarm.evaluation_periods",
            "at most 86400 s",
        ),
        (
            Box::new(alarm(3600, 169)),
            "instance.step_scaling[0].alarm.evaluation_periods",
            "169 periods of 3600 s make 608400 s; CloudWatch evaluates an alarm over at most 604800 s (seven days)",
        ),
        (
            // Does not overflow.
            Box::new(alarm(86_400 * 60, i64::from(i32::MAX))),
            "instance.step_scaling[0].alarm.evaluation_periods",
            "at most 604800 s",
        ),
    ];
    for (edit, path, problem) in cases {
        let err = error_of(edit);
        assert_eq!(err.path, path, "{err}");
        assert!(err.problem.contains(problem), "{err} should say {problem}");
    }
    for (period, evaluations) in [(60, 1440), (300, 288), (3600, 168), (86_400, 7)] {
        let mut doc = example();
        alarm(period, evaluations)(&mut doc);
        assert!(parse(&doc).is_ok(), "{period} x {evaluations}");
    }
}

fn components(profile: Value) -> Result<PolicySet, PolicySetError> {
    parse(&json!({"instance": {"min_capacity": 1, "max_capacity": 2},
        "inference_components": profile}))
}

/// The step policy the SageMaker guide ("Scale an endpoint to zero
/// instances") puts on an inference component to bring it back from zero.
fn from_zero_policy() -> Value {
    json!({"name": "from-zero", "adjustment_type": "ChangeInCapacity", "cooldown": 60,
        "metric_aggregation_type": "Maximum",
        "steps": [{"lower": 0, "adjustment": 1}],
        "alarm": {"namespace": "AWS/SageMaker", "metric": "NoCapacityInvocationFailures",
                  "statistic": "Sum", "period": 60,
                  "evaluation_periods": 1, "datapoints_to_alarm": 1, "threshold": 1,
                  "comparison": "GreaterThanOrEqualToThreshold"}})
}

#[test]
fn components_reach_zero_only_with_the_policy_that_scales_out_from_zero() {
    let tracking = json!([{"name": "copies", "metric": "SageMakerInferenceComponentInvocationsPerCopy", "target_value": 5}]);
    let err =
        components(json!({"min_capacity": 0, "max_capacity": 4, "target_tracking": tracking}))
            .unwrap_err();
    assert_eq!(err.path, "inference_components.min_capacity");
    assert!(
        err.problem
            .contains("0 leaves inference components nothing to scale out from")
            && err
                .problem
                .contains("AWS/SageMaker NoCapacityInvocationFailures"),
        "{err}"
    );

    let set = components(json!({"min_capacity": 0, "max_capacity": 4,
        "target_tracking": tracking, "step_scaling": [from_zero_policy()]}))
    .unwrap();
    assert_eq!(set.inference_components.min_capacity, 0);

    // A policy that does not bring capacity back does not count.
    let breaks: [(&str, Value); 6] = [
        ("/alarm/metric", json!("Invocations")),
        ("/alarm/namespace", json!("/aws/sagemaker/Endpoints")),
        ("/alarm/comparison", json!("LessThanThreshold")),
        ("/adjustment_type", json!("PercentChangeInCapacity")),
        (
            "/steps",
            json!([{"lower": 0, "upper": 5, "adjustment": 0}, {"lower": 5, "adjustment": 1}]),
        ),
        ("/steps", json!([{"upper": 0, "adjustment": -1}])),
    ];
    for (pointer, value) in breaks {
        let mut policy = from_zero_policy();
        *policy.pointer_mut(pointer).unwrap() = value.clone();
        if pointer == "/steps" && value[0]["adjustment"] == json!(0) {
            // A 0 adjustment only passes as ExactCapacity.
            policy["adjustment_type"] = json!("ExactCapacity");
        }
        let err = components(json!({"min_capacity": 0, "max_capacity": 4,
            "target_tracking": tracking, "step_scaling": [policy]}))
        .unwrap_err();
        assert_eq!(
            err.path, "inference_components.min_capacity",
            "{pointer}={value}: {err}"
        );
    }

    // A scheduled minimum of 0 needs it just the same.
    let err = components(json!({"min_capacity": 1, "max_capacity": 4, "target_tracking": tracking,
        "scheduled_actions": [{"name": "night", "schedule": "cron(0 22 * * ? *)", "min_capacity": 0}]}))
    .unwrap_err();
    assert_eq!(
        err.path,
        "inference_components.scheduled_actions[0].min_capacity"
    );
    assert!(components(json!({"min_capacity": 1, "max_capacity": 4, "target_tracking": tracking,
        "step_scaling": [from_zero_policy()],
        "scheduled_actions": [{"name": "night", "schedule": "cron(0 22 * * ? *)", "min_capacity": 0}]}))
    .is_ok());
}

#[test]
fn async_endpoints_reach_zero_only_with_the_backlog_policy() {
    let tracking = json!([{"name": "backlog", "metric": "ApproximateBacklogSizePerInstance", "target_value": 5}]);
    let err = parse(&json!({"instance": {"min_capacity": 1, "max_capacity": 2},
        "async": {"min_capacity": 0, "max_capacity": 3, "target_tracking": tracking}}))
    .unwrap_err();
    assert_eq!(err.path, "async.min_capacity");
    assert!(
        err.problem
            .contains("AWS/SageMaker HasBacklogWithoutCapacity"),
        "{err}"
    );
    // The default async profile holds it.
    let async_default = serde_json::to_value(default_async_profile()).unwrap();
    let set =
        parse(&json!({"instance": {"min_capacity": 1, "max_capacity": 2}, "async": async_default}))
            .unwrap();
    assert_eq!(set.async_inference.min_capacity, 0);
    let err = parse(&json!({"instance": {"min_capacity": 1, "max_capacity": 2},
        "async": {"min_capacity": 1, "max_capacity": 3, "target_tracking": tracking,
            "scheduled_actions": [{"name": "night", "schedule": "cron(0 22 * * ? *)", "min_capacity": 0}]}}))
    .unwrap_err();
    assert_eq!(err.path, "async.scheduled_actions[0].min_capacity");
}

#[test]
fn instance_and_serverless_variants_never_reach_zero_on_a_schedule() {
    let err = error_of(|d| d["instance"]["scheduled_actions"][1]["min_capacity"] = json!(0));
    assert_eq!(err.path, "instance.scheduled_actions[1].min_capacity");
    assert!(
        err.problem.contains(
            "0 is below 1: SageMaker documents no scale to zero for instance-based variants"
        ),
        "{err}"
    );
    let err = parse(&json!({"instance": {"min_capacity": 1, "max_capacity": 2},
        "serverless": {"min_capacity": 1, "max_capacity": 3,
            "target_tracking": [{"name": "pc", "metric": "SageMakerVariantProvisionedConcurrencyUtilization", "target_value": 0.7}],
            "scheduled_actions": [{"name": "night", "schedule": "cron(0 22 * * ? *)", "min_capacity": 0}]}}))
    .unwrap_err();
    assert_eq!(err.path, "serverless.scheduled_actions[0].min_capacity");
    assert!(err.problem.contains("serverless variants"), "{err}");
}

#[test]
fn the_scale_to_zero_example_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/inference-components-policy-set.json"
    ))
    .unwrap();
    let set = PolicySet::from_json(&text).unwrap();
    let ic = &set.inference_components;
    assert_eq!(ic.min_capacity, 0);
    assert!(ic.step_scaling[0].scales_out_from(NO_CAPACITY_INVOCATION_FAILURES));
}

#[test]
fn the_bench_example_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/bench-policy-set.json"
    ))
    .unwrap();
    assert!(PolicySet::from_json(&text).is_ok());
}
