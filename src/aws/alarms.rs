//! The CloudWatch alarms that drive step-scaling policies. Only alarms whose
//! names start with the owned prefix are ever read, written or deleted.

use aws_sdk_cloudwatch::types::{Dimension, MetricAlarm};
use aws_sdk_cloudwatch::Client;

use super::paging::collect_pages;
use super::{already_gone_is_done, AwsError};
use crate::domain::desired::DesiredAlarm;
use crate::domain::plan::AlarmAction;
use crate::domain::snapshot::ObservedAlarm;

/// DescribeAlarms returns at most 100 alarms a page.
pub const ALARM_PAGE: i32 = 100;

#[derive(Debug, Clone)]
pub struct Alarms {
    client: Client,
}

pub fn to_alarm(a: &MetricAlarm) -> ObservedAlarm {
    let mut dimensions: Vec<(String, String)> = a
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_string(),
                d.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    dimensions.sort();
    ObservedAlarm {
        name: a.alarm_name().unwrap_or_default().to_string(),
        namespace: a.namespace().map(str::to_string),
        metric_name: a.metric_name().map(str::to_string),
        dimensions,
        statistic: a.statistic().cloned(),
        period: a.period(),
        evaluation_periods: a.evaluation_periods(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        threshold: a.threshold(),
        comparison: a.comparison_operator().cloned(),
        treat_missing_data: a.treat_missing_data().map(str::to_string),
        actions: a.alarm_actions().to_vec(),
    }
}

/// The alarm as CloudWatch holds it once `put` has written it: the one
/// place the desired alarm becomes CloudWatch's.
pub fn as_stored(alarm: &DesiredAlarm, policy_arn: &str) -> MetricAlarm {
    MetricAlarm::builder()
        .alarm_name(&alarm.name)
        .alarm_description(
            "Drives an autoscaling-guard step-scaling policy; managed by autoscaling-guard.",
        )
        .namespace(&alarm.namespace)
        .metric_name(&alarm.metric_name)
        .statistic(alarm.statistic.clone())
        .period(alarm.period)
        .evaluation_periods(alarm.evaluation_periods)
        .set_datapoints_to_alarm(alarm.datapoints_to_alarm)
        .threshold(alarm.threshold)
        .comparison_operator(alarm.comparison.clone())
        .treat_missing_data(alarm.treat_missing_data.as_str())
        .actions_enabled(true)
        .alarm_actions(policy_arn)
        .set_dimensions((!alarm.dimensions.is_empty()).then(|| {
            alarm
                .dimensions
                .iter()
                .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                .collect()
        }))
        .build()
}

impl Alarms {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Every metric alarm whose name starts with `prefix`.
    pub async fn with_prefix(&self, prefix: &str) -> Result<Vec<ObservedAlarm>, AwsError> {
        collect_pages("DescribeAlarms", |token| {
            let req = self
                .client
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .max_records(ALARM_PAGE)
                .set_next_token(token);
            async move {
                let out = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeAlarms", e))?;
                let items = out.metric_alarms().iter().map(to_alarm).collect::<Vec<_>>();
                Ok((items, out.next_token().map(str::to_string)))
            }
        })
        .await
    }

    /// Applies one alarm write. A PutAlarm must carry its policy's ARN: the
    /// observed one, or the one its PutScalingPolicy returned (see
    /// `reconcile`), never one read back after the write.
    pub async fn apply(&self, action: &AlarmAction) -> Result<(), AwsError> {
        match action {
            AlarmAction::PutAlarm {
                policy_name,
                policy_arn,
                alarm,
            } => {
                let arn = policy_arn.as_deref().ok_or_else(|| AwsError {
                    operation: "PutMetricAlarm".into(),
                    code: None,
                    message: format!(
                        "alarm {} has no policy to act on: {policy_name} was not put before it",
                        alarm.name
                    ),
                    retryable: false,
                })?;
                self.put(alarm, arn).await
            }
            AlarmAction::DeleteAlarm { alarm_name } => self.delete(alarm_name).await,
        }
    }

    /// Creates or replaces an alarm whose one action is `policy_arn`.
    async fn put(&self, alarm: &DesiredAlarm, policy_arn: &str) -> Result<(), AwsError> {
        let a = as_stored(alarm, policy_arn);
        self.client
            .put_metric_alarm()
            .set_alarm_name(a.alarm_name)
            .set_alarm_description(a.alarm_description)
            .set_namespace(a.namespace)
            .set_metric_name(a.metric_name)
            .set_statistic(a.statistic)
            .set_period(a.period)
            .set_evaluation_periods(a.evaluation_periods)
            .set_datapoints_to_alarm(a.datapoints_to_alarm)
            .set_threshold(a.threshold)
            .set_comparison_operator(a.comparison_operator)
            .set_treat_missing_data(a.treat_missing_data)
            .set_actions_enabled(a.actions_enabled)
            .set_alarm_actions(a.alarm_actions)
            .set_dimensions(a.dimensions)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutMetricAlarm", e))?;
        Ok(())
    }

    /// Deletes an alarm; one that is already gone is what was wanted.
    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteAlarms", e));
        // AWS reports success for a missing name, but the model lists
        // ResourceNotFound for DeleteAlarms: either way it is gone.
        already_gone_is_done(result, &ALARM_NOT_FOUND)
    }
}

/// The codes CloudWatch uses for a resource that does not exist.
const ALARM_NOT_FOUND: [&str; 2] = ["ResourceNotFound", "ResourceNotFoundException"];

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::delete_alarms::DeleteAlarmsOutput;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    /// A Query-protocol error document as CloudWatch sends it.
    fn error_response(status: u16, code: &str) -> Response {
        let body = format!(
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>no such alarm</Message></Error>\
             <RequestId>1</RequestId></ErrorResponse>"
        );
        Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
    }

    #[tokio::test]
    async fn deleting_an_alarm_that_is_gone_is_done() {
        for code in ALARM_NOT_FOUND {
            let gone = mock!(Client::delete_alarms)
                .match_requests(|r| r.alarm_names() == ["autoscaling-guard-e/v/burst"])
                .then_http_response(move || error_response(404, code));
            let alarms = Alarms::new(mock_client!(
                aws_sdk_cloudwatch,
                RuleMode::MatchAny,
                [&gone]
            ));
            assert_eq!(
                alarms.delete("autoscaling-guard-e/v/burst").await,
                Ok(()),
                "{code}"
            );
            assert_eq!(gone.num_calls(), 1);
        }
    }

    #[tokio::test]
    async fn other_delete_failures_are_reported() {
        let denied =
            mock!(Client::delete_alarms).then_http_response(|| error_response(403, "AccessDenied"));
        let deleted =
            mock!(Client::delete_alarms).then_output(|| DeleteAlarmsOutput::builder().build());
        let alarms = Alarms::new(mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::Sequential,
            [&denied, &deleted]
        ));
        let err = alarms
            .delete("autoscaling-guard-e/v/burst")
            .await
            .unwrap_err();
        assert_eq!(
            (err.operation.as_str(), err.code.as_deref()),
            ("DeleteAlarms", Some("AccessDenied"))
        );
        assert_eq!(alarms.delete("autoscaling-guard-e/v/burst").await, Ok(()));
    }
}
