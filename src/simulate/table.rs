//! The figures as a text table, one column per simulated policy set.

use super::Figures;

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
