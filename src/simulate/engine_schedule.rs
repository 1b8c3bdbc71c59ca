//! When scheduled actions fire: the schedule expressions validation reads
//! (`policy_set::schedule`), matched minute by minute in the action's time
//! zone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Weekday};

use super::engine_model::Scheduled;
use crate::policy_set::schedule::{Cron, CronItem, Schedule};

/// The minutes in `[from, to)` (minutes since the epoch) at which the
/// actions fire, as (minute, index of the action), in order. `first` is the
/// first simulated minute: `rate(...)` schedules count from it, as an action
/// created then would.
pub(super) fn firings(actions: &[Scheduled], from: i64, to: i64, first: i64) -> Vec<(i64, usize)> {
    let mut due = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        match &action.schedule {
            Schedule::Rate { minutes } => {
                let periods = ((from - first).max(0) + minutes - 1) / minutes;
                let start = first + periods * minutes;
                let every = usize::try_from(*minutes).unwrap_or(usize::MAX);
                due.extend((start..to).step_by(every).map(|m| (m, i)));
            }
            Schedule::At(at) => {
                let at = at.with_second(0);
                scan(action, from, to, |t| Some(*t) == at, |m| due.push((m, i)));
            }
            Schedule::Cron(cron) => {
                scan(
                    action,
                    from,
                    to,
                    |t| cron_matches(cron, t),
                    |m| due.push((m, i)),
                );
            }
        }
    }
    due.sort_unstable();
    due
}

/// Every minute of `[from, to)` whose wall-clock time in the action's time
/// zone `matches`. Local times that a daylight-saving change skips never
/// occur; those it repeats occur twice.
fn scan(
    action: &Scheduled,
    from: i64,
    to: i64,
    matches: impl Fn(&NaiveDateTime) -> bool,
    mut found: impl FnMut(i64),
) {
    let offset = |minute: i64| -> Option<i64> {
        let utc = DateTime::from_timestamp(minute.checked_mul(60)?, 0)?.naive_utc();
        Some(i64::from(
            action
                .zone
                .offset_from_utc_datetime(&utc)
                .fix()
                .local_minus_utc(),
        ))
    };
    let mut hour = from.div_euclid(60) * 60;
    while hour < to {
        // Offsets change at most once an hour: an hour that starts and ends
        // on one offset has it throughout, and is looked up twice, not 60
        // times.
        let start = offset(hour);
        let whole_hour = start == offset(hour + 60);
        for minute in hour.max(from)..(hour + 60).min(to) {
            let seconds = if whole_hour { start } else { offset(minute) };
            let local = seconds
                .and_then(|s| DateTime::from_timestamp(minute * 60 + s, 0))
                .map(|t| t.naive_utc());
            if local.is_some_and(|t| matches(&t)) {
                found(minute);
            }
        }
        hour += 60;
    }
}

fn cron_matches(cron: &Cron, t: &NaiveDateTime) -> bool {
    let [minutes, hours, dom, month, dow, year] = &cron.fields;
    let date = t.date();
    let plain = |items: &[CronItem], value: u32| items.iter().any(|i| in_range(i, value));
    plain(minutes, t.minute())
        && plain(hours, t.hour())
        && plain(month, date.month())
        && u32::try_from(date.year()).is_ok_and(|y| plain(year, y))
        && dom.iter().any(|i| day_of_month_matches(i, date))
        && dow.iter().any(|i| day_of_week_matches(i, date))
}

fn in_range(item: &CronItem, value: u32) -> bool {
    match *item {
        CronItem::Range { from, to, step } => {
            value >= from && value <= to && (value - from).is_multiple_of(step)
        }
        _ => false,
    }
}

