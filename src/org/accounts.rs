//! SDK configurations for each account and Region a hub works in: the
//! hub's own credentials in its own account, the spoke role's assumed
//! credentials everywhere else, and never the one for the other.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;
use tokio::sync::{Mutex, OnceCell};

use super::place::{AccountId, Place, RegionName};
use crate::aws::identity::Identity;
use crate::aws::AwsError;

/// The name the hub's sessions carry in the spoke accounts' CloudTrail.
pub const SESSION_NAME: &str = "autoscaling-guard";
/// Assumed credentials are renewed this long before they expire, so that
/// no request signs with credentials about to lapse.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Why an account and Region cannot be worked in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    /// Who the hub is could not be learned (STS GetCallerIdentity failed).
    #[error("the hub's own account is unknown: {0}")]
    HubUnknown(AwsError),
    /// Another account, and no role to assume in it.
    #[error(
        "{place}: this deployment works with its own credentials in account {hub} only; \
         set ORG_SPOKE_ROLE_NAME (or --role) to manage other accounts"
    )]
    NoRole { place: Place, hub: AccountId },
    /// The spoke role could not be assumed, or the Region is not reached.
    #[error("{place}: {detail}")]
    NotReached { place: Place, detail: String },
}

impl OrgError {
    pub fn place(&self) -> Option<&Place> {
        match self {
            OrgError::HubUnknown(_) => None,
            OrgError::NoRole { place, .. } | OrgError::NotReached { place, .. } => Some(place),
        }
    }
}

/// Who the hub's credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubIdentity {
    pub account: AccountId,
    /// `aws`, `aws-cn`, `aws-us-gov`: role ARNs are built in the hub's own.
    pub partition: String,
}

impl HubIdentity {
    /// Reads the account and partition from the caller ARN STS returns.
    pub fn from_caller(account: &str, arn: &str) -> Result<Self, String> {
        let account = AccountId::parse(account)?;
        let partition = arn
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').next())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| format!("{arn:?} is not an ARN"))?;
        Ok(Self {
            account,
            partition: partition.to_string(),
        })
    }

    pub fn role_arn(&self, account: &AccountId, role_name: &str) -> String {
        format!("arn:{}:iam::{account}:role/{role_name}", self.partition)
    }
}

/// Assumed credentials for one account, kept until they near expiry.
#[derive(Debug)]
struct SpokeCredentials {
    assume: AssumeRoleProvider,
    cached: Mutex<Option<Credentials>>,
}

/// Credentials are still good when they never expire or expire later
/// than `REFRESH_MARGIN` from `now`.
pub fn still_fresh(credentials: &Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > now + REFRESH_MARGIN)
}

impl SpokeCredentials {
    async fn get(&self) -> provider::Result {
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            if still_fresh(credentials, SystemTime::now()) {
                return Ok(credentials.clone());
            }
        }
        let fresh = self.assume.provide_credentials().await?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }
}

impl ProvideCredentials for SpokeCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

/// Hands out the SDK configuration for a place. One per process: the
/// assumed credentials it caches serve every Region of an account.
#[derive(Debug)]
pub struct Accounts {
    hub: SdkConfig,
    role_name: Option<String>,
    identity: OnceCell<HubIdentity>,
    spokes: Mutex<HashMap<AccountId, SharedCredentialsProvider>>,
}

impl Accounts {
    pub fn new(hub: SdkConfig, role_name: Option<String>) -> Self {
        Self {
            hub,
            role_name,
            identity: OnceCell::new(),
            spokes: Mutex::new(HashMap::new()),
        }
    }

    pub fn hub_config(&self) -> &SdkConfig {
        &self.hub
    }

    pub fn hub_region(&self) -> Option<RegionName> {
        RegionName::parse(self.hub.region()?.as_ref()).ok()
    }

    /// The hub's account, asked of STS once per process.
    pub async fn hub(&self) -> Result<&HubIdentity, OrgError> {
        self.identity
            .get_or_try_init(|| async {
                let sts = Identity::new(aws_sdk_sts::Client::new(&self.hub));
                let (account, arn) = sts.caller().await.map_err(OrgError::HubUnknown)?;
                let bad = |message: String| {
                    OrgError::HubUnknown(AwsError {
                        operation: "GetCallerIdentity".to_string(),
                        code: None,
                        message,
                        retryable: false,
                    })
                };
                HubIdentity::from_caller(&account, &arn).map_err(bad)
            })
            .await
    }

