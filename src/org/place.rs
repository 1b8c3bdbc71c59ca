//! Where a request acts: an AWS account and a Region.

use std::fmt;

use serde::Serialize;

pub const ACCOUNT_RULE: &str = "an AWS account id (12 digits)";
pub const REGION_RULE: &str =
    "an AWS Region name (lower-case words and a number joined by hyphens, e.g. \"eu-west-1\")";

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!("{raw:?} is not {ACCOUNT_RULE}"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS Region name such as `us-east-1` or `us-gov-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RegionName(String);

impl RegionName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parts: Vec<&str> = raw.split('-').collect();
        let (number, words) = parts.split_last().expect("split yields one part at least");
        let ok = raw.len() <= 32
            && words.len() >= 2
            && words
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!("{raw:?} is not {REGION_RULE}"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RegionName {
    /// This Region in the SDK's terms.
    pub fn sdk(&self) -> aws_config::Region {
        aws_config::Region::new(self.0.clone())
    }

    /// `config`, acting in this Region.
    pub fn config(&self, config: &aws_config::SdkConfig) -> aws_config::SdkConfig {
        config.to_builder().region(self.sdk()).build()
    }
}

impl fmt::Display for RegionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One account in one Region: the unit a hub reconciles, checks and
/// reports on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Place {
    pub account: AccountId,
    pub region: RegionName,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} in {}", self.account, self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert_eq!(
            AccountId::parse("012345678901").unwrap().as_str(),
            "012345678901"
        );
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
        ] {
            let err = AccountId::parse(bad).unwrap_err();
            assert!(err.contains("12 digits"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn region_names_follow_the_aws_shape() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert_eq!(RegionName::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "east-1",
            "us--1",
            "us-east-1a",
            "us_east_1",
        ] {
            let err = RegionName::parse(bad).unwrap_err();
            assert!(err.contains("Region name"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_place_reads_and_serializes_as_account_and_region() {
        let place = Place {
            account: AccountId::parse("111111111111").unwrap(),
            region: RegionName::parse("eu-west-1").unwrap(),
        };
        assert_eq!(place.to_string(), "account 111111111111 in eu-west-1");
        assert_eq!(
            serde_json::to_value(&place).unwrap(),
            serde_json::json!({"account": "111111111111", "region": "eu-west-1"})
        );
    }
}
