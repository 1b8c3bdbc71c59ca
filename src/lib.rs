//! autoscaling-guard: attaches a standard Application Auto Scaling policy set
//! to SageMaker endpoint variants and keeps it there.

pub mod aws;
pub mod config;
pub mod domain;
pub mod error;
pub mod reconcile;
