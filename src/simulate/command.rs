//! `autoscaling-guard simulate`: replays traffic through one or two policy
//! sets and prints the figures (a table, or JSON), optionally drawing the
//! chart.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use super::svg::{self, Run};
use super::traffic::{minute_label, TrafficError, TrafficSource};
use super::{
    desired_for_variant, desired_in, figures, simulate, table, traffic_csv, traffic_synthetic,
    Figures, SimulateError, Timeline, Traffic, VariantParams,
};
use crate::aws::metrics::Metrics;
use crate::aws::sagemaker::SageMakerEndpoints;
use crate::aws::Clients;
use crate::config::Settings;
use crate::domain::desired::DesiredScaling;
use crate::domain::snapshot::EndpointSnapshot;
use crate::org::place::RegionName;
use crate::policy_set::PolicySet;

/// Minutes a new instance takes to serve when `--startup-minutes` is not
/// given. AWS publishes no figure; launching an instance, pulling the
/// container image and loading the model take minutes, and a pessimistic
/// default shows failures a real endpoint might not have rather than hide
/// ones it would. Measure yours: the `StartTime` to `EndTime` of a
/// scale-out in `aws application-autoscaling describe-scaling-activities`.
pub const DEFAULT_STARTUP_MINUTES: u32 = 10;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The traffic: a CSV file (timestamp,invocations), synthetic:NAME[?k=v&...]
    /// (diurnal, spike, ramp, step) or cloudwatch:ENDPOINT/VARIANT[?days=N].
    #[arg(long, value_name = "SOURCE")]
    traffic: String,
    /// A second policy set document, simulated on the same traffic and
    /// shown beside the first.
    #[arg(long, value_name = "FILE")]
    compare: Option<PathBuf>,
    /// Write the chart here (SVG).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Invocations per minute one instance serves before requests fail
    /// (from a load test or Inference Recommender). Never guessed.
    #[arg(long, value_name = "N", required = true)]
    capacity_per_instance: f64,
    /// The variant's instance type (default: SageMaker's, for a CloudWatch
    /// source; required otherwise).
    #[arg(long, value_name = "TYPE")]
    instance_type: Option<String>,
    /// Instances in service when the traffic starts (default: the variant's
    /// current count for a CloudWatch source, else the first set's minimum).
    #[arg(long, value_name = "N")]
    start_count: Option<i32>,
    /// Minutes from a capacity increase to the new instances serving.
    #[arg(long, value_name = "MINUTES", default_value_t = DEFAULT_STARTUP_MINUTES)]
    startup_minutes: u32,
    /// Price of one instance-hour, to turn instance-hours into cost.
    #[arg(long, value_name = "PRICE")]
    hourly_price: Option<f64>,
}

/// The endpoint and variant names the desired state of a CSV or synthetic
/// source is computed for (they only name things; no AWS call is made).
const OFFLINE_ENDPOINT: &str = "simulated";
const OFFLINE_VARIANT: &str = "AllTraffic";

/// A failure and the exit status it gets: 2 bad input, 1 an AWS failure.
struct Failure(u8, String);

/// A simulation that cannot run: a bad parameter is named as its flag.
fn refused(set: &str, e: SimulateError) -> Failure {
    match e {
        SimulateError::BadParam {
            field,
            value,
            expected,
        } => Failure(
            2,
            format!("--{} {value}: expected {expected}", field.replace('_', "-")),
        ),
        other => Failure(2, format!("{set}: {other}")),
    }
}

impl From<TrafficError> for Failure {
    fn from(e: TrafficError) -> Self {
        Failure(2, e.0)
    }
}

