//! Hub and spoke: one deployment manages endpoints in many accounts and
//! Regions, through a role it assumes in each account.

pub mod accounts;
pub mod cli;
pub mod hub;
pub mod place;
pub mod settings;

pub use accounts::OrgError;
pub use hub::Hub;
