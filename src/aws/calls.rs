//! Counts every AWS call, by operation, with an SDK interceptor installed on
//! every client. Counts land in the tally of the task that made the call,
//! when one is in scope (`counted`): a reconcile's or a drift check's
//! `reads`/`writes`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// Calls made, by `Service.Operation`.
#[derive(Debug, Default)]
pub struct CallTally {
    by_operation: Mutex<BTreeMap<String, u64>>,
    /// The enclosing scope's tally: a reconcile inside a drift check counts
    /// toward both.
    parent: Option<Arc<CallTally>>,
}

/// A point-in-time copy of a tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    pub reads: u64,
    pub writes: u64,
    pub by_operation: BTreeMap<String, u64>,
}

/// Reads are the operations that change nothing.
pub fn is_read(operation: &str) -> bool {
    ["Describe", "List", "Get", "Search"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
}

impl CallTally {
    pub fn record(&self, service: &str, operation: &str) {
        let key = format!("{service}.{operation}");
        *self
            .by_operation
            .lock()
            .expect("call tally lock")
            .entry(key)
            .or_default() += 1;
        if let Some(parent) = &self.parent {
            parent.record(service, operation);
        }
    }

    pub fn snapshot(&self) -> CallCounts {
        let by_operation = self.by_operation.lock().expect("call tally lock").clone();
        let mut counts = CallCounts::default();
        for (key, n) in &by_operation {
            let op = key.rsplit('.').next().unwrap_or(key);
            if is_read(op) {
                counts.reads += n;
            } else {
                counts.writes += n;
            }
        }
        counts.by_operation = by_operation;
        counts
    }
}

tokio::task_local! {
    static TASK_TALLY: Arc<CallTally>;
}

/// Runs `fut` with its own tally and returns what it called. Calls also
/// count toward any enclosing `counted` scope.
pub async fn counted<F: std::future::Future>(fut: F) -> (F::Output, CallCounts) {
    let tally = Arc::new(CallTally {
        by_operation: Mutex::default(),
        parent: TASK_TALLY.try_with(Arc::clone).ok(),
    });
    let out = TASK_TALLY.scope(tally.clone(), fut).await;
    (out, tally.snapshot())
}

/// The interceptor. Counts attempts, not operations: a throttled call that
/// is retried costs AWS two requests and is counted twice.
#[derive(Debug, Clone, Default)]
pub struct CallCounter;

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("unknown".into(), "Unknown".into()));
        let _ = TASK_TALLY.try_with(|t| t.record(&service, &operation));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_sorted_into_reads_and_writes() {
        let t = CallTally::default();
        t.record("SageMaker", "DescribeEndpoint");
        t.record("SageMaker", "ListTags");
        t.record("ApplicationAutoScaling", "RegisterScalableTarget");
        t.record("ApplicationAutoScaling", "PutScalingPolicy");
        t.record("ApplicationAutoScaling", "PutScalingPolicy");
        t.record("SageMaker", "Search");
        let c = t.snapshot();
        assert_eq!((c.reads, c.writes), (3, 3));
        assert_eq!(c.by_operation["ApplicationAutoScaling.PutScalingPolicy"], 2);
    }

    #[tokio::test]
    async fn a_scope_counts_only_its_own_calls() {
        let outside = Arc::new(CallTally::default());
        let ((), inner) = counted(async {
            TASK_TALLY.with(|t| t.record("S", "DescribeX"));
        })
        .await;
        assert_eq!(inner.reads, 1);
        assert_eq!(outside.snapshot().reads, 0);
        assert!(TASK_TALLY.try_with(|_| ()).is_err());
    }

    #[tokio::test]
    async fn nested_scopes_count_toward_the_outer_one_too() {
        let (inner, outer) = counted(async {
            TASK_TALLY.with(|t| t.record("S", "PutX"));
            let ((), inner) = counted(async {
                TASK_TALLY.with(|t| t.record("S", "DescribeX"));
            })
            .await;
            inner
        })
        .await;
        assert_eq!((inner.reads, inner.writes), (1, 0));
        assert_eq!((outer.reads, outer.writes), (1, 1));
    }
}
