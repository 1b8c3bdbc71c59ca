//! Schedule expressions and time zones for scheduled actions, checked the
//! way Application Auto Scaling reads them (a local emulator accepts
//! anything, AWS does not): `cron(m h dom mon dow year)`, `rate(n unit)` and
//! `at(yyyy-mm-ddThh:mm:ss)`.

use std::str::FromStr;

use super::tz_links::LINKS;

/// Checks a schedule expression; the error says what is wrong with it.
pub fn validate_schedule(expr: &str) -> Result<(), String> {
    parse_schedule(expr).map(|_| ())
}

/// A schedule expression, read once for validation and for simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Cron(Cron),
    /// Every so many minutes.
    Rate {
        minutes: i64,
    },
    /// Once, at this time of the action's time zone.
    At(chrono::NaiveDateTime),
}

/// The six fields of a cron expression (minutes, hours, day-of-month,
/// month, day-of-week with 1 = Sunday, year); a field matches when any of
/// its items does.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    pub fields: [Vec<CronItem>; 6],
}

#[derive(Debug, Clone, PartialEq)]
pub enum CronItem {
    /// `*`, `?`, `a`, `a-b`, `*/s`, `a/s` and `a-b/s`.
    Range { from: u32, to: u32, step: u32 },
    /// Day of month `L`.
    LastDay,
    /// Day of month `LW`.
    LastWeekday,
    /// Day of month `nW`: the weekday nearest day n, within the month.
    NearestWeekday(u32),
    /// Day of week `nL`: the last such day of the month.
    LastOfMonth(u32),
    /// Day of week `n#k`: the k-th such day of the month.
    Nth { day: u32, k: u32 },
    /// A form validation lets through whose meaning AWS does not document.
    Other(String),
}

/// Reads a schedule expression; the error says what is wrong with it.
pub fn parse_schedule(expr: &str) -> Result<Schedule, String> {
    let inner = |prefix: &str| {
        expr.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(')'))
    };
    if let Some(body) = inner("cron(") {
        parse_cron(body).map(Schedule::Cron)
    } else if let Some(body) = inner("rate(") {
        parse_rate(body).map(|minutes| Schedule::Rate { minutes })
    } else if let Some(body) = inner("at(") {
        parse_at(body).map(Schedule::At)
    } else {
        Err("must be cron(...), rate(...) or at(...)".to_string())
    }
}

fn parse_rate(body: &str) -> Result<i64, String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    let [value, unit] = parts.as_slice() else {
        return Err("rate(...) takes a value and a unit, e.g. rate(5 minutes)".to_string());
    };
    let n: u64 = value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("rate value {value:?} must be a whole number above 0"))?;
    let (ok, unit_minutes) = match *unit {
        "minute" => (n == 1, 1),
        "hour" => (n == 1, 60),
        "day" => (n == 1, 1440),
        "minutes" => (n > 1, 1),
        "hours" => (n > 1, 60),
        "days" => (n > 1, 1440),
        _ => {
            return Err(format!(
                "rate unit {unit:?} must be minute(s), hour(s) or day(s)"
            ))
        }
    };
    if ok {
        i64::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(unit_minutes))
            .ok_or_else(|| format!("rate({n} {unit}) is too long"))
    } else {
        Err(format!(
            "rate({n} {unit}): use the singular unit for 1 and the plural otherwise"
        ))
    }
}

fn parse_at(body: &str) -> Result<chrono::NaiveDateTime, String> {
    let err = || format!("at({body}) must be at(yyyy-mm-ddThh:mm:ss)");
    let at = chrono::NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S").map_err(|_| err())?;
    if body.len() != 19 {
        return Err(err());
    }
    Ok(at)
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Characters beyond numbers, names, `,-*/`.
    extra: &'static str,
}

const FIELDS: [Field; 6] = [
    Field {
        name: "minutes",
        min: 0,
        max: 59,
        names: &[],
        extra: "",
    },
    Field {
        name: "hours",
        min: 0,
        max: 23,
        names: &[],
        extra: "",
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        extra: "?LW",
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        extra: "",
    },
    Field {
        name: "day-of-week",
        min: 1,
        max: 7,
        names: &DAYS,
        extra: "?L#",
    },
    Field {
        name: "year",
        min: 1970,
        max: 2199,
        names: &[],
        extra: "",
    },
];

fn parse_cron(body: &str) -> Result<Cron, String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    if parts.len() != 6 {
        return Err(format!(
            "cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got {}",
            parts.len()
        ));
    }
    let mut fields: [Vec<CronItem>; 6] = Default::default();
    for ((value, field), items) in parts.iter().zip(FIELDS.iter()).zip(fields.iter_mut()) {
        *items = parse_cron_field(value, field)?;
    }
    let (dom, dow) = (parts[2], parts[4]);
    if (dom == "?") == (dow == "?") {
        return Err("cron(...): exactly one of day-of-month and day-of-week must be ?".to_string());
    }
    Ok(Cron { fields })
}

