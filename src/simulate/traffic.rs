//! Where the traffic a simulation replays comes from: `--traffic SOURCE`.
//!
//! - `synthetic:NAME[?key=value&...]`: a seeded pattern (traffic_synthetic.rs);
//! - `cloudwatch:ENDPOINT/VARIANT[?days=N]`: the variant's `Invocations`
//!   history (traffic_cloudwatch.rs);
//! - anything else: a CSV file of per-minute invocations (traffic_csv.rs).

use std::fmt;

use chrono::DateTime;

use super::traffic_synthetic::Synthetic;
use super::Traffic;
use crate::aws::metrics::MAX_DAYS;

/// Bad traffic input: names the source, the field and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TrafficError(pub String);

/// A parsed `--traffic` argument.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficSource {
    Csv(std::path::PathBuf),
    Synthetic(Synthetic),
    CloudWatch {
        endpoint: String,
        variant: String,
        days: u32,
    },
}

/// Days read from CloudWatch when `?days=` is not given: last week.
pub const DEFAULT_DAYS: u32 = 7;

impl TrafficSource {
    pub fn parse(source: &str) -> Result<Self, TrafficError> {
        if let Some(rest) = source.strip_prefix("synthetic:") {
            return Synthetic::parse(rest).map(TrafficSource::Synthetic);
        }
        if let Some(rest) = source.strip_prefix("cloudwatch:") {
            return parse_cloudwatch(rest);
        }
        if source.is_empty() {
            return Err(TrafficError(
                "--traffic: empty; expected a CSV file, synthetic:NAME or \
                 cloudwatch:ENDPOINT/VARIANT"
                    .into(),
            ));
        }
        Ok(TrafficSource::Csv(source.into()))
    }
}

impl fmt::Display for TrafficSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrafficSource::Csv(path) => write!(f, "{}", path.display()),
            TrafficSource::Synthetic(s) => write!(f, "{s}"),
            TrafficSource::CloudWatch {
                endpoint,
                variant,
                days,
            } => write!(f, "cloudwatch:{endpoint}/{variant}?days={days}"),
        }
    }
}

fn parse_cloudwatch(rest: &str) -> Result<TrafficSource, TrafficError> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bad = |what: String| TrafficError(format!("--traffic cloudwatch:{rest}: {what}"));
    let (endpoint, variant) = path
        .split_once('/')
        .filter(|(e, v)| !e.is_empty() && !v.is_empty() && !v.contains('/'))
        .ok_or_else(|| bad("expected cloudwatch:ENDPOINT/VARIANT[?days=N]".into()))?;
    crate::trigger::validate_endpoint_name(endpoint).map_err(|e| bad(format!("endpoint: {e}")))?;
    let mut days = DEFAULT_DAYS;
    for (key, value) in query_pairs(query) {
        match key {
            "days" => {
                days = value
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=MAX_DAYS).contains(d))
                    .ok_or_else(|| {
                        bad(format!(
                            "days={value:?}: expected a whole number from 1 to {MAX_DAYS} \
                             (CloudWatch keeps one-minute data for {MAX_DAYS} days)"
                        ))
                    })?
            }
            other => return Err(bad(format!("unknown parameter {other:?}; expected days"))),
        }
    }
    Ok(TrafficSource::CloudWatch {
        endpoint: endpoint.to_string(),
        variant: variant.to_string(),
        days,
    })
}

/// `a=1&b=2` as pairs; an empty query has none, a pair without `=` has an
/// empty value (and is refused by whoever reads it).
pub(super) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

impl Traffic {
    /// Traffic over `[start_minute, end_minute)` from per-minute values;
    /// minutes without a value are `None`. A minute given twice, or one
    /// outside the window, is an error.
    pub fn from_minutes(
        start_minute: i64,
        end_minute: i64,
        points: &[(i64, Option<f64>)],
    ) -> Result<Traffic, TrafficError> {
        let len = usize::try_from(end_minute - start_minute).unwrap_or(0);
        let mut per_minute = vec![None; len];
        let mut seen = vec![false; len];
        for &(minute, value) in points {
            let i = usize::try_from(minute - start_minute)
                .ok()
                .filter(|&i| i < len)
                .ok_or_else(|| {
                    TrafficError(format!(
                        "minute {} is outside {}..{}",
                        minute_label(minute),
                        minute_label(start_minute),
                        minute_label(end_minute)
                    ))
                })?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(TrafficError(format!(
                    "minute {} appears twice",
                    minute_label(minute)
                )));
            }
            per_minute[i] = value;
        }
        Ok(Traffic {
            start_minute,
            per_minute,
        })
    }

    /// The minutes without a datapoint, as runs.
    pub fn missing(&self) -> Missing {
        let mut runs: Vec<(i64, usize)> = Vec::new();
        for (i, value) in self.per_minute.iter().enumerate() {
            if value.is_some() {
                continue;
            }
            let minute = self.start_minute + i as i64;
            match runs.last_mut() {
                Some((start, len)) if *start + *len as i64 == minute => *len += 1,
                _ => runs.push((minute, 1)),
            }
        }
        Missing {
            total: self.per_minute.len(),
            runs,
        }
    }
}

