//! The local AWS's contract: requests are counted per access key, invalid
//! requests are rejected as AWS rejects them, and faults hit only the key
//! they were installed for.

mod support;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use support::{clients_with_key, dimension, local_aws_stats};

#[tokio::test]
async fn requests_are_counted_per_access_key() {
    let aas = clients_with_key("contract-stats").autoscaling;
    for _ in 0..2 {
        aas.describe_scalable_targets()
            .service_namespace(ServiceNamespace::Sagemaker)
            .send()
            .await
            .unwrap();
    }
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id("endpoint/contract-stats/variant/a")
        .min_capacity(1)
        .max_capacity(2)
        .send()
        .await
        .unwrap();

    let stats = local_aws_stats("contract-stats");
    assert_eq!(stats["requests"], 3, "{stats}");
    assert_eq!(stats["reads"], 2, "{stats}");
    assert_eq!(stats["writes"], 1, "{stats}");
    assert_eq!(
        stats["by_operation"]["DescribeScalableTargets"], 2,
        "{stats}"
    );
    assert_eq!(
        stats["by_operation"]["RegisterScalableTarget"], 1,
        "{stats}"
    );
    assert_eq!(local_aws_stats("contract-nobody")["requests"], 0);
}
