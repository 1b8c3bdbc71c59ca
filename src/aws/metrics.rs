//! A variant's `Invocations` history from CloudWatch `GetMetricData`: what
//! `simulate` replays. An operator's read (the command line), never the
//! function's.

use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime;

use super::paging::collect_pages;
use super::AwsError;
use crate::policy_set::{owner_dimensions, SAGEMAKER_NAMESPACE};
use crate::resource::Scaled;

/// Datapoints asked for per page: one day of minutes. AWS would send up to
/// 100,800 in one answer; a smaller page means a throttled or failed page
/// costs one day's worth of retry, and 15 days is still only 15 calls.
pub const PAGE_DATAPOINTS: i32 = 1440;

/// CloudWatch keeps one-minute datapoints for 15 days.
pub const MAX_DAYS: u32 = 15;

/// The query's id in the request and the answer (lower-case first letter,
/// as the model requires).
const QUERY_ID: &str = "invocations";
/// The per-variant metric a traffic history reads (its Sum a minute).
const INVOCATIONS: &str = "Invocations";

#[derive(Debug, Clone)]
pub struct Metrics {
    client: Client,
}

/// One minute's sum, keyed by the minute it starts (epoch seconds / 60).
pub type MinuteSum = (i64, f64);

impl Metrics {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The per-minute `Sum` of `AWS/SageMaker` `Invocations` for one variant
    /// over the minutes `[start_minute, end_minute)`, in time order. Minutes
    /// with no datapoint are simply absent: SageMaker publishes nothing for
    /// a minute without traffic.
    pub async fn invocations_per_minute(
        &self,
        endpoint: &str,
        variant: &str,
        start_minute: i64,
        end_minute: i64,
    ) -> Result<Vec<MinuteSum>, AwsError> {
        let query = MetricDataQuery::builder()
            .id(QUERY_ID)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(SAGEMAKER_NAMESPACE)
                            .metric_name(INVOCATIONS)
                            .set_dimensions(Some(
                                owner_dimensions(&Scaled::variant(endpoint, variant), INVOCATIONS)
                                    .into_iter()
                                    .map(|(name, value)| {
                                        Dimension::builder().name(name).value(value).build()
                                    })
                                    .collect(),
                            ))
                            .build(),
                    )
                    .period(60)
                    .stat("Sum")
                    .build(),
            )
            .return_data(true)
            .build();
        let mut points = collect_pages("GetMetricData", |token| {
            let req = self
                .client
                .get_metric_data()
                .metric_data_queries(query.clone())
                .start_time(DateTime::from_secs(start_minute * 60))
                .end_time(DateTime::from_secs(end_minute * 60))
                .scan_by(ScanBy::TimestampAscending)
                .max_datapoints(PAGE_DATAPOINTS)
                .set_next_token(token);
            async move {
                let out = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetMetricData", e))?;
                let mut page = Vec::new();
                for result in out.metric_data_results() {
                    if result.id() != Some(QUERY_ID) {
                        continue;
                    }
                    if let Some(status) = result.status_code() {
                        if matches!(status, StatusCode::Forbidden | StatusCode::InternalError) {
                            let why: Vec<&str> =
                                result.messages().iter().filter_map(|m| m.value()).collect();
                            return Err(AwsError {
                                operation: "GetMetricData".to_string(),
                                code: Some(status.as_str().to_string()),
                                message: format!(
                                    "the query for {endpoint}/{variant} answered {}: {}",
                                    status.as_str(),
                                    why.join("; ")
                                ),
                                retryable: matches!(status, StatusCode::InternalError),
                            });
                        }
                    }
                    let times = result.timestamps();
                    let values = result.values();
                    if times.len() != values.len() {
                        return Err(AwsError::incomplete(
                            "GetMetricData",
                            format!(
                                "{} timestamps but {} values in one answer",
                                times.len(),
                                values.len()
                            ),
                        ));
                    }
                    page.extend(
                        times
                            .iter()
                            .zip(values)
                            .map(|(t, v)| (t.secs().div_euclid(60), *v)),
                    );
                }
                Ok((page, out.next_token().map(str::to_string)))
            }
        })
        .await?;
        points.sort_by_key(|(minute, _)| *minute);
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::types::{MessageData, MetricDataResult};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn page(minutes: &[i64], status: StatusCode, next: Option<&str>) -> GetMetricDataOutput {
        let result = MetricDataResult::builder()
            .id(QUERY_ID)
            .set_timestamps(Some(
                minutes
                    .iter()
                    .map(|m| DateTime::from_secs(m * 60))
                    .collect(),
            ))
            .set_values(Some(minutes.iter().map(|m| *m as f64).collect()))
            .status_code(status)
            .build();
        GetMetricDataOutput::builder()
            .metric_data_results(result)
            .set_next_token(next.map(str::to_string))
            .build()
    }

    /// The local AWS pages too, but only a mock can answer pages out of time
    /// order or a query status other than Complete.
    #[tokio::test]
    async fn follows_next_token_and_returns_minutes_in_order() {
        let first = mock!(Client::get_metric_data)
            .match_requests(|r| {
                r.next_token().is_none()
                    && r.max_datapoints() == Some(PAGE_DATAPOINTS)
                    && r.scan_by() == Some(&ScanBy::TimestampAscending)
                    && r.start_time().map(|t| t.secs()) == Some(600)
                    && r.end_time().map(|t| t.secs()) == Some(1200)
            })
            .then_output(|| page(&[12, 10], StatusCode::PartialData, Some("p2")));
        let second = mock!(Client::get_metric_data)
            .match_requests(|r| r.next_token() == Some("p2"))
            .then_output(|| page(&[11], StatusCode::Complete, None));
        let metrics = Metrics::new(mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::Sequential,
            [&first, &second]
        ));
        let points = metrics
            .invocations_per_minute("e", "v", 10, 20)
            .await
            .unwrap();
        assert_eq!(points, [(10, 10.0), (11, 11.0), (12, 12.0)]);
    }

    #[tokio::test]
    async fn a_forbidden_query_is_an_error_not_an_empty_history() {
        let forbidden = mock!(Client::get_metric_data).then_output(|| {
            let result = MetricDataResult::builder()
                .id(QUERY_ID)
                .status_code(StatusCode::Forbidden)
                .messages(
                    MessageData::builder()
                        .code("Forbidden")
                        .value("no access to AWS/SageMaker")
                        .build(),
                )
                .build();
            GetMetricDataOutput::builder()
                .metric_data_results(result)
                .build()
        });
        let metrics = Metrics::new(mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::MatchAny,
            [&forbidden]
        ));
        let err = metrics
            .invocations_per_minute("e", "v", 10, 20)
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("Forbidden"));
        assert!(err.message.contains("no access to AWS/SageMaker"), "{err}");
    }
}