/// Runs `simulate`; `settings` carry the first policy set (`--policy` or the
/// environment's), named `label`.
pub async fn run(
    args: SimulateArgs,
    settings: Settings,
    label: &str,
    region: Option<RegionName>,
) -> ExitCode {
    match execute(args, settings, label, region).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// What the traffic source gave: the traffic, and for a real variant its
/// endpoint as observed.
struct Loaded {
    traffic: Traffic,
    endpoint: Option<Observed>,
}

/// One policy set's result.
struct Outcome {
    name: String,
    timeline: Timeline,
    figures: Figures,
}

async fn execute(
    args: SimulateArgs,
    settings: Settings,
    label: &str,
    region: Option<RegionName>,
) -> Result<(), Failure> {
    let source = TrafficSource::parse(&args.traffic)?;
    let mut sets = vec![(label.to_string(), settings.clone())];
    if let Some(path) = &args.compare {
        let mut other = settings;
        other.policy_set = read_set(path)?;
        sets.push((path.display().to_string(), other));
    }
    if !matches!(source, TrafficSource::CloudWatch { .. }) && args.instance_type.is_none() {
        return Err(Failure(
            2,
            format!(
                "--instance-type: required with {source} (the policy set's scaling depends \
                 on it; only a cloudwatch: source reads it from SageMaker), e.g. ml.c5.xlarge"
            ),
        ));
    }
    let loaded = load(&source, region).await?;
    let (params, endpoint) = starting_point(&args, loaded.endpoint, &sets[0])?;
    let mut outcomes = Vec::new();
    for (name, settings) in &sets {
        let refuse = |e| refused(name, e);
        let desired = desired(settings, &params, endpoint.as_ref()).map_err(refuse)?;
        let timeline = simulate(&desired, &params, &loaded.traffic).map_err(refuse)?;
        outcomes.push(Outcome {
            name: name.clone(),
            figures: figures(&timeline, &params),
            timeline,
        });
    }
    if let Some(path) = &args.out {
        let drawn: Vec<Run> = outcomes
            .iter()
            .map(|o| Run {
                label: &o.name,
                timeline: &o.timeline,
                params: &params,
            })
            .collect();
        let chart = svg::chart(
            "autoscaling-guard simulate",
            &source.to_string(),
            loaded.traffic.start_minute,
            &drawn,
        );
        std::fs::write(path, chart)
            .map_err(|e| Failure(1, format!("--out {}: cannot write: {e}", path.display())))?;
    }
    if args.json {
        print_json(
            &source,
            &loaded.traffic,
            &params,
            &outcomes,
            args.out.as_deref(),
        );
    } else {
        print_table(
            &source,
            &loaded.traffic,
            &params,
            &outcomes,
            args.out.as_deref(),
        );
    }
    Ok(())
}

/// The endpoint as observed, with the variant the traffic is of.
type Observed = (EndpointSnapshot, String);

/// The variant's parameters, the defaults filled in, and for a real variant
/// its endpoint set to start from them.
fn starting_point(
    args: &SimulateArgs,
    mut endpoint: Option<Observed>,
    (first_name, first): &(String, Settings),
) -> Result<(VariantParams, Option<Observed>), Failure> {
    let mut params = VariantParams {
        instance_type: args.instance_type.clone(),
        start_count: args.start_count.unwrap_or(1),
        capacity_per_instance: args.capacity_per_instance,
        startup_minutes: args.startup_minutes,
        hourly_price: args.hourly_price,
    };
    match &mut endpoint {
        Some((snapshot, variant)) => {
            let observed = snapshot
                .variants
                .iter_mut()
                .find(|v| &v.name == variant)
                .expect("the source found the variant");
            if params.instance_type.is_none() {
                params.instance_type = observed.instance_type.clone();
            }
            params.start_count = args
                .start_count
                .or(observed.current_instance_count)
                .unwrap_or(1);
            // The simulation starts from the given type and count, so the
            // desired state is computed from them too.
            observed.instance_type = params.instance_type.clone();
            observed.current_instance_count = Some(params.start_count);
            observed.desired_instance_count = Some(params.start_count);
        }
        None if args.start_count.is_none() => {
            // The first set's minimum: what a newly registered variant has.
            params.start_count = desired(first, &params, None)
                .map_err(|e| refused(first_name, e))?
                .min_capacity;
        }
        None => {}
    }
    Ok((params, endpoint))
}

/// The set's desired scaling for the variant: of the endpoint as observed,
/// or of a variant of the given type for a CSV or synthetic source.
fn desired(
    settings: &Settings,
    params: &VariantParams,
    endpoint: Option<&Observed>,
) -> Result<DesiredScaling, SimulateError> {
    match endpoint {
        Some((snapshot, variant)) => desired_in(snapshot, variant, settings),
        None => desired_for_variant(settings, OFFLINE_ENDPOINT, OFFLINE_VARIANT, params),
    }
}

fn print_json(
    source: &TrafficSource,
    traffic: &Traffic,
    params: &VariantParams,
    outcomes: &[Outcome],
    chart: Option<&Path>,
) {
    let missing = traffic.missing();
    let value = json!({
        "traffic": {
            "source": source.to_string(),
            "start": minute_label(traffic.start_minute),
            "minutes": missing.total,
            "missing_minutes": missing.count(),
            "gaps": missing.runs.iter().map(|(start, len)| json!({
                "start": minute_label(*start), "minutes": len
            })).collect::<Vec<_>>(),
        },
        "params": params,
        "sets": outcomes.iter().map(|o| json!({
            "policy_set": o.name, "figures": o.figures
        })).collect::<Vec<_>>(),
        "chart": chart.map(|p| p.display().to_string()),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&value).expect("figures serialize")
    );
}

fn print_table(
    source: &TrafficSource,
    traffic: &Traffic,
    params: &VariantParams,
    outcomes: &[Outcome],
    chart: Option<&Path>,
) {
    let missing = traffic.missing();
    println!(
        "traffic: {source}, {} minutes from {}",
        missing.total,
        minute_label(traffic.start_minute)
    );
    if missing.count() > 0 {
        println!("missing: {missing}");
    }
    println!(
        "variant: {} x {} at the start, {} invocations per minute per instance, \
         start-up {} min{}",
        params.instance_type.as_deref().unwrap_or("?"),
        params.start_count,
        params.capacity_per_instance,
        params.startup_minutes,
        params
            .hourly_price
            .map(|p| format!(", {p} per instance-hour"))
            .unwrap_or_default()
    );
    println!();
    let columns: Vec<(&str, &Figures)> = outcomes
        .iter()
        .map(|o| (o.name.as_str(), &o.figures))
        .collect();
    println!("{}", table::render(&columns).trim_end());
    if let Some(path) = chart {
        println!("\nchart: {}", path.display());
    }
}

fn read_set(path: &Path) -> Result<PolicySet, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(2, format!("--compare: cannot read {}: {e}", path.display())))?;
    PolicySet::from_json(&text)
        .map_err(|e| Failure(2, format!("--compare {}: {e}", path.display())))
}