fn last_day(date: NaiveDate) -> u32 {
    let (y, m) = (date.year(), date.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).map_or(28, |d| d.day())
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The weekday of the month nearest day `n` (never crossing into another
/// month), as the cron `W` form defines it.
fn nearest_weekday(date: NaiveDate, n: u32) -> Option<u32> {
    let day = n.min(last_day(date));
    let target = date.with_day(day)?;
    Some(match target.weekday() {
        Weekday::Sat if day == 1 => 3,
        Weekday::Sat => day - 1,
        Weekday::Sun if day == last_day(date) => day - 2,
        Weekday::Sun => day + 1,
        _ => day,
    })
}

fn day_of_month_matches(item: &CronItem, date: NaiveDate) -> bool {
    let day = date.day();
    match *item {
        CronItem::Range { .. } => in_range(item, day),
        CronItem::LastDay => day == last_day(date),
        CronItem::LastWeekday => {
            is_weekday(date)
                && (day + 1..=last_day(date))
                    .all(|d| date.with_day(d).is_some_and(|d| !is_weekday(d)))
        }
        CronItem::NearestWeekday(n) => nearest_weekday(date, n) == Some(day),
        _ => false,
    }
}

fn day_of_week_matches(item: &CronItem, date: NaiveDate) -> bool {
    let weekday = date.weekday().number_from_sunday();
    match *item {
        CronItem::Range { .. } => in_range(item, weekday),
        CronItem::LastOfMonth(d) => weekday == d && date.day() + 7 > last_day(date),
        CronItem::Nth { day, k } => weekday == day && (date.day() - 1) / 7 + 1 == k,
        _ => false,
    }
}

/// The forms the simulation cannot place in time, named for the error.
pub(super) fn unsupported_form(schedule: &Schedule) -> Option<&str> {
    match schedule {
        Schedule::Cron(cron) => cron.fields.iter().flatten().find_map(|i| match i {
            CronItem::Other(raw) => Some(raw.as_str()),
            _ => None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy_set::schedule::parse_schedule;

    fn fires(action: &Scheduled, minute: i64, first: i64) -> bool {
        firings(std::slice::from_ref(action), minute, minute + 1, first) == [(minute, 0)]
    }

    fn action(expr: &str, zone: &str) -> Scheduled {
        Scheduled {
            name: "a".into(),
            schedule: parse_schedule(expr).unwrap(),
            zone: zone.parse().unwrap(),
            min: Some(2),
            max: None,
        }
    }

    fn minute(utc: &str) -> i64 {
        NaiveDateTime::parse_from_str(utc, "%Y-%m-%dT%H:%M")
            .unwrap()
            .and_utc()
            .timestamp()
            / 60
    }

    #[test]
    fn cron_fires_at_the_local_minute_of_its_time_zone() {
        // 08:00 in Berlin is 07:00 UTC in winter and 06:00 UTC in summer.
        let a = action("cron(0 8 ? * MON-FRI *)", "Europe/Berlin");
        assert!(fires(&a, minute("2026-01-12T07:00"), 0)); // a Monday
        assert!(!fires(&a, minute("2026-01-12T08:00"), 0));
        assert!(fires(&a, minute("2026-07-13T06:00"), 0));
        // Saturday.
        assert!(!fires(&a, minute("2026-01-17T07:00"), 0));
    }

    #[test]
    fn special_day_forms() {
        // Last day of February 2026 is the 28th; its last Friday the 27th;
        // its first Monday the 2nd.
        let last = action("cron(0 0 L * ? *)", "UTC");
        assert!(fires(&last, minute("2026-02-28T00:00"), 0));
        assert!(!fires(&last, minute("2026-02-27T00:00"), 0));
        let last_friday = action("cron(0 0 ? * 6L *)", "UTC");
        assert!(fires(&last_friday, minute("2026-02-27T00:00"), 0));
        assert!(!fires(&last_friday, minute("2026-02-20T00:00"), 0));
        let first_monday = action("cron(0 0 ? * MON#1 *)", "UTC");
        assert!(fires(&first_monday, minute("2026-02-02T00:00"), 0));
        assert!(!fires(&first_monday, minute("2026-02-09T00:00"), 0));
        // The 1st of August 2026 is a Saturday: 1W is Monday the 3rd.
        let nearest = action("cron(0 0 1W * ? *)", "UTC");
        assert!(fires(&nearest, minute("2026-08-03T00:00"), 0));
        assert!(!fires(&nearest, minute("2026-08-01T00:00"), 0));
        // LW: the last weekday of May 2026 is Friday the 29th.
        let lw = action("cron(0 0 LW * ? *)", "UTC");
        assert!(fires(&lw, minute("2026-05-29T00:00"), 0));
        assert!(!fires(&lw, minute("2026-05-31T00:00"), 0));
    }

    #[test]
    fn steps_rates_and_one_time_actions() {
        let every_quarter = action("cron(0/15 * * * ? *)", "UTC");
        assert!(fires(&every_quarter, minute("2026-02-02T10:45"), 0));
        assert!(!fires(&every_quarter, minute("2026-02-02T10:50"), 0));
        let rate = action("rate(2 hours)", "UTC");
        assert_eq!(
            firings(std::slice::from_ref(&rate), 900, 1400, 1000),
            [(1000, 0), (1120, 0), (1240, 0), (1360, 0)]
        );
        assert!(fires(&rate, 1000, 1000));
        assert!(fires(&rate, 1120, 1000));
        assert!(!fires(&rate, 1060, 1000));
        assert!(!fires(&rate, 880, 1000));
        let at = action("at(2026-03-01T08:30:00)", "America/New_York");
        assert!(fires(&at, minute("2026-03-01T13:30"), 0));
        assert!(!fires(&at, minute("2026-03-01T08:30"), 0));
    }

    #[test]
    fn daylight_saving_changes_skip_and_repeat_local_times() {
        // Berlin, 2026-03-29: 02:00 local becomes 03:00 (at 01:00 UTC);
        // 2026-10-25: 03:00 local becomes 02:00 again (at 01:00 UTC).
        let at_0230 = action("cron(30 2 * * ? *)", "Europe/Berlin");
        let list = |from: &str, to: &str| {
            firings(std::slice::from_ref(&at_0230), minute(from), minute(to), 0)
                .into_iter()
                .map(|(m, _)| m)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            list("2026-03-28T00:00", "2026-03-30T12:00"),
            [minute("2026-03-28T01:30"), minute("2026-03-30T00:30")]
        );
        assert_eq!(
            list("2026-10-25T00:00", "2026-10-25T12:00"),
            [minute("2026-10-25T00:30"), minute("2026-10-25T01:30")]
        );
    }
}
