//! What each scalable resource holds in the account, grouped from the bulk
//! listings, with ownership decided by name alone: the one grouping behind
//! the orphan search and the uninstall.

use std::collections::BTreeMap;

use super::snapshot::{ObservedAlarm, ScalingPolicy, ScheduledAction};
use super::Dimension;
use crate::difference::Subject;
use crate::resource::{is_owned, Scaled};

/// What one variant or inference component holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    pub subject: Scaled,
    /// The dimension its policies and scheduled actions name, if any.
    pub dimension: Option<Dimension>,
    /// Sorted, as are the lists below.
    pub owned_policies: Vec<String>,
    pub owned_scheduled: Vec<String>,
    pub owned_alarms: Vec<String>,
    /// Someone else's policies and scheduled actions, as `Subject`s read.
    pub foreign: Vec<String>,
}

impl Holding {
    fn of(subject: Scaled) -> Self {
        Holding {
            subject,
            dimension: None,
            owned_policies: Vec::new(),
            owned_scheduled: Vec::new(),
            owned_alarms: Vec::new(),
            foreign: Vec::new(),
        }
    }

    /// Owned policies or scheduled actions: the target is ours to remove
    /// once nothing foreign uses it.
    pub fn owns_scaling(&self) -> bool {
        !(self.owned_policies.is_empty() && self.owned_scheduled.is_empty())
    }

    pub fn owns_anything(&self) -> bool {
        self.owns_scaling() || !self.owned_alarms.is_empty()
    }
}

/// Groups the listings by resource id (in id order). Ids that name no
/// variant or component are left out: nothing of this tool's is on them.
pub fn holdings(
    policies: &[ScalingPolicy],
    scheduled: &[ScheduledAction],
    alarms: &[ObservedAlarm],
) -> BTreeMap<String, Holding> {
    let mut by_resource: BTreeMap<String, Holding> = BTreeMap::new();
    // Each id is parsed once, when its resource is first seen.
    fn slot<'a>(
        by_resource: &'a mut BTreeMap<String, Holding>,
        resource_id: &str,
    ) -> Option<&'a mut Holding> {
        if !by_resource.contains_key(resource_id) {
            let subject = Scaled::parse(resource_id)?;
            by_resource.insert(resource_id.to_string(), Holding::of(subject));
        }
        by_resource.get_mut(resource_id)
    }
    for p in policies {
        let Some(h) = slot(&mut by_resource, &p.resource_id) else {
            continue;
        };
        h.dimension.get_or_insert(p.dimension);
        if is_owned(&p.name) {
            h.owned_policies.push(p.name.clone());
        } else {
            h.foreign.push(Subject::Policy(p.name.clone()).to_string());
        }
    }
    for s in scheduled {
        let Some(h) = slot(&mut by_resource, &s.resource_id) else {
            continue;
        };
        h.dimension.get_or_insert(s.dimension);
        if is_owned(&s.name) {
            h.owned_scheduled.push(s.name.clone());
        } else {
            h.foreign
                .push(Subject::ScheduledAction(s.name.clone()).to_string());
        }
    }
    // Only alarms named for a variant or a component are the tool's: it
    // never creates any other.
    for a in alarms {
        if let Some(subject) = Scaled::from_alarm_name(&a.name) {
            by_resource
                .entry(subject.resource_id())
                .or_insert_with(|| Holding::of(subject))
                .owned_alarms
                .push(a.name.clone());
        }
    }
    for h in by_resource.values_mut() {
        h.owned_policies.sort();
        h.owned_scheduled.sort();
        h.owned_alarms.sort();
        h.foreign.sort();
    }
    by_resource
}
