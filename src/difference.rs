//! One difference from the standard, what it is about, and the collector
//! every diff uses.

use std::fmt;

use serde::Serialize;
use serde_json::{json, Value};

/// What a difference (or a person's item in the way) is about. Reports
/// show it as text: `scalable_target`, `policy NAME`, `scheduled action
/// NAME`, `alarm NAME`, `endpoint`, `account`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    ScalableTarget,
    Policy(String),
    ScheduledAction(String),
    Alarm(String),
    /// The endpoint as a whole (its release mark).
    Endpoint,
    /// The account and Region as a whole (`release --all`).
    Account,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::ScalableTarget => f.write_str("scalable_target"),
            Subject::Policy(name) => write!(f, "policy {name}"),
            Subject::ScheduledAction(name) => write!(f, "scheduled action {name}"),
            Subject::Alarm(name) => write!(f, "alarm {name}"),
            Subject::Endpoint => f.write_str("endpoint"),
            Subject::Account => f.write_str("account"),
        }
    }
}

/// One thing that differs from the standard, named precisely.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The `Subject`, as text.
    pub subject: String,
    /// What differs: `registered`, `min_capacity`, `target_value`, ...
    pub field: String,
    pub actual: Value,
    pub desired: Value,
}

impl Difference {
    pub fn new(subject: &Subject, field: &str, actual: Value, desired: Value) -> Self {
        Self {
            subject: subject.to_string(),
            field: field.to_string(),
            actual,
            desired,
        }
    }
}

/// Numbers AWS echoes back may have lost their last bits.
pub fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Optional bounds (of a step) compare like numbers, absent like absent.
pub fn same_bound(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_value(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Collects the differences of one subject, one field at a time.
pub struct Differences {
    subject: Subject,
    found: Vec<Difference>,
}

impl Differences {
    pub fn of(subject: Subject) -> Self {
        Self {
            subject,
            found: Vec::new(),
        }
    }

    /// Records `field` unless `same`.
    pub fn field(
        &mut self,
        field: &str,
        same: bool,
        actual: impl Serialize,
        desired: impl Serialize,
    ) {
        if !same {
            self.found.push(Difference::new(
                &self.subject,
                field,
                json!(actual),
                json!(desired),
            ));
        }
    }

    /// Records a text field observed as optional.
    pub fn text(&mut self, field: &str, actual: Option<&str>, desired: &str) {
        self.field(field, actual == Some(desired), actual, desired);
    }

    pub fn done(self) -> Vec<Difference> {
        self.found
    }
}
