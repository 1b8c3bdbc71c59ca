//! One deployment for many accounts and Regions: each request runs in the
//! place it names, and the scheduled drift check fans out, one place at a
//! time, either as asynchronous invocations of this function or in
//! process (the command line's `--all-accounts`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tracing::{error, info};

use super::accounts::{Accounts, OrgError};
use super::place::Place;
use super::settings::OrgSettings;
use crate::app::{self, AwsReconciler};
use crate::aws::lambda::Functions;
use crate::aws::{AwsError, Clients};
use crate::config::Settings;
use crate::drift::report::DriftReport;
use crate::drift::SweepOptions;
use crate::error::{ErrorType, GuardError};
use crate::handler::{self, Invocation, Response};
use crate::trigger::{self, Trigger, DRIFT_CHECK_ACTION};

/// The hub: its own reconciler, and one for each place it has worked in.
pub struct Hub {
    accounts: Accounts,
    org: OrgSettings,
    settings: Settings,
    home: Arc<AwsReconciler>,
    places: Mutex<HashMap<Place, Arc<AwsReconciler>>>,
    functions: Functions,
}

/// A place that could not be started or checked, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceFailure {
    #[serde(flatten)]
    pub place: Place,
    pub error_type: ErrorType,
    pub error: String,
}

/// What the scheduled fan-out started: one asynchronous drift check per
/// place; each reports (and fails) on its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FanOutReport {
    pub action: &'static str,
    pub function: String,
    pub dry_run: bool,
    pub started: Vec<Place>,
    pub failed: Vec<PlaceFailure>,
}

impl FanOutReport {
    /// Each place started, or failed with why.
    fn new(function: String, dry_run: bool, results: Vec<(Place, Result<(), AwsError>)>) -> Self {
        let mut report = FanOutReport {
            action: "fan-out",
            function,
            dry_run,
            started: Vec::new(),
            failed: Vec::new(),
        };
        for (place, result) in results {
            match result {
                Ok(()) => report.started.push(place),
                Err(e) => report
                    .failed
                    .push(failure(place, GuardError::DriftCheckFailed(e))),
            }
        }
        info!(
            function = report.function,
            started = report.started.len(),
            failed = report.failed.len(),
            "fan-out done"
        );
        report
    }
}

/// Every place's drift check, run in this process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetReport {
    pub action: &'static str,
    pub checked: Vec<PlaceReport>,
    pub failed: Vec<PlaceFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceReport {
    #[serde(flatten)]
    pub place: Place,
    #[serde(flatten)]
    pub report: DriftReport,
}

impl FleetReport {
    /// Whether every place was checked without an error.
    pub fn clean(&self) -> bool {
        self.failed.is_empty() && self.checked.iter().all(|c| !c.report.summary.has_errors())
    }

    /// Each place's drift table under its name, then the places not reached.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for checked in &self.checked {
            out.push_str(&format!("== {}\n", checked.place));
            out.push_str(&crate::drift::report::table(&checked.report));
            out.push('\n');
        }
        for failed in &self.failed {
            out.push_str(&format!(
                "== {}\nnot reached: {}\n",
                failed.place, failed.error
            ));
        }
        out
    }
}

fn failure(place: Place, error: GuardError) -> PlaceFailure {
    error!(
        account = %place.account,
        region = %place.region,
        error_type = error.error_type().as_str(),
        error = %error,
        "place failed"
    );
    PlaceFailure {
        place,
        error_type: error.error_type(),
        error: error.to_string(),
    }
}

/// Runs `work` on every place, `at_once` at a time; results in the order
/// of `places` (the order the settings list them in).
async fn each_place<T, F, Fut>(places: Vec<Place>, at_once: usize, work: F) -> Vec<(Place, T)>
where
    F: Fn(Place) -> Fut,
    Fut: Future<Output = T>,
{
    let mut done: Vec<(usize, Place, T)> = stream::iter(places.into_iter().enumerate())
        .map(|(n, place)| {
            let run = work(place.clone());
            async move { (n, place, run.await) }
        })
        .buffer_unordered(at_once.max(1))
        .collect()
        .await;
    done.sort_by_key(|(n, _, _)| *n);
    done.into_iter().map(|(_, place, t)| (place, t)).collect()
}

/// A response, with the `account` and `region` it is about when the
/// payload named them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    #[serde(flatten)]
    pub response: Response,
    #[serde(flatten)]
    pub place: Option<Place>,
}