/// Minutes without a datapoint: `runs` of `(first minute, length)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub total: usize,
    pub runs: Vec<(i64, usize)>,
}

impl Missing {
    pub fn count(&self) -> usize {
        self.runs.iter().map(|(_, n)| n).sum()
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count();
        write!(f, "{count} of {} minutes had no datapoint", self.total)?;
        if let Some((start, len)) = self.runs.iter().max_by_key(|(s, n)| (*n, -s)) {
            write!(
                f,
                " (longest gap: {len} minutes from {}; {} gaps)",
                minute_label(*start),
                self.runs.len()
            )?;
        }
        Ok(())
    }
}

/// A minute as `2026-11-20T10:05Z`.
pub fn minute_label(minute: i64) -> String {
    DateTime::from_timestamp(minute * 60, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string())
        .unwrap_or_else(|| format!("minute {minute}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart_by_their_prefix() {
        assert_eq!(
            TrafficSource::parse("history.csv").unwrap(),
            TrafficSource::Csv("history.csv".into())
        );
        assert_eq!(
            TrafficSource::parse("cloudwatch:shop/AllTraffic").unwrap(),
            TrafficSource::CloudWatch {
                endpoint: "shop".into(),
                variant: "AllTraffic".into(),
                days: DEFAULT_DAYS
            }
        );
        assert_eq!(
            TrafficSource::parse("cloudwatch:shop/AllTraffic?days=15").unwrap(),
            TrafficSource::CloudWatch {
                endpoint: "shop".into(),
                variant: "AllTraffic".into(),
                days: 15
            }
        );
        assert!(matches!(
            TrafficSource::parse("synthetic:spike").unwrap(),
            TrafficSource::Synthetic(_)
        ));
    }

    #[test]
    fn bad_cloudwatch_sources_name_what_is_wrong() {
        for (source, says) in [
            ("cloudwatch:shop", "expected cloudwatch:ENDPOINT/VARIANT"),
            ("cloudwatch:/v", "expected cloudwatch:ENDPOINT/VARIANT"),
            ("cloudwatch:e/v/w", "expected cloudwatch:ENDPOINT/VARIANT"),
            (
                "cloudwatch:e/v?days=16",
                "days=\"16\": expected a whole number from 1 to 15",
            ),
            ("cloudwatch:e/v?days=0", "days=\"0\""),
            ("cloudwatch:e/v?days=", "days=\"\""),
            ("cloudwatch:e/v?hours=3", "unknown parameter \"hours\""),
            ("cloudwatch:bad_name/v", "endpoint:"),
            ("", "empty"),
        ] {
            let err = TrafficSource::parse(source).unwrap_err().to_string();
            assert!(err.contains(says), "{source}: {err}");
        }
    }

    #[test]
    fn minutes_become_a_traffic_with_gaps() {
        let t = Traffic::from_minutes(
            100,
            106,
            &[(101, Some(5.0)), (100, Some(4.0)), (104, Some(1.0))],
        )
        .unwrap();
        assert_eq!(t.start_minute, 100);
        assert_eq!(
            t.per_minute,
            [Some(4.0), Some(5.0), None, None, Some(1.0), None]
        );
        let missing = t.missing();
        assert_eq!(missing.runs, [(102, 2), (105, 1)]);
        assert_eq!(missing.count(), 3);
        assert_eq!(
            missing.to_string(),
            "3 of 6 minutes had no datapoint (longest gap: 2 minutes from 1970-01-01T01:42Z; 2 gaps)"
        );
    }

    #[test]
    fn a_minute_twice_or_outside_the_window_is_refused() {
        let twice = Traffic::from_minutes(0, 5, &[(1, Some(1.0)), (1, Some(2.0))]).unwrap_err();
        assert_eq!(twice.0, "minute 1970-01-01T00:01Z appears twice");
        let outside = Traffic::from_minutes(0, 5, &[(5, Some(1.0))]).unwrap_err();
        assert!(outside.0.contains("outside"), "{outside}");
    }
}