    /// Whether `place` is the hub's own account and Region.
    pub async fn is_hub(&self, place: &Place) -> Result<bool, OrgError> {
        let hub = self.hub().await?;
        Ok(place.account == hub.account && Some(&place.region) == self.hub_region().as_ref())
    }

    /// The configuration that acts in `place`: the hub's credentials in the
    /// hub's account and Region, the spoke role's elsewhere. The hub's own
    /// account in another Region goes through the spoke role too when one is
    /// configured: the function's role is granted its own Region only, the
    /// spoke role every Region. The spoke role is assumed here, so that an
    /// account that cannot be reached fails now, for that place alone,
    /// before any client is built.
    pub async fn config_for(&self, place: &Place) -> Result<SdkConfig, OrgError> {
        let hub = self.hub().await?;
        let region = place.region.sdk();
        if place.account == hub.account && (self.role_name.is_none() || self.is_hub(place).await?) {
            return Ok(self.hub.to_builder().region(region).build());
        }
        let Some(role_name) = &self.role_name else {
            return Err(OrgError::NoRole {
                place: place.clone(),
                hub: hub.account.clone(),
            });
        };
        let credentials = {
            let mut spokes = self.spokes.lock().await;
            match spokes.get(&place.account) {
                Some(found) => found.clone(),
                None => {
                    let role_arn = hub.role_arn(&place.account, role_name);
                    let assume = AssumeRoleProvider::builder(role_arn)
                        .session_name(SESSION_NAME)
                        .configure(&self.hub)
                        .build()
                        .await;
                    let spoke = SharedCredentialsProvider::new(SpokeCredentials {
                        assume,
                        cached: Mutex::new(None),
                    });
                    spokes.insert(place.account.clone(), spoke.clone());
                    spoke
                }
            }
        };
        credentials.provide_credentials().await.map_err(|e| {
            let role = hub.role_arn(&place.account, role_name);
            OrgError::NotReached {
                place: place.clone(),
                detail: format!("cannot assume {role}: {}", assume_role_failure(&e)),
            }
        })?;
        Ok(self
            .hub
            .to_builder()
            .region(region)
            .credentials_provider(credentials)
            // The spoke credentials keep their own cache, per account.
            .identity_cache(IdentityCache::no_cache())
            .build())
    }
}

/// Why AssumeRole failed, on one line: STS's error code and message when
/// the provider got an answer, the causes of the failure otherwise.
fn assume_role_failure(err: &(dyn std::error::Error + 'static)) -> String {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    type StsError = aws_sdk_sts::error::SdkError<
        AssumeRoleError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >;
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(sdk) = e.downcast_ref::<StsError>() {
            if let Some(code) = sdk.code() {
                return format!("{code}: {}", sdk.message().unwrap_or("no message"));
            }
        }
        next = e.source();
    }
    crate::aws::one_line(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_is_read_from_its_caller_arn() {
        let hub = HubIdentity::from_caller(
            "999999999999",
            "arn:aws-us-gov:sts::999999999999:assumed-role/guard/fn",
        )
        .unwrap();
        assert_eq!(hub.partition, "aws-us-gov");
        let spoke = AccountId::parse("111111111111").unwrap();
        assert_eq!(
            hub.role_arn(&spoke, "guard-spoke"),
            "arn:aws-us-gov:iam::111111111111:role/guard-spoke"
        );
        assert!(HubIdentity::from_caller("999999999999", "nonsense").is_err());
        assert!(HubIdentity::from_caller("9", "arn:aws:sts::9:x").is_err());
    }

    #[test]
    fn credentials_are_renewed_only_near_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let expiring = |after: u64| {
            Credentials::new("k", "s", None, Some(now + Duration::from_secs(after)), "t")
        };
        assert!(still_fresh(&expiring(3600), now));
        assert!(still_fresh(&expiring(301), now));
        assert!(!still_fresh(&expiring(300), now));
        assert!(!still_fresh(&expiring(0), now));
        assert!(still_fresh(
            &Credentials::new("k", "s", None, None, "t"),
            now
        ));
    }
}
