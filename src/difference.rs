//! One difference from the standard, and the collector every diff uses.

use serde::Serialize;
use serde_json::{json, Value};

/// One thing that differs from the standard, named precisely.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// `scalable_target`, `policy <name>`, `alarm <name>` or
    /// `scheduled action <name>`.
    pub subject: String,
    /// What differs: `registered`, `min_capacity`, `target_value`, ...
    pub field: String,
    pub actual: Value,
    pub desired: Value,
}

impl Difference {
    pub fn new(subject: impl Into<String>, field: &str, actual: Value, desired: Value) -> Self {
        Self {
            subject: subject.into(),
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
    subject: String,
    found: Vec<Difference>,
}

impl Differences {
    pub fn of(subject: String) -> Self {
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
                self.subject.clone(),
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
