// The SDK futures nest deeply; the default limit is too small for their layout.
#![recursion_limit = "256"]

use std::process::ExitCode;

use autoscaling_guard::{cli, lambda};

/// One binary, two faces: a Lambda function when the Lambda Runtime API is
/// there, a command-line tool otherwise.
#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        match lambda::run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    } else {
        cli::run().await
    }
}