impl Hub {
    pub fn new(config: SdkConfig, settings: Settings, org: OrgSettings) -> Self {
        let home = Arc::new(app::reconciler(&Clients::new(&config), settings.clone()));
        Self {
            functions: Functions::new(aws_sdk_lambda::Client::new(&config)),
            accounts: Accounts::new(config, org.role_name.clone()),
            org,
            settings,
            home,
            places: Mutex::new(HashMap::new()),
        }
    }

    pub fn home_region(&self) -> Option<super::place::RegionName> {
        self.accounts.hub_region()
    }

    /// The reconciler for `place`; the hub's own for `None` and for the
    /// hub's own account and Region.
    pub async fn reconciler(&self, place: Option<&Place>) -> Result<Arc<AwsReconciler>, OrgError> {
        let Some(place) = place else {
            return Ok(self.home.clone());
        };
        if self.accounts.is_hub(place).await? {
            return Ok(self.home.clone());
        }
        if let Some(found) = self.places.lock().await.get(place) {
            return Ok(found.clone());
        }
        let config = self.accounts.config_for(place).await?;
        let reconciler = Arc::new(app::reconciler(
            &Clients::new(&config),
            self.settings.clone(),
        ));
        self.places
            .lock()
            .await
            .insert(place.clone(), reconciler.clone());
        Ok(reconciler)
    }

    /// Every account and Region the deployment manages, or none when it
    /// manages only its own.
    pub fn places(&self) -> Vec<Place> {
        let regions = if self.org.regions.is_empty() {
            self.accounts.hub_region().into_iter().collect()
        } else {
            self.org.regions.clone()
        };
        let mut places = Vec::new();
        for account in &self.org.accounts {
            for region in &regions {
                places.push(Place {
                    account: account.clone(),
                    region: region.clone(),
                });
            }
        }
        places
    }

    /// Handles one payload in the account and Region it names; a scheduled
    /// drift check in an organization fans out to every place.
    pub async fn handle(
        &self,
        payload: Value,
        invocation: Invocation,
    ) -> Result<Placed, GuardError> {
        let (trigger, place) = trigger::parse_addressed(&payload)
            .map_err(|e| GuardError::InvalidEvent(e.to_string()))?;
        if let (Trigger::DriftCheck { dry_run }, None) = (&trigger, &place) {
            if !self.org.accounts.is_empty() {
                let report = self.fan_out(*dry_run || invocation.force_dry_run).await?;
                return Ok(Placed {
                    response: Response::FanOut(report),
                    place: None,
                });
            }
        }
        // An ignored event needs no credentials, wherever it happened.
        let acts_in = place.as_ref().filter(|_| !trigger.is_ignored());
        if let Some(place) = acts_in {
            // The invocation's other lines are about this place too.
            info!(account = %place.account, region = %place.region, "working in");
        }
        let reconciler = self
            .reconciler(acts_in)
            .await
            .map_err(GuardError::AccountNotReached)?;
        let response = handler::run(&reconciler, trigger, invocation).await?;
        Ok(Placed { response, place })
    }

    /// Starts one asynchronous drift check of this function per place.
    pub async fn fan_out(&self, dry_run: bool) -> Result<FanOutReport, GuardError> {
        let function = self.org.function_name.clone().ok_or_else(|| {
            GuardError::InvalidEvent(
                "the fan-out needs the function to invoke: set ORG_FUNCTION_NAME".to_string(),
            )
        })?;
        let started = each_place(self.places(), self.settings.concurrency, |place| {
            start_drift_check(&self.functions, &function, place, dry_run)
        })
        .await;
        Ok(FanOutReport::new(function, dry_run, started))
    }

    /// The fan-out in this process: every place's drift check, a few
    /// places at a time, each place's failure its own.
    pub async fn drift_check_all(&self, options: SweepOptions) -> FleetReport {
        let done = each_place(
            self.places(),
            self.settings.concurrency,
            |place| async move {
                let reconciler = self
                    .reconciler(Some(&place))
                    .await
                    .map_err(GuardError::AccountNotReached)?;
                reconciler
                    .drift_check(options)
                    .await
                    .map_err(GuardError::DriftCheckFailed)
            },
        )
        .await;
        let mut fleet = FleetReport {
            action: "fleet-drift-check",
            checked: Vec::new(),
            failed: Vec::new(),
        };
        for (place, result) in done {
            match result {
                Ok(report) => {
                    info!(
                        account = %place.account,
                        region = %place.region,
                        summary = %serde_json::to_string(&report.summary).unwrap_or_default(),
                        "place checked"
                    );
                    fleet.checked.push(PlaceReport { place, report })
                }
                Err(e) => fleet.failed.push(failure(place, e)),
            }
        }
        fleet
    }
}

