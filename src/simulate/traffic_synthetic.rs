//! Seeded synthetic traffic, for trying a policy set before any history
//! exists: `synthetic:NAME[?key=value&...]`, in invocations per minute.
//!
//! | pattern | shape | parameters (defaults) |
//! |---|---|---|
//! | `diurnal` | a daily wave, `base` at night, `peak` at `peak_hour` UTC | `base` 100, `peak` 1000, `peak_hour` 14 |
//! | `spike` | `base`, then `peak` for `width` minutes from minute `at` | `base` 200, `peak` 2000, `at` half-way, `width` 30 |
//! | `ramp` | a straight line from `from` to `to` over the run | `from` 100, `to` 2000 |
//! | `step` | `from`, then `to` from minute `at` on | `from` 200, `to` 1000, `at` half-way |
//!
//! Every pattern also takes `minutes` (the length, 1440, at most 21600 =
//! 15 days), `start` (the first minute, RFC 3339 UTC, default
//! 2026-01-05T00:00:00Z, a Monday, so weekday schedules act), `noise` (the
//! relative standard deviation of Gaussian noise, 0.05) and `seed` (1): the
//! same parameters give the same traffic, minute for minute.

use std::f64::consts::PI;

use chrono::DateTime;

use super::traffic::{query_pairs, TrafficError};
use super::Traffic;

pub const MAX_MINUTES: usize = 15 * 1440;
const DEFAULT_START: &str = "2026-01-05T00:00:00Z";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pattern {
    Diurnal {
        base: f64,
        peak: f64,
        peak_hour: u32,
    },
    Spike {
        base: f64,
        peak: f64,
        at: usize,
        width: usize,
    },
    Ramp {
        from: f64,
        to: f64,
    },
    Step {
        from: f64,
        to: f64,
        at: usize,
    },
}

impl Pattern {
    pub fn name(&self) -> &'static str {
        match self {
            Pattern::Diurnal { .. } => "diurnal",
            Pattern::Spike { .. } => "spike",
            Pattern::Ramp { .. } => "ramp",
            Pattern::Step { .. } => "step",
        }
    }

    /// The noise-free invocations in minute `i` of `len`, starting at epoch
    /// minute `start`.
    fn level(&self, i: usize, len: usize, start: i64) -> f64 {
        match *self {
            Pattern::Diurnal {
                base,
                peak,
                peak_hour,
            } => {
                let minute_of_day = (start + i as i64).rem_euclid(1440) as f64;
                let from_peak = minute_of_day - f64::from(peak_hour * 60);
                base + (peak - base) * (1.0 + (2.0 * PI * from_peak / 1440.0).cos()) / 2.0
            }
            Pattern::Spike {
                base,
                peak,
                at,
                width,
            } => {
                if (at..at + width).contains(&i) {
                    peak
                } else {
                    base
                }
            }
            Pattern::Ramp { from, to } => {
                let share = if len > 1 {
                    i as f64 / (len - 1) as f64
                } else {
                    0.0
                };
                from + (to - from) * share
            }
            Pattern::Step { from, to, at } => {
                if i >= at {
                    to
                } else {
                    from
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    pub pattern: Pattern,
    pub minutes: usize,
    pub start_minute: i64,
    pub noise: f64,
    pub seed: u64,
}

/// Every parameter, defaults included: the same text gives the same traffic.
impl std::fmt::Display for Synthetic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "synthetic:{}?", self.pattern.name())?;
        match self.pattern {
            Pattern::Diurnal {
                base,
                peak,
                peak_hour,
            } => write!(f, "base={base}&peak={peak}&peak_hour={peak_hour}")?,
            Pattern::Spike {
                base,
                peak,
                at,
                width,
            } => write!(f, "base={base}&peak={peak}&at={at}&width={width}")?,
            Pattern::Ramp { from, to } => write!(f, "from={from}&to={to}")?,
            Pattern::Step { from, to, at } => write!(f, "from={from}&to={to}&at={at}")?,
        }
        let start = super::traffic::minute_label(self.start_minute);
        let start = format!("{}:00Z", start.trim_end_matches('Z'));
        write!(
            f,
            "&minutes={}&start={start}&noise={}&seed={}",
            self.minutes, self.noise, self.seed
        )
    }
}

