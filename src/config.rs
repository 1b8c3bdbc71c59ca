//! Settings read once at start-up from the environment.
//!
//! Every value is validated here so that a bad deployment fails loudly at
//! start-up instead of writing half a configuration to AWS later.

use std::fmt;

use crate::policy_set::{PolicySet, Profile, TargetTrackingDoc, MAX_COOLDOWN_SECONDS};

/// The environment's shorthand for the default policy set (MIN_CAPACITY,
/// TARGET_INVOCATIONS_PER_INSTANCE, ...): one target-tracking policy on
/// invocations per instance. `POLICY_SET` replaces it.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvShorthand {
    pub min_capacity: i32,
    pub max_capacity: i32,
    pub target_invocations_per_instance: f64,
    pub scale_in_cooldown: i32,
    pub scale_out_cooldown: i32,
}

impl Default for EnvShorthand {
    fn default() -> Self {
        Self {
            min_capacity: 1,
            max_capacity: 4,
            target_invocations_per_instance: 70.0,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftMode {
    /// Repair what drifted.
    Remediate,
    /// Only report; write nothing.
    Report,
}

impl EnvShorthand {
    /// The default policy set these values are shorthand for: one
    /// target-tracking policy on invocations per instance.
    pub fn policy_set(&self) -> PolicySet {
        let mut set = PolicySet::with_instance(Profile {
            target_tracking: vec![TargetTrackingDoc {
                name: "invocations".to_string(),
                metric: "SageMakerVariantInvocationsPerInstance".to_string(),
                target_value: Some(self.target_invocations_per_instance),
                target_per_core: None,
                scale_in_cooldown: self.scale_in_cooldown,
                scale_out_cooldown: self.scale_out_cooldown,
                disable_scale_in: false,
            }],
            ..Profile::new(self.min_capacity, self.max_capacity)
        });
        set.async_inference.max_capacity = self.max_capacity;
        set
    }
}

pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// The variables that are shorthand for the default policy set.
pub const SHORTHAND_VARIABLES: [&str; 5] = [
    "MIN_CAPACITY",
    "MAX_CAPACITY",
    "TARGET_INVOCATIONS_PER_INSTANCE",
    "SCALE_IN_COOLDOWN",
    "SCALE_OUT_COOLDOWN",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The standard every managed variant gets.
    pub policy_set: PolicySet,
    /// When true only endpoints tagged `autoscaling:enabled=true` are managed.
    pub require_opt_in: bool,
    pub drift_mode: DriftMode,
    /// How many endpoints a drift check works on at once.
    pub concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            policy_set: EnvShorthand::default().policy_set(),
            require_opt_in: false,
            drift_mode: DriftMode::Remediate,
            concurrency: 4,
        }
    }
}

/// A setting that cannot be used, naming the variable and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub value: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: {}={:?}: {}",
            self.variable, self.value, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

/// Long values (a whole policy document) are cut for the error message.
fn abbreviate(raw: &str) -> String {
    let flat: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &flat[..i]),
        None => flat,
    }
}

pub(crate) fn invalid(variable: &str, value: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_string(),
        value: value.to_string(),
        problem: problem.into(),
    }
}

/// Parses a whole number of at least `floor`. Shared by environment
/// variables and endpoint tags so both have the same bounds (tag values
/// are first held to the stricter tag syntax, in `domain::desired`).
pub fn parse_count(raw: &str, floor: i32) -> Result<i32, String> {
    let trimmed = raw.trim();
    let value: i64 = trimmed
        .parse()
        .map_err(|_| "not a whole number".to_string())?;
    if value < i64::from(floor) {
        return Err(format!("must be at least {floor}"));
    }
    i32::try_from(value).map_err(|_| "too large".to_string())
}

/// Parses a finite number greater than zero.
pub fn parse_positive(raw: &str) -> Result<f64, String> {
    let value: f64 = raw.trim().parse().map_err(|_| "not a number".to_string())?;
    if !value.is_finite() || value <= 0.0 {
        return Err("must be a number greater than 0".to_string());
    }
    Ok(value)
}

pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".to_string()),
    }
}

pub fn parse_cooldown(raw: &str) -> Result<i32, String> {
    let value = parse_count(raw, 0)?;
    if value > MAX_COOLDOWN_SECONDS {
        return Err(format!("must be at most {MAX_COOLDOWN_SECONDS} seconds"));
    }
    Ok(value)
}