/// Starts one drift check of `function` for `place`, asynchronously: Lambda
/// queues the event and answers at once; the check reports on its own.
async fn start_drift_check(
    functions: &Functions,
    function: &str,
    place: Place,
    dry_run: bool,
) -> Result<(), AwsError> {
    let mut payload = json!({
        "action": DRIFT_CHECK_ACTION,
        "account": place.account,
        "region": place.region,
    });
    if dry_run {
        payload["dry_run"] = json!(true);
    }
    functions.start(function, &payload).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(account: &str, region: &str) -> Place {
        Place {
            account: super::super::place::AccountId::parse(account).unwrap(),
            region: super::super::place::RegionName::parse(region).unwrap(),
        }
    }

    /// The local AWS answers Invoke without running anything, so the
    /// request itself is checked here: an asynchronous invocation whose
    /// payload is a drift check the function parses back to the place.
    #[tokio::test]
    async fn the_fan_out_invokes_asynchronously_with_the_place() {
        use aws_sdk_lambda::operation::invoke::InvokeOutput;
        use aws_sdk_lambda::primitives::Blob;
        use aws_sdk_lambda::types::InvocationType;
        use aws_smithy_mocks::{mock, mock_client};
        let rule = mock!(aws_sdk_lambda::Client::invoke)
            .match_requests(|r| {
                let payload: Value =
                    serde_json::from_slice(r.payload().map(Blob::as_ref).unwrap_or_default())
                        .unwrap_or_default();
                let parsed = trigger::parse_addressed(&payload);
                r.function_name() == Some("guard-hub")
                    && r.invocation_type() == Some(&InvocationType::Event)
                    && parsed
                        == Ok((
                            Trigger::DriftCheck { dry_run: true },
                            Some(place("111111111111", "eu-west-1")),
                        ))
            })
            .then_output(|| InvokeOutput::builder().status_code(202).build());
        let client = mock_client!(aws_sdk_lambda, [&rule]);
        let functions = Functions::new(client);
        start_drift_check(
            &functions,
            "guard-hub",
            place("111111111111", "eu-west-1"),
            true,
        )
        .await
        .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    /// (The local AWS runs no function, and answers Invoke of a missing one
    /// with success; AWS answers ResourceNotFoundException.)
    #[test]
    fn a_place_that_could_not_be_started_is_listed_with_why() {
        let missing = AwsError {
            operation: "Invoke".into(),
            code: Some("ResourceNotFoundException".into()),
            message: "Function not found".into(),
            retryable: false,
        };
        let report = FanOutReport::new(
            "guard-hub".into(),
            false,
            vec![
                (place("111111111111", "us-east-1"), Ok(())),
                (place("222222222222", "us-east-1"), Err(missing)),
            ],
        );
        assert_eq!(report.started, [place("111111111111", "us-east-1")]);
        assert_eq!(
            serde_json::to_value(&report.failed).unwrap(),
            json!([{
                "account": "222222222222",
                "region": "us-east-1",
                "error_type": "DriftCheckFailed",
                "error": "the drift check could not run: Invoke failed: \
                          ResourceNotFoundException: Function not found",
            }])
        );
    }

    #[tokio::test]
    async fn places_run_a_few_at_a_time_and_come_back_in_order() {
        let places = vec![
            place("222222222222", "us-east-1"),
            place("111111111111", "eu-west-1"),
            place("111111111111", "us-east-1"),
        ];
        let running = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let done = each_place(places, 2, |p| {
            let (running, most) = (&running, &most);
            async move {
                use std::sync::atomic::Ordering::SeqCst;
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, SeqCst);
                p.account.to_string()
            }
        })
        .await;
        let order: Vec<String> = done.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(
            order,
            [
                "account 222222222222 in us-east-1",
                "account 111111111111 in eu-west-1",
                "account 111111111111 in us-east-1",
            ]
        );
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
