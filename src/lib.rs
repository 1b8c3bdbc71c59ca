//! autoscaling-guard: attaches a standard Application Auto Scaling policy set
//! to SageMaker endpoint variants and keeps it there.

pub mod app;
pub mod aws;
pub mod cli;
pub mod config;
pub mod difference;
pub mod domain;
pub mod drift;
pub mod error;
pub mod handler;
pub mod lambda;
pub mod org;
pub mod policy_set;
pub mod reconcile;
pub mod release;
pub mod resource;
pub mod simulate;
pub mod trigger;
