//! The organization settings: which accounts and Regions one deployment
//! manages, and the role it assumes in them. All empty: a single-account
//! deployment, exactly as without them.

use crate::config::{invalid, ConfigError};

use super::place::{AccountId, RegionName};

pub const ROLE_VARIABLE: &str = "ORG_SPOKE_ROLE_NAME";
pub const ACCOUNTS_VARIABLE: &str = "ORG_ACCOUNTS";
pub const REGIONS_VARIABLE: &str = "ORG_REGIONS";
pub const FUNCTION_VARIABLE: &str = "ORG_FUNCTION_NAME";
/// Set by Lambda itself: the function invokes itself for the fan-out.
pub const LAMBDA_FUNCTION_VARIABLE: &str = "AWS_LAMBDA_FUNCTION_NAME";

const ROLE_RULE: &str = "an IAM role name (1-64 letters, digits and +=,.@_-)";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSettings {
    /// The role assumed in every account but the hub's own.
    pub role_name: Option<String>,
    /// The accounts the scheduled drift check fans out to; empty: the
    /// scheduled check runs in the deployment's own account and Region.
    pub accounts: Vec<AccountId>,
    /// The Regions of the fan-out; empty: the deployment's own Region.
    pub regions: Vec<RegionName>,
    /// The function the fan-out invokes (this one, under Lambda).
    pub function_name: Option<String>,
}

pub fn validate_role_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not {ROLE_RULE}"))
    }
}

/// A comma list, each item read by `parse`; duplicates refused.
fn list<T: PartialEq>(
    variable: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim) {
        let value = parse(item).map_err(|p| invalid(variable, raw, p))?;
        if out.contains(&value) {
            return Err(invalid(variable, raw, format!("{item} is listed twice")));
        }
        out.push(value);
    }
    Ok(out)
}

impl OrgSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut org = OrgSettings::default();
        if let Some(raw) = get(ROLE_VARIABLE) {
            validate_role_name(raw.trim()).map_err(|p| invalid(ROLE_VARIABLE, &raw, p))?;
            org.role_name = Some(raw.trim().to_string());
        }
        if let Some(raw) = get(ACCOUNTS_VARIABLE) {
            org.accounts = list(ACCOUNTS_VARIABLE, &raw, AccountId::parse)?;
            if org.role_name.is_none() {
                return Err(invalid(
                    ACCOUNTS_VARIABLE,
                    &raw,
                    format!("needs {ROLE_VARIABLE}, the role to assume in those accounts"),
                ));
            }
        }
        if let Some(raw) = get(REGIONS_VARIABLE) {
            org.regions = list(REGIONS_VARIABLE, &raw, RegionName::parse)?;
        }
        org.function_name = get(FUNCTION_VARIABLE)
            .or_else(|| get(LAMBDA_FUNCTION_VARIABLE))
            .map(|f| f.trim().to_string());
        Ok(org)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn org(vars: &[(&str, &str)]) -> Result<OrgSettings, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        OrgSettings::from_lookup(|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn nothing_set_is_a_single_account_deployment() {
        assert_eq!(org(&[]).unwrap(), OrgSettings::default());
    }

    #[test]
    fn every_variable_is_read() {
        let s = org(&[
            (ROLE_VARIABLE, "guard-spoke"),
            (ACCOUNTS_VARIABLE, "111111111111, 222222222222"),
            (REGIONS_VARIABLE, "us-east-1,eu-west-1"),
            (LAMBDA_FUNCTION_VARIABLE, "hub-guard"),
        ])
        .unwrap();
        assert_eq!(s.role_name.as_deref(), Some("guard-spoke"));
        let accounts: Vec<&str> = s.accounts.iter().map(AccountId::as_str).collect();
        assert_eq!(accounts, ["111111111111", "222222222222"]);
        let regions: Vec<&str> = s.regions.iter().map(RegionName::as_str).collect();
        assert_eq!(regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(s.function_name.as_deref(), Some("hub-guard"));
        let named = org(&[
            (FUNCTION_VARIABLE, "other"),
            (LAMBDA_FUNCTION_VARIABLE, "x"),
        ]);
        assert_eq!(named.unwrap().function_name.as_deref(), Some("other"));
    }

    #[test]
    fn errors_name_the_variable_the_value_and_the_rule() {
        let role = (ROLE_VARIABLE, "r");
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Vars, &str, &str); 5] = [
            (
                &[(ROLE_VARIABLE, "no spaces")],
                ROLE_VARIABLE,
                "IAM role name",
            ),
            (
                &[role, (ACCOUNTS_VARIABLE, "1111")],
                ACCOUNTS_VARIABLE,
                "12 digits",
            ),
            (
                &[role, (ACCOUNTS_VARIABLE, "111111111111,111111111111")],
                ACCOUNTS_VARIABLE,
                "listed twice",
            ),
            (
                &[(REGIONS_VARIABLE, "us-east-1,")],
                REGIONS_VARIABLE,
                "Region name",
            ),
            (
                &[(ACCOUNTS_VARIABLE, "111111111111")],
                ACCOUNTS_VARIABLE,
                ROLE_VARIABLE,
            ),
        ];
        for (vars, variable, problem) in cases {
            let err = org(vars).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            let value = vars.iter().find(|(k, _)| *k == variable).unwrap().1;
            assert_eq!(err.value, value);
            assert!(err.problem.contains(problem), "{err} should say {problem}");
        }
    }
}