/// The parameters one pattern takes, besides the common ones.
fn keys_of(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "diurnal" => &["base", "peak", "peak_hour"],
        "spike" => &["base", "peak", "at", "width"],
        "ramp" => &["from", "to"],
        "step" => &["from", "to", "at"],
        _ => return None,
    })
}
const COMMON: [&str; 4] = ["minutes", "start", "noise", "seed"];

impl Synthetic {
    /// Parses `NAME[?key=value&...]` (what follows `synthetic:`).
    pub fn parse(spec: &str) -> Result<Self, TrafficError> {
        let (name, query) = spec.split_once('?').unwrap_or((spec, ""));
        let bad = |what: String| TrafficError(format!("--traffic synthetic:{spec}: {what}"));
        let keys = keys_of(name).ok_or_else(|| {
            bad(format!(
                "unknown pattern {name:?}; expected diurnal, spike, ramp or step"
            ))
        })?;
        let mut given: Vec<(&str, &str)> = Vec::new();
        for (key, value) in query_pairs(query) {
            if !keys.contains(&key) && !COMMON.contains(&key) {
                return Err(bad(format!(
                    "unknown parameter {key:?}; {name} takes {}",
                    keys.iter()
                        .chain(&COMMON)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if given.iter().any(|(k, _)| *k == key) {
                return Err(bad(format!("{key} is given twice")));
            }
            given.push((key, value));
        }
        let get = |key: &str| given.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let number = |key: &str, default: f64| -> Result<f64, TrafficError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        bad(format!(
                            "{key}={v:?}: expected a number of invocations per minute, 0 or more"
                        ))
                    }),
            }
        };
        let whole = |key: &str, default: usize, max: usize| -> Result<usize, TrafficError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|x| *x <= max)
                    .ok_or_else(|| {
                        bad(format!(
                            "{key}={v:?}: expected a whole number from 0 to {max}"
                        ))
                    }),
            }
        };
        let minutes = whole("minutes", 1440, MAX_MINUTES)?;
        if minutes == 0 {
            return Err(bad("minutes=\"0\": expected at least 1".into()));
        }
        let start = get("start").unwrap_or(DEFAULT_START);
        let start_minute = DateTime::parse_from_rfc3339(start)
            .ok()
            .filter(|t| t.timestamp() % 60 == 0)
            .map(|t| t.timestamp() / 60)
            .ok_or_else(|| {
                bad(format!(
                    "start={start:?}: expected an RFC 3339 time on a whole minute, e.g. {DEFAULT_START}"
                ))
            })?;
        let noise = number("noise", 0.05)?;
        if noise > 1.0 {
            return Err(bad(format!(
                "noise={noise}: expected a relative standard deviation from 0 to 1"
            )));
        }
        let seed = match get("seed") {
            None => 1,
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| bad(format!("seed={v:?}: expected a whole number")))?,
        };
        let last = minutes - 1;
        let pattern = match name {
            "diurnal" => Pattern::Diurnal {
                base: number("base", 100.0)?,
                peak: number("peak", 1000.0)?,
                peak_hour: whole("peak_hour", 14, 23)? as u32,
            },
            "spike" => Pattern::Spike {
                base: number("base", 200.0)?,
                peak: number("peak", 2000.0)?,
                at: whole("at", minutes / 2, last)?,
                width: whole("width", 30, minutes)?,
            },
            "ramp" => Pattern::Ramp {
                from: number("from", 100.0)?,
                to: number("to", 2000.0)?,
            },
            _ => Pattern::Step {
                from: number("from", 200.0)?,
                to: number("to", 1000.0)?,
                at: whole("at", minutes / 2, last)?,
            },
        };
        Ok(Synthetic {
            pattern,
            minutes,
            start_minute,
            noise,
            seed,
        })
    }

    /// The traffic, whole invocations per minute, never negative.
    pub fn generate(&self) -> Traffic {
        let mut rng = SplitMix64(self.seed);
        let per_minute = (0..self.minutes)
            .map(|i| {
                let level = self.pattern.level(i, self.minutes, self.start_minute);
                let factor = 1.0 + self.noise * rng.gaussian();
                Some((level * factor).max(0.0).round())
            })
            .collect();
        Traffic {
            start_minute: self.start_minute,
            per_minute,
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fixed generator, so a
/// seed gives the same traffic on every platform and release.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(spec: &str) -> Vec<f64> {
        Synthetic::parse(spec)
            .unwrap()
            .generate()
            .per_minute
            .into_iter()
            .map(Option::unwrap)
            .collect()
    }

    #[test]
    fn without_noise_each_pattern_has_its_shape() {
        assert_eq!(
            values("spike?minutes=6&base=10&peak=50&at=2&width=2&noise=0"),
            [10.0, 10.0, 50.0, 50.0, 10.0, 10.0]
        );
        assert_eq!(
            values("step?minutes=4&from=1&to=9&at=3&noise=0"),
            [1.0, 1.0, 1.0, 9.0]
        );
        assert_eq!(
            values("ramp?minutes=5&from=0&to=100&noise=0"),
            [0.0, 25.0, 50.0, 75.0, 100.0]
        );
        // Peak at 14:00 UTC, trough twelve hours away.
        let day = values("diurnal?base=100&peak=1000&noise=0");
        assert_eq!(day.len(), 1440);
        assert_eq!(day[14 * 60], 1000.0);
        assert_eq!(day[2 * 60], 100.0);
        assert_eq!(day[8 * 60], 550.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_traffic_and_another_seed_another() {
        let a = values("diurnal?seed=7&minutes=600");
        assert_eq!(a, values("diurnal?seed=7&minutes=600"));
        assert_ne!(a, values("diurnal?seed=8&minutes=600"));
        // Noise of 5 % stays near the level and never goes negative.
        let flat = values("step?from=1000&to=1000&noise=0.05&minutes=1440");
        let mean = flat.iter().sum::<f64>() / flat.len() as f64;
        assert!((mean - 1000.0).abs() < 10.0, "{mean}");
        assert!(flat.iter().all(|v| *v >= 0.0 && v.fract() == 0.0));
        let spread = flat.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / flat.len() as f64;
        assert!((spread.sqrt() - 50.0).abs() < 5.0, "{}", spread.sqrt());
    }

    #[test]
    fn the_spec_is_printed_in_full_and_reads_back_the_same() {
        let s = Synthetic::parse("spike?peak=900&seed=4").unwrap();
        let text = s.to_string();
        assert_eq!(
            text,
            "synthetic:spike?base=200&peak=900&at=720&width=30&minutes=1440\
             &start=2026-01-05T00:00:00Z&noise=0.05&seed=4"
        );
        let again = Synthetic::parse(text.strip_prefix("synthetic:").unwrap()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn start_sets_the_first_minute() {
        let s = Synthetic::parse("ramp?start=2026-11-20T10:00:00Z").unwrap();
        assert_eq!(s.start_minute, 1_795_168_800 / 60);
        assert_eq!(s.generate().start_minute, s.start_minute);
        assert_eq!(
            Synthetic::parse("ramp").unwrap().start_minute,
            1_767_571_200 / 60
        );
    }

    #[test]
    fn bad_parameters_name_the_key_the_value_and_what_was_expected() {
        for (spec, says) in [
            ("wave", "unknown pattern \"wave\"; expected diurnal, spike, ramp or step"),
            ("spike?height=3", "unknown parameter \"height\"; spike takes base, peak, at, width, minutes, start, noise, seed"),
            ("ramp?at=3", "unknown parameter \"at\""),
            ("spike?peak=-1", "peak=\"-1\": expected a number of invocations per minute, 0 or more"),
            ("spike?peak=NaN", "peak=\"NaN\""),
            ("spike?peak=", "peak=\"\""),
            ("step?minutes=21601", "minutes=\"21601\": expected a whole number from 0 to 21600"),
            ("step?minutes=0", "minutes=\"0\": expected at least 1"),
            ("step?minutes=10&at=10", "at=\"10\": expected a whole number from 0 to 9"),
            ("diurnal?peak_hour=24", "peak_hour=\"24\""),
            ("diurnal?noise=2", "noise=2: expected a relative standard deviation from 0 to 1"),
            ("diurnal?seed=x", "seed=\"x\": expected a whole number"),
            ("diurnal?start=2026-01-05T00:00:30Z", "start=\"2026-01-05T00:00:30Z\": expected an RFC 3339 time on a whole minute"),
            ("diurnal?start=yesterday", "start=\"yesterday\""),
            ("ramp?to=1&to=2", "to is given twice"),
        ] {
            let err = Synthetic::parse(spec).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("--traffic synthetic:{spec}: ")) && err.contains(says),
                "{spec}: {err}"
            );
        }
    }
}
