//! The scaling store the reconcile uses: Application Auto Scaling for
//! targets, policies and scheduled actions, CloudWatch for the alarms of
//! step policies.

use std::collections::{BTreeMap, BTreeSet};

use super::alarms::Alarms;
use super::autoscaling::AutoScaling;
use super::AwsError;
use crate::domain::plan::{Action, Applied, Change};
use crate::domain::snapshot::{ObservedAlarm, VariantScaling};
use crate::resource::Scaled;
use crate::resource::OWNED_PREFIX;

#[derive(Debug, Clone)]
pub struct AwsScaling {
    pub autoscaling: AutoScaling,
    pub alarms: Alarms,
}

impl AwsScaling {
    pub fn new(autoscaling: AutoScaling, alarms: Alarms) -> Self {
        Self {
            autoscaling,
            alarms,
        }
    }

    pub async fn observe(
        &self,
        resource_ids: &[String],
    ) -> Result<BTreeMap<String, VariantScaling>, AwsError> {
        let mut state = self.autoscaling.observe(resource_ids).await?;
        // One DescribeAlarms per endpoint covers all of its variants; each
        // inference component has alarms of its own.
        let prefixes: BTreeSet<String> = resource_ids
            .iter()
            .filter_map(|id| Scaled::parse(id))
            .map(|s| s.alarm_listing_prefix())
            .collect();
        for prefix in prefixes {
            for alarm in self.alarms.with_prefix(&prefix).await? {
                assign_alarm(&mut state, alarm);
            }
        }
        Ok(state)
    }

    /// Every alarm this tool owns in the account and Region.
    pub async fn all_alarms(&self) -> Result<Vec<ObservedAlarm>, AwsError> {
        self.alarms.with_prefix(OWNED_PREFIX).await
    }

    /// Applies one change on the service its action belongs to.
    pub async fn apply(&self, change: &Change) -> Result<Applied, AwsError> {
        match &change.action {
            Action::Scaling(action) => {
                self.autoscaling
                    .apply(&change.subject, change.dimension, action)
                    .await
            }
            Action::Alarm(action) => {
                self.alarms.apply(action).await?;
                Ok(Applied::default())
            }
        }
    }
}

/// Files an owned alarm under the variant its name belongs to, if that
/// variant is being observed.
pub fn assign_alarm(state: &mut BTreeMap<String, VariantScaling>, alarm: ObservedAlarm) {
    if let Some(subject) = Scaled::from_alarm_name(&alarm.name) {
        if let Some(slot) = state.get_mut(&subject.resource_id()) {
            slot.alarms.push(alarm);
        }
    }
}