impl Settings {
    /// Reads settings through `lookup` (the process environment in
    /// production), applying defaults for unset or empty variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut settings = Settings::default();
        let mut standard = EnvShorthand::default();

        let count = |name: &str, floor: i32, default: i32| -> Result<i32, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => parse_count(&raw, floor).map_err(|p| invalid(name, &raw, p)),
            }
        };
        let std = &mut standard;
        std.min_capacity = count("MIN_CAPACITY", 1, std.min_capacity)?;
        std.max_capacity = count("MAX_CAPACITY", 1, std.max_capacity)?;
        if std.min_capacity > std.max_capacity {
            return Err(invalid(
                "MAX_CAPACITY",
                &std.max_capacity.to_string(),
                format!("must not be below MIN_CAPACITY ({})", std.min_capacity),
            ));
        }
        if let Some(raw) = get("TARGET_INVOCATIONS_PER_INSTANCE") {
            std.target_invocations_per_instance = parse_positive(&raw)
                .map_err(|p| invalid("TARGET_INVOCATIONS_PER_INSTANCE", &raw, p))?;
        }
        for (name, slot) in [
            ("SCALE_IN_COOLDOWN", &mut std.scale_in_cooldown),
            ("SCALE_OUT_COOLDOWN", &mut std.scale_out_cooldown),
        ] {
            if let Some(raw) = get(name) {
                *slot = parse_cooldown(&raw).map_err(|p| invalid(name, &raw, p))?;
            }
        }
        settings.policy_set = match get("POLICY_SET") {
            None => standard.policy_set(),
            Some(raw) => {
                if let Some(name) = SHORTHAND_VARIABLES.iter().find(|n| get(n).is_some()) {
                    return Err(invalid(
                        "POLICY_SET",
                        &abbreviate(&raw),
                        format!("{name} is set too: give either POLICY_SET or the simple variables, not both"),
                    ));
                }
                PolicySet::from_json(&raw)
                    .map_err(|e| invalid("POLICY_SET", &abbreviate(&raw), e.to_string()))?
            }
        };
        if let Some(raw) = get("REQUIRE_OPT_IN") {
            settings.require_opt_in =
                parse_bool(&raw).map_err(|p| invalid("REQUIRE_OPT_IN", &raw, p))?;
        }
        if let Some(raw) = get("LOG_LEVEL") {
            if !LOG_LEVELS.contains(&raw.trim().to_ascii_lowercase().as_str()) {
                return Err(invalid(
                    "LOG_LEVEL",
                    &raw,
                    format!("must be one of {}", LOG_LEVELS.join(", ")),
                ));
            }
        }
        if let Some(raw) = get("DRIFT_MODE") {
            settings.drift_mode = match raw.trim().to_ascii_lowercase().as_str() {
                "remediate" => DriftMode::Remediate,
                "report" => DriftMode::Report,
                _ => return Err(invalid("DRIFT_MODE", &raw, "must be remediate or report")),
            };
        }
        if let Some(raw) = get("DRIFT_CONCURRENCY") {
            let n = parse_count(&raw, 1).map_err(|p| invalid("DRIFT_CONCURRENCY", &raw, p))?;
            if n > 64 {
                return Err(invalid("DRIFT_CONCURRENCY", &raw, "must be at most 64"));
            }
            settings.concurrency = n as usize;
        }
        Ok(settings)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Settings that are legal but probably not what was meant.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.policy_set.instance.target_tracking {
            if p.scale_out_cooldown > p.scale_in_cooldown {
                out.push(format!(
                    "policy {}: the scale-out cooldown ({}s) is longer than the scale-in cooldown ({}s): \
                     variants will scale out more slowly than they scale in",
                    p.name, p.scale_out_cooldown, p.scale_in_cooldown
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let s = settings(&[]).unwrap();
        assert_eq!(s, Settings::default());
        let profile = &s.policy_set.instance;
        assert_eq!((profile.min_capacity, profile.max_capacity), (1, 4));
        let p = &profile.target_tracking[0];
        assert_eq!(p.name, "invocations");
        assert_eq!(p.metric, "SageMakerVariantInvocationsPerInstance");
        assert_eq!(p.target_value, Some(70.0));
        assert_eq!((p.scale_in_cooldown, p.scale_out_cooldown), (300, 60));
        assert!(!s.require_opt_in);
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn every_variable_is_read() {
        let s = settings(&[
            ("MIN_CAPACITY", "2"),
            ("MAX_CAPACITY", "10"),
            ("TARGET_INVOCATIONS_PER_INSTANCE", "12.5"),
            ("SCALE_IN_COOLDOWN", "600"),
            ("SCALE_OUT_COOLDOWN", "30"),
            ("REQUIRE_OPT_IN", "TRUE"),
            ("DRIFT_MODE", "report"),
            ("DRIFT_CONCURRENCY", "8"),
        ])
        .unwrap();
        assert_eq!(
            s.policy_set,
            EnvShorthand {
                min_capacity: 2,
                max_capacity: 10,
                target_invocations_per_instance: 12.5,
                scale_in_cooldown: 600,
                scale_out_cooldown: 30,
            }
            .policy_set()
        );
        assert!(s.require_opt_in);
        assert_eq!(s.drift_mode, DriftMode::Report);
        assert_eq!(s.concurrency, 8);
    }

    #[test]
    fn empty_values_mean_default() {
        let s = settings(&[("MIN_CAPACITY", ""), ("REQUIRE_OPT_IN", " ")]).unwrap();
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn errors_name_the_variable_and_the_value() {
        let cases = [
            ("MIN_CAPACITY", "abc", "not a whole number"),
            ("MIN_CAPACITY", "0", "at least 1"),
            ("MAX_CAPACITY", "-3", "at least 1"),
            ("MAX_CAPACITY", "2.5", "not a whole number"),
            ("TARGET_INVOCATIONS_PER_INSTANCE", "0", "greater than 0"),
            ("TARGET_INVOCATIONS_PER_INSTANCE", "NaN", "greater than 0"),
            ("TARGET_INVOCATIONS_PER_INSTANCE", "lots", "not a number"),
            ("SCALE_IN_COOLDOWN", "-1", "at least 0"),
            ("SCALE_OUT_COOLDOWN", "300000", "at most 86400"),
            ("REQUIRE_OPT_IN", "yes", "true or false"),
            ("DRIFT_MODE", "fix", "remediate or report"),
            (
                "LOG_LEVEL",
                "verbose",
                "one of error, warn, info, debug, trace",
            ),
            ("DRIFT_CONCURRENCY", "0", "at least 1"),
        ];
        for (name, value, problem) in cases {
            let err = settings(&[(name, value)]).unwrap_err();
            assert_eq!(err.variable, name);
            assert_eq!(err.value, value);
            let text = err.to_string();
            assert!(text.contains(name) && text.contains(value), "{text}");
            assert!(text.contains(problem), "{text} should say {problem}");
        }
    }

    #[test]
    fn min_above_max_is_rejected() {
        let err = settings(&[("MIN_CAPACITY", "5"), ("MAX_CAPACITY", "3")]).unwrap_err();
        assert_eq!(err.variable, "MAX_CAPACITY");
        assert!(err.to_string().contains("MIN_CAPACITY (5)"));
        // The default max is 4, so a min of 5 alone is already wrong.
        assert!(settings(&[("MIN_CAPACITY", "5")]).is_err());
    }

    #[test]
    fn slow_scale_out_is_a_warning_not_an_error() {
        let s = settings(&[("SCALE_OUT_COOLDOWN", "900"), ("SCALE_IN_COOLDOWN", "300")]).unwrap();
        let warnings = s.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("scale-out cooldown (900s)"));
    }

    #[test]
    fn a_policy_set_document_replaces_the_simple_variables() {
        let doc = r#"{"instance": {"min_capacity": 2, "max_capacity": 6,
            "target_tracking": [{"name": "mem", "metric": "MemoryUtilization", "target_value": 75}]}}"#;
        let s = settings(&[("POLICY_SET", doc)]).unwrap();
        assert_eq!(s.policy_set.instance.max_capacity, 6);
        assert_eq!(s.policy_set.instance.target_tracking[0].name, "mem");
    }

    #[test]
    fn a_bad_policy_set_names_the_field() {
        let doc = r#"{"instance": {"min_capacity": 2, "max_capacity": 1}}"#;
        let err = settings(&[("POLICY_SET", doc)]).unwrap_err();
        assert_eq!(err.variable, "POLICY_SET");
        assert!(err.problem.contains("instance.max_capacity"), "{err}");
    }

    #[test]
    fn a_policy_set_and_simple_variables_together_are_rejected() {
        let doc = r#"{"instance": {"min_capacity": 1, "max_capacity": 4}}"#;
        let err = settings(&[("POLICY_SET", doc), ("MAX_CAPACITY", "8")]).unwrap_err();
        assert!(err.problem.contains("MAX_CAPACITY is set too"), "{err}");
    }
}
