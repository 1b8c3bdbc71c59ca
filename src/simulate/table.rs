//! The figures as a text table and as JSON, one column (one entry) per
//! simulated policy set.

use serde::Serialize;

use super::Figures;

/// The figures of one simulated set, named, as `--json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedFigures<'a> {
    pub name: &'a str,
    pub figures: &'a Figures,
}

/// The same columns as `render`, for scripts.
pub fn json(columns: &[(&str, &Figures)]) -> serde_json::Value {
    let sets: Vec<NamedFigures> = columns
        .iter()
        .map(|(name, figures)| NamedFigures { name, figures })
        .collect();
    serde_json::json!({ "sets": sets })
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn minutes(v: Option<usize>, none: &str) -> String {
    v.map_or_else(|| none.to_string(), |m| format!("{m} min"))
}

/// The rows of the table: a label and each column's value.
fn rows(f: &Figures) -> Vec<(&'static str, String)> {
    vec![
        ("minutes simulated", f.minutes.to_string()),
        ("invocations", number(f.invocations)),
        ("minutes above target", f.minutes_above_target.to_string()),
        (
            "minutes above capacity",
            f.minutes_above_capacity.to_string(),
        ),
        ("failed invocations", number(f.failed_invocations)),
        (
            "peak metric / target",
            f.peak_metric_over_target
                .map_or_else(|| "-".to_string(), |r| format!("{r:.2}")),
        ),
        ("scale-out events", f.scale_out_events.to_string()),
        ("scale-in events", f.scale_in_events.to_string()),
        ("scheduled actions run", f.scheduled_events.to_string()),
        ("peak instances in service", f.peak_in_service.to_string()),
        ("instance-hours", format!("{:.2}", f.instance_hours)),
        (
            "cost",
            f.cost
                .map_or_else(|| "-".to_string(), |c| format!("{c:.2}")),
        ),
        (
            "largest spike starts at minute",
            f.largest_spike_minute
                .map_or_else(|| "none".to_string(), |m| m.to_string()),
        ),
        (
            "largest spike: first scale-out after",
            minutes(f.minutes_to_react_to_largest_spike, "never"),
        ),
        (
            "largest spike: absorbed after",
            minutes(f.minutes_to_absorb_largest_spike, "not by the end"),
        ),
    ]
}

/// A table with a column per named set of figures.
pub fn render(columns: &[(&str, &Figures)]) -> String {
    let cells: Vec<Vec<(&str, String)>> = columns.iter().map(|(_, f)| rows(f)).collect();
    let labels: Vec<&str> = cells
        .first()
        .map(|c| c.iter().map(|(l, _)| *l).collect())
        .unwrap_or_default();
    let label_width = labels.iter().map(|l| l.len()).max().unwrap_or(0);
    let widths: Vec<usize> = columns
        .iter()
        .zip(&cells)
        .map(|((name, _), col)| {
            col.iter()
                .map(|(_, v)| v.len())
                .chain([name.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{:label_width$}", "");
    for ((name, _), w) in columns.iter().zip(&widths) {
        out.push_str(&format!("  {name:>w$}"));
    }
    out.push('\n');
    for (row, label) in labels.iter().enumerate() {
        out.push_str(&format!("{label:label_width$}"));
        for (col, w) in cells.iter().zip(&widths) {
            out.push_str(&format!("  {:>w$}", col[row].1));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::policy_set::PolicySet;
    use crate::simulate::{desired_for_variant, figures, simulate, Traffic, VariantParams};

    /// Two days from Monday 2026-01-12 00:00 UTC: diurnal traffic between
    /// about 20 and 220 a minute with 20 % noise from a fixed seed, and a
    /// 30-minute spike of 300 more on the second day.
    fn seeded_traffic() -> Traffic {
        let mut state: u64 = 7;
        let per_minute = (0..2 * 1440)
            .map(|m| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let day = f64::from(m % 1440) / 1440.0;
                let base = 120.0 + 100.0 * (std::f64::consts::TAU * (day - 0.25)).sin();
                let spike = if (2000..2030).contains(&m) {
                    300.0
                } else {
                    0.0
                };
                Some((base * (1.0 + 0.2 * noise) + spike).round())
            })
            .collect();
        Traffic {
            start_minute: 29_469_600,
            per_minute,
        }
    }

    fn params() -> VariantParams {
        VariantParams {
            instance_type: Some("ml.m5.xlarge".into()),
            start_count: 1,
            capacity_per_instance: 100.0,
            startup_minutes: 6,
            hourly_price: Some(0.23),
        }
    }

    fn figures_of(settings: &Settings) -> Figures {
        let desired = desired_for_variant(settings, "e", "v", &params()).unwrap();
        figures(
            &simulate(&desired, &params(), &seeded_traffic()).unwrap(),
            &params(),
        )
    }

    fn target_100() -> Settings {
        Settings {
            policy_set: PolicySet::from_json(
                r#"{"instance": {"min_capacity": 1, "max_capacity": 4, "target_tracking": [
                    {"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance",
                     "target_value": 100}]}}"#,
            )
            .unwrap(),
            ..Settings::default()
        }
    }

    #[test]
    fn golden_default_set_against_target_100_on_a_seeded_pattern() {
        let (default, hundred) = (figures_of(&Settings::default()), figures_of(&target_100()));
        let table = render(&[("default", &default), ("target 100", &hundred)]);
        assert_eq!(table, GOLDEN, "\n{table}");
    }

    const GOLDEN: &str = concat!(
        "                                      default  target 100\n",
        "minutes simulated                        2880        2880\n",
        "invocations                            354500      354500\n",
        "minutes above target                      302         269\n",
        "minutes above capacity                     30         269\n",
        "failed invocations                       3855        8083\n",
        "peak metric / target                     2.44        2.56\n",
        "scale-out events                           25          24\n",
        "scale-in events                            25          24\n",
        "scheduled actions run                       0           0\n",
        "peak instances in service                   4           4\n",
        "instance-hours                         105.05       82.75\n",
        "cost                                    24.16       19.03\n",
        "largest spike starts at minute           2000        2000\n",
        "largest spike: first scale-out after    3 min       3 min\n",
        "largest spike: absorbed after          30 min      30 min\n",
    );

    #[test]
    fn the_json_holds_the_table_s_figures_by_name() {
        let f = figures_of(&Settings::default());
        let value = json(&[("default", &f)]);
        assert_eq!(value["sets"][0]["name"], "default");
        let json_figures = &value["sets"][0]["figures"];
        assert_eq!(json_figures["scale_out_events"], f.scale_out_events);
        assert_eq!(json_figures["failed_invocations"], f.failed_invocations);
        assert_eq!(
            json_figures["minutes_to_react_to_largest_spike"],
            serde_json::to_value(f.minutes_to_react_to_largest_spike).unwrap()
        );
        assert_eq!(
            serde_json::from_value::<serde_json::Map<_, _>>(json_figures.clone())
                .unwrap()
                .len(),
            rows(&f).len(),
            "every figure of the table is in the JSON"
        );
    }
}