async fn load(source: &TrafficSource, region: Option<RegionName>) -> Result<Loaded, Failure> {
    Ok(match source {
        TrafficSource::Csv(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure(2, format!("--traffic: cannot read {}: {e}", path.display()))
            })?;
            Loaded {
                traffic: traffic_csv::parse(&path.display().to_string(), &text)?,
                endpoint: None,
            }
        }
        TrafficSource::Synthetic(synthetic) => Loaded {
            traffic: traffic_synthetic::Synthetic::generate(synthetic),
            endpoint: None,
        },
        TrafficSource::CloudWatch {
            endpoint,
            variant,
            days,
        } => {
            let mut config = crate::aws::sdk_config_from_env().await;
            if let Some(region) = region {
                config = region.config(&config);
            }
            let clients = Clients::new(&config);
            let now_minute = chrono::Utc::now().timestamp().div_euclid(60);
            let history = super::traffic_cloudwatch::read(
                &SageMakerEndpoints::new(clients.sagemaker.clone()),
                &Metrics::new(clients.cloudwatch.clone()),
                endpoint,
                variant,
                *days,
                now_minute,
            )
            .await
            .map_err(|e| Failure(1, e.0))?;
            Loaded {
                traffic: history.traffic,
                endpoint: Some((history.endpoint, variant.clone())),
            }
        }
    })
}
