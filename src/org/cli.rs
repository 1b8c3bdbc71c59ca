//! The command line's account and Region options.

use super::place::{AccountId, Place, RegionName};
use super::settings::{validate_role_name, OrgSettings};
use super::Hub;
use crate::config::{ConfigError, Settings};

/// Where the command works: the caller's own account and Region unless
/// told otherwise.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PlaceArgs {
    /// Work in this account, through --role (or ORG_SPOKE_ROLE_NAME) unless
    /// it is the caller's own.
    #[arg(long, global = true, value_name = "ID", value_parser = AccountId::parse)]
    pub account: Option<AccountId>,
    /// The role to assume in --account (and in ORG_ACCOUNTS).
    #[arg(long, global = true, value_name = "NAME", value_parser = role_name)]
    pub role: Option<String>,
    /// Work in this Region instead of the configured one.
    #[arg(long, global = true, value_name = "REGION", value_parser = RegionName::parse)]
    pub region: Option<RegionName>,
}

fn role_name(raw: &str) -> Result<String, String> {
    validate_role_name(raw).map(|()| raw.to_string())
}

impl PlaceArgs {
    /// The hub for these options: ORG_* settings from the environment,
    /// the role and Region from the options when given.
    pub async fn hub(&self, settings: Settings) -> Result<Hub, ConfigError> {
        let mut org = OrgSettings::from_env()?;
        if self.role.is_some() {
            org.role_name = self.role.clone();
        }
        let mut config = crate::aws::sdk_config_from_env().await;
        // Without --account, --region moves the caller's own work.
        if let (None, Some(region)) = (&self.account, &self.region) {
            config = region.config(&config);
        }
        Ok(Hub::new(config, settings, org))
    }

    /// The place --account names, in --region or the configured Region.
    pub fn place(&self, hub: &Hub) -> Result<Option<Place>, String> {
        let Some(account) = &self.account else {
            return Ok(None);
        };
        let region = match &self.region {
            Some(region) => region.clone(),
            None => hub
                .home_region()
                .ok_or("--account needs a Region: give --region or set AWS_REGION".to_string())?,
        };
        Ok(Some(Place {
            account: account.clone(),
            region,
        }))
    }
}
