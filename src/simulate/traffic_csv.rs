//! Per-minute invocations of one variant from a CSV file.
//!
//! The documented form is a header `timestamp,invocations` and one row per
//! minute: `2026-11-20T10:05:00Z,812`. Also read, so that a CloudWatch
//! console export (Download as .csv, period 1 minute) works unedited: any
//! header or label lines before the first row, quoted fields, a UTF-8
//! byte-order mark, CRLF line ends, rows newest first, times as RFC 3339, as
//! `YYYY-MM-DD HH:MM[:SS]` (UTC) or as epoch seconds or milliseconds, and an
//! empty value for a minute without a datapoint. Minutes not listed between
//! the first row and the last are missing, as in CloudWatch.
//!
//! Refused, with the line: a second value column (one variant per file), a
//! time not on a whole minute, rows further apart than one minute
//! throughout (an export at another period), a minute twice, a value that
//! is not a number of 0 or more, and a file without rows.

use chrono::{DateTime, NaiveDateTime};

use super::traffic::TrafficError;
use super::Traffic;

pub fn parse(name: &str, text: &str) -> Result<Traffic, TrafficError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bad = |line: usize, what: String| TrafficError(format!("{name}:{line}: {what}"));
    let mut rows: Vec<(i64, Option<f64>, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let fields: Vec<String> = line.split(',').map(unquote).collect();
        if fields.iter().all(String::is_empty) {
            continue;
        }
        let time = parse_time(&fields[0]);
        if rows.is_empty() && time.is_none() {
            // A header or label line before the data.
            continue;
        }
        let Some(seconds) = time else {
            return Err(bad(
                number,
                format!(
                    "timestamp {:?}: expected RFC 3339 (2026-11-20T10:05:00Z), \
                     YYYY-MM-DD HH:MM:SS (UTC) or epoch seconds",
                    fields[0]
                ),
            ));
        };
        let values: Vec<&String> = fields[1..].iter().filter(|f| !f.is_empty()).collect();
        if fields.len() > 2 && values.len() > 1 {
            return Err(bad(
                number,
                format!(
                    "{} value columns: one variant per file (timestamp,invocations)",
                    values.len()
                ),
            ));
        }
        if seconds % 60 != 0 {
            return Err(bad(
                number,
                format!(
                    "timestamp {:?} is not on a whole minute: export with a period of 1 minute",
                    fields[0]
                ),
            ));
        }
        let value = match values.first() {
            None => None,
            Some(v) => Some(
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        bad(
                            number,
                            format!("invocations {v:?}: expected a number, 0 or more"),
                        )
                    })?,
            ),
        };
        rows.push((seconds / 60, value, number));
    }
    if rows.is_empty() {
        return Err(TrafficError(format!(
            "{name}: no rows; expected a header timestamp,invocations and one row per minute"
        )));
    }
    rows.sort_by_key(|(minute, _, _)| *minute);
    let mut spacing = 0i64;
    for pair in rows.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        if gap == 0 {
            return Err(bad(
                pair[1].2.max(pair[0].2),
                format!(
                    "the minute {} is listed twice (also on line {})",
                    super::traffic::minute_label(pair[1].0),
                    pair[1].2.min(pair[0].2)
                ),
            ));
        }
        spacing = gcd(spacing, gap);
    }
    if spacing > 1 {
        return Err(TrafficError(format!(
            "{name}: every row is a multiple of {spacing} minutes from the others: \
             export with a period of 1 minute (per-minute invocations)"
        )));
    }
    let start = rows[0].0;
    let end = rows[rows.len() - 1].0 + 1;
    let points: Vec<(i64, Option<f64>)> = rows.iter().map(|(m, v, _)| (*m, *v)).collect();
    Traffic::from_minutes(start, end, &points)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn unquote(field: &str) -> String {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(f)
        .trim()
        .to_string()
}

/// Epoch seconds of a timestamp in one of the accepted forms.
fn parse_time(field: &str) -> Option<i64> {
    if !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = field.parse().ok()?;
        // 13 digits: milliseconds (console and SDK exports); else seconds.
        return Some(if field.len() >= 13 { n / 1000 } else { n });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(field) {
        return Some(t.timestamp());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(field, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_168_800 / 60; // 2026-11-20T10:00Z

    #[test]
    fn the_documented_form() {
        let t = parse(
            "t.csv",
            "timestamp,invocations\n2026-11-20T10:00:00Z,5\n2026-11-20T10:01:00Z,7.5\n2026-11-20T10:03:00Z,0\n",
        )
        .unwrap();
        assert_eq!(t.start_minute, T0);
        assert_eq!(t.per_minute, [Some(5.0), Some(7.5), None, Some(0.0)]);
    }

    #[test]
    fn a_console_style_export_with_labels_quotes_bom_crlf_and_newest_first() {
        let text = "\u{feff}\"Label\",\"demo-recommender primary Invocations\"\r\n\
                    \"Time\",\"Invocations Sum\"\r\n\
                    \"2026-11-20 10:02:00\",\"9\"\r\n\
                    \"2026-11-20 10:01:00\",\"\"\r\n\
                    \"2026-11-20 10:00:00\",\"3\"\r\n";
        let t = parse("export.csv", text).unwrap();
        assert_eq!(t.start_minute, T0);
        assert_eq!(t.per_minute, [Some(3.0), None, Some(9.0)]);
    }

    #[test]
    fn epoch_seconds_milliseconds_and_offsets() {
        let text =
            "timestamp,invocations\n1795168800,1\n1795168860000,2\n2026-11-20T12:02:00+02:00,3\n";
        let t = parse("t.csv", text).unwrap();
        assert_eq!(t.per_minute, [Some(1.0), Some(2.0), Some(3.0)]);
    }

    #[test]
    fn bad_input_names_the_line_the_value_and_what_was_expected() {
        for (text, says) in [
            ("timestamp,invocations\n", "t.csv: no rows; expected a header timestamp,invocations"),
            ("", "t.csv: no rows"),
            (
                "timestamp,invocations\n2026-11-20T10:00:00Z,1\nyesterday,2\n",
                "t.csv:3: timestamp \"yesterday\": expected RFC 3339",
            ),
            (
                "timestamp,invocations\n2026-11-20T10:00:00Z,many\n",
                "t.csv:2: invocations \"many\": expected a number, 0 or more",
            ),
            (
                "timestamp,invocations\n2026-11-20T10:00:00Z,-4\n",
                "t.csv:2: invocations \"-4\"",
            ),
            (
                "timestamp,a,b\n2026-11-20T10:00:00Z,1,2\n",
                "t.csv:2: 2 value columns: one variant per file",
            ),
            (
                "timestamp,invocations\n2026-11-20T10:00:30Z,1\n",
                "t.csv:2: timestamp \"2026-11-20T10:00:30Z\" is not on a whole minute",
            ),
            (
                "timestamp,invocations\n2026-11-20T10:00:00Z,1\n2026-11-20T10:01:00Z,1\n2026-11-20T10:00:00Z,2\n",
                "t.csv:4: the minute 2026-11-20T10:00Z is listed twice (also on line 2)",
            ),
            (
                "timestamp,invocations\n2026-11-20T10:00:00Z,1\n2026-11-20T10:05:00Z,1\n2026-11-20T10:15:00Z,2\n",
                "t.csv: every row is a multiple of 5 minutes from the others",
            ),
        ] {
            let err = parse("t.csv", text).unwrap_err().to_string();
            assert!(err.starts_with(says), "{text:?}: {err}");
        }
    }
}