fn parse_cron_field(value: &str, field: &Field) -> Result<Vec<CronItem>, String> {
    let bad = |why: &str| Err(format!("cron {} field {value:?}: {why}", field.name));
    let whole = CronItem::Range {
        from: field.min,
        to: field.max,
        step: 1,
    };
    if value == "*" || (value == "?" && field.extra.contains('?')) {
        return Ok(vec![whole]);
    }
    let mut items = Vec::new();
    for item in value.split(',') {
        // Step: a/b or */b.
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        // Names stand for numbers (MON#1 is 2#1).
        let mut range = range.to_string();
        for (i, name) in field.names.iter().enumerate() {
            let upper = range.to_ascii_uppercase();
            if let Some(at) = upper.find(name) {
                range.replace_range(at..at + name.len(), &(i as u32 + field.min).to_string());
            }
        }
        let range = range.as_str();
        let step = match step {
            None => 1,
            Some(step) => match step.parse::<u32>() {
                Ok(s) if s > 0 => s,
                _ => return bad("the step after / must be a whole number above 0"),
            },
        };
        if range == "*" {
            items.push(CronItem::Range {
                from: field.min,
                to: field.max,
                step,
            });
            continue;
        }
        // Special forms: L, W, LW, nL, nW (day of month); nL, n#k (day of week).
        let special = field.extra.chars().any(|c| c != '?' && range.contains(c));
        if special {
            let digits: String = range.chars().filter(|c| c.is_ascii_digit()).collect();
            let letters: String = range.chars().filter(|c| !c.is_ascii_digit()).collect();
            let known = match field.name {
                "day-of-month" => matches!(letters.as_str(), "L" | "W" | "LW"),
                _ => matches!(letters.as_str(), "L" | "#"),
            };
            if !known {
                return bad("unsupported special character use");
            }
            let mut numbers = Vec::new();
            if !digits.is_empty() {
                for n in range
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|s| !s.is_empty())
                {
                    let n: u32 = n
                        .parse()
                        .map_err(|_| format!("cron {} field {value:?}: bad number", field.name))?;
                    if n > field.max.max(5) {
                        return bad("number out of range");
                    }
                    numbers.push(n);
                }
            }
            items.push(special_item(field.name, &letters, &numbers, item));
            continue;
        }
        let bounds: Vec<&str> = range.split('-').collect();
        if bounds.len() > 2 || bounds.iter().any(|b| b.is_empty()) {
            return bad("expected a number, a name or a range a-b");
        }
        let mut numbers = Vec::new();
        for b in &bounds {
            let n = match b.parse::<u32>() {
                Ok(n) => n,
                Err(_) => match field
                    .names
                    .iter()
                    .position(|name| name.eq_ignore_ascii_case(b))
                {
                    Some(i) => i as u32 + field.min,
                    None => return bad(&format!("{b:?} is not a number or a known name")),
                },
            };
            if n < field.min || n > field.max {
                return bad(&format!("{n} is outside {}-{}", field.min, field.max));
            }
            numbers.push(n);
        }
        if numbers.len() == 2 && numbers[0] > numbers[1] {
            return bad("a range must run from low to high");
        }
        let from = numbers[0];
        // `a/s` runs from a to the end of the field.
        let to = match numbers.get(1) {
            Some(&to) => to,
            None if step > 1 || item.contains('/') => field.max,
            None => from,
        };
        items.push(CronItem::Range { from, to, step });
    }
    Ok(items)
}

/// The special forms (`L`, `LW`, `nW`, `nL`, `n#k`) validation accepted.
fn special_item(field: &str, letters: &str, numbers: &[u32], raw: &str) -> CronItem {
    match (field, letters, numbers) {
        ("day-of-month", "L", []) => CronItem::LastDay,
        ("day-of-month", "LW", []) => CronItem::LastWeekday,
        ("day-of-month", "W", [n]) if *n >= 1 => CronItem::NearestWeekday(*n),
        // `L` alone in day-of-week is its last day, Saturday.
        ("day-of-week", "L", []) => CronItem::Range {
            from: 7,
            to: 7,
            step: 1,
        },
        ("day-of-week", "L", [day]) if (1..=7).contains(day) => CronItem::LastOfMonth(*day),
        ("day-of-week", "#", [day, k]) if (1..=7).contains(day) && (1..=5).contains(k) => {
            CronItem::Nth { day: *day, k: *k }
        }
        _ => CronItem::Other(raw.to_string()),
    }
}

