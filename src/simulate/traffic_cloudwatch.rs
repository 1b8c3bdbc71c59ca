//! `cloudwatch:ENDPOINT/VARIANT[?days=N]`: the variant's real traffic, and
//! its instance type and current count from SageMaker, with the same
//! credentials chain as every other command.

use super::traffic::TrafficError;
use super::Traffic;
use crate::aws::metrics::Metrics;
use crate::aws::sagemaker::SageMakerEndpoints;
use crate::domain::snapshot::EndpointSnapshot;

/// A variant's history, and its endpoint as SageMaker describes it now
/// (the variant's type and count, the endpoint's tags).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub traffic: Traffic,
    pub endpoint: EndpointSnapshot,
}

/// Reads the `days` whole days of minutes before `now_minute` (the minute
/// in progress is left out: it is not complete yet).
pub async fn read(
    endpoints: &SageMakerEndpoints,
    metrics: &Metrics,
    endpoint: &str,
    variant: &str,
    days: u32,
    now_minute: i64,
) -> Result<History, TrafficError> {
    let source = format!("cloudwatch:{endpoint}/{variant}");
    let snapshot = endpoints
        .describe(endpoint)
        .await
        .map_err(|e| TrafficError(format!("{source}: {e}")))?
        .ok_or_else(|| {
            TrafficError(format!(
                "{source}: no endpoint {endpoint:?} in this account and Region"
            ))
        })?;
    if !snapshot.variants.iter().any(|v| v.name == variant) {
        return Err({
            let names: Vec<&str> = snapshot.variants.iter().map(|v| v.name.as_str()).collect();
            TrafficError(format!(
                "{source}: endpoint {endpoint:?} has no variant {variant:?} (it has {})",
                names.join(", ")
            ))
        });
    }
    let start = now_minute - i64::from(days) * 1440;
    let points = metrics
        .invocations_per_minute(endpoint, variant, start, now_minute)
        .await
        .map_err(|e| TrafficError(format!("{source}: {e}")))?;
    let points: Vec<(i64, Option<f64>)> = points.into_iter().map(|(m, v)| (m, Some(v))).collect();
    let traffic = Traffic::from_minutes(start, now_minute, &points)
        .map_err(|e| TrafficError(format!("{source}: {e}")))?;
    Ok(History {
        traffic,
        endpoint: snapshot,
    })
}