/// Checks a time zone name: a canonical IANA zone such as `Europe/Berlin`,
/// as AWS (Joda-Time) accepts them. `UTC` is a link to `Etc/UTC` in the tz
/// database but the name AWS gives its own default, so both are accepted;
/// either means the same as no time zone.
pub fn validate_timezone(tz: &str) -> Result<(), String> {
    if tz == "UTC" {
        return Ok(());
    }
    if let Some(canonical) = canonical_zone_of_alias(tz) {
        return Err(format!(
            "{tz:?} is an alias the IANA time zone database keeps for backward \
             compatibility; AWS accepts only canonical names: use {canonical:?}"
        ));
    }
    chrono_tz::Tz::from_str(tz).map(|_| ()).map_err(|_| {
        format!("{tz:?} is not an IANA time zone name (for example Europe/Berlin or UTC)")
    })
}

/// The canonical zone an alias links to, if `tz` is an alias.
fn canonical_zone_of_alias(tz: &str) -> Option<&'static str> {
    LINKS
        .binary_search_by(|(alias, _)| (*alias).cmp(tz))
        .ok()
        .map(|i| LINKS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions() {
        for ok in [
            "cron(0 8 ? * MON-FRI *)",
            "cron(0 20 ? * MON-FRI *)",
            "cron(15 10 ? * 6L 2027-2030)",
            "cron(0/15 * * * ? *)",
            "cron(0 18 ? * MON#1 *)",
            "cron(0 12 L * ? *)",
            "cron(0 9 1,15 JAN,JUL ? *)",
            "cron(0 8 ? * * *)",
            "rate(1 hour)",
            "rate(5 minutes)",
            "rate(2 days)",
            "at(2027-03-01T08:00:00)",
        ] {
            assert_eq!(validate_schedule(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn invalid_expressions_say_why() {
        let cases = [
            ("0 8 * * *", "must be cron(...), rate(...) or at(...)"),
            ("cron(0 8 * * *)", "needs 6 fields"),
            (
                "cron(0 8 * * MON *)",
                "exactly one of day-of-month and day-of-week",
            ),
            (
                "cron(0 8 ? * ? *)",
                "exactly one of day-of-month and day-of-week",
            ),
            (
                "cron(60 8 ? * MON *)",
                "minutes field \"60\": 60 is outside 0-59",
            ),
            ("cron(0 25 ? * MON *)", "hours field"),
            ("cron(0 8 ? * FUNDAY *)", "not a number or a known name"),
            ("cron(0 8 ? * FRI-MON *)", "low to high"),
            ("cron(0/0 8 ? * MON *)", "step"),
            ("rate(0 minutes)", "above 0"),
            ("rate(5 minute)", "plural"),
            ("rate(1 hours)", "singular"),
            ("rate(5 weeks)", "minute(s), hour(s) or day(s)"),
            ("rate(five minutes)", "whole number"),
            ("at(2027-03-01 08:00:00)", "yyyy-mm-ddThh:mm:ss"),
            ("at(2027-02-30T08:00:00)", "yyyy-mm-ddThh:mm:ss"),
        ];
        for (expr, why) in cases {
            let err = validate_schedule(expr).expect_err(expr);
            assert!(err.contains(why), "{expr}: {err}");
        }
    }

    #[test]
    fn aliases_are_refused_with_their_canonical_zone() {
        for (alias, canonical) in [
            ("US/Eastern", "America/New_York"),
            ("Asia/Calcutta", "Asia/Kolkata"),
            ("Europe/Kiev", "Europe/Kyiv"),
            ("GB", "Europe/London"),
            ("Etc/UCT", "Etc/UTC"),
            ("GMT", "Etc/GMT"),
        ] {
            let err = validate_timezone(alias).unwrap_err();
            assert!(
                err.contains("alias") && err.contains(&format!("use {canonical:?}")),
                "{alias}: {err}"
            );
        }
        // UTC, Etc/UTC and no time zone all mean UTC.
        assert_eq!(validate_timezone("UTC"), Ok(()));
        assert_eq!(validate_timezone("Etc/UTC"), Ok(()));
    }

    #[test]
    fn the_alias_table_matches_the_zones_chrono_tz_knows() {
        assert!(LINKS.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique");
        for (alias, canonical) in LINKS {
            assert!(chrono_tz::Tz::from_str(alias).is_ok(), "{alias}");
            assert!(chrono_tz::Tz::from_str(canonical).is_ok(), "{canonical}");
            // Links point at zones, never at other links.
            assert_eq!(canonical_zone_of_alias(canonical), None, "{canonical}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(validate_timezone("Europe/Berlin").is_ok());
        assert!(validate_timezone("UTC").is_ok());
        assert!(validate_timezone("America/New_York").is_ok());
        assert!(validate_timezone("Etc/GMT+9").is_ok());
        assert!(validate_timezone("Pacific/Tahiti").is_ok());
        assert!(validate_timezone("Mars/Olympus")
            .unwrap_err()
            .contains("IANA"));
        assert!(validate_timezone("CEST+2").is_err());
    }
}
