//! vCPU and GPU counts of SageMaker hosting instance types. CPU and GPU
//! utilization are summed over cores and GPUs (4 vCPUs: 0-400 %), so a
//! per-core target is multiplied by these counts. An unknown type is an
//! error, never a guess.

/// (instance type, vCPUs, NVIDIA GPUs). Inferentia and Trainium
/// accelerators are not GPUs and publish no GPUUtilization.
const INSTANCE_TYPES: &[(&str, u32, u32)] = &[
    ("ml.m4.xlarge", 4, 0),
    ("ml.m4.2xlarge", 8, 0),
    ("ml.m4.4xlarge", 16, 0),
    ("ml.m4.10xlarge", 40, 0),
    ("ml.m4.16xlarge", 64, 0),
    ("ml.m5.large", 2, 0),
    ("ml.m5.xlarge", 4, 0),
    ("ml.m5.2xlarge", 8, 0),
    ("ml.m5.4xlarge", 16, 0),
    ("ml.m5.12xlarge", 48, 0),
    ("ml.m5.24xlarge", 96, 0),
    ("ml.m5d.large", 2, 0),
    ("ml.m5d.xlarge", 4, 0),
    ("ml.m5d.2xlarge", 8, 0),
    ("ml.m5d.4xlarge", 16, 0),
    ("ml.m5d.12xlarge", 48, 0),
    ("ml.m5d.24xlarge", 96, 0),
    ("ml.m6i.large", 2, 0),
    ("ml.m6i.xlarge", 4, 0),
    ("ml.m6i.2xlarge", 8, 0),
    ("ml.m6i.4xlarge", 16, 0),
    ("ml.m6i.8xlarge", 32, 0),
    ("ml.m6i.12xlarge", 48, 0),
    ("ml.m6i.16xlarge", 64, 0),
    ("ml.m6i.24xlarge", 96, 0),
    ("ml.m6i.32xlarge", 128, 0),
    ("ml.m7i.large", 2, 0),
    ("ml.m7i.xlarge", 4, 0),
    ("ml.m7i.2xlarge", 8, 0),
    ("ml.m7i.4xlarge", 16, 0),
    ("ml.m7i.8xlarge", 32, 0),
    ("ml.m7i.12xlarge", 48, 0),
    ("ml.m7i.16xlarge", 64, 0),
    ("ml.m7i.24xlarge", 96, 0),
    ("ml.m7i.48xlarge", 192, 0),
    ("ml.c4.large", 2, 0),
    ("ml.c4.xlarge", 4, 0),
    ("ml.c4.2xlarge", 8, 0),
    ("ml.c4.4xlarge", 16, 0),
    ("ml.c4.8xlarge", 36, 0),
    ("ml.c5.large", 2, 0),
    ("ml.c5.xlarge", 4, 0),
    ("ml.c5.2xlarge", 8, 0),
    ("ml.c5.4xlarge", 16, 0),
    ("ml.c5.9xlarge", 36, 0),
    ("ml.c5.18xlarge", 72, 0),
    ("ml.c5d.large", 2, 0),
    ("ml.c5d.xlarge", 4, 0),
    ("ml.c5d.2xlarge", 8, 0),
    ("ml.c5d.4xlarge", 16, 0),
    ("ml.c5d.9xlarge", 36, 0),
    ("ml.c5d.18xlarge", 72, 0),
    ("ml.c6i.large", 2, 0),
    ("ml.c6i.xlarge", 4, 0),
    ("ml.c6i.2xlarge", 8, 0),
    ("ml.c6i.4xlarge", 16, 0),
    ("ml.c6i.8xlarge", 32, 0),
    ("ml.c6i.12xlarge", 48, 0),
    ("ml.c6i.16xlarge", 64, 0),
    ("ml.c6i.24xlarge", 96, 0),
    ("ml.c6i.32xlarge", 128, 0),
    ("ml.c7i.large", 2, 0),
    ("ml.c7i.xlarge", 4, 0),
    ("ml.c7i.2xlarge", 8, 0),
    ("ml.c7i.4xlarge", 16, 0),
    ("ml.c7i.8xlarge", 32, 0),
    ("ml.c7i.12xlarge", 48, 0),
    ("ml.c7i.16xlarge", 64, 0),
    ("ml.c7i.24xlarge", 96, 0),
    ("ml.c7i.48xlarge", 192, 0),
    ("ml.r5.large", 2, 0),
    ("ml.r5.xlarge", 4, 0),
    ("ml.r5.2xlarge", 8, 0),
    ("ml.r5.4xlarge", 16, 0),
    ("ml.r5.12xlarge", 48, 0),
    ("ml.r5.24xlarge", 96, 0),
    ("ml.r5d.large", 2, 0),
    ("ml.r5d.xlarge", 4, 0),
    ("ml.r5d.2xlarge", 8, 0),
    ("ml.r5d.4xlarge", 16, 0),
    ("ml.r5d.12xlarge", 48, 0),
    ("ml.r5d.24xlarge", 96, 0),
    ("ml.r6i.large", 2, 0),
    ("ml.r6i.xlarge", 4, 0),
    ("ml.r6i.2xlarge", 8, 0),
    ("ml.r6i.4xlarge", 16, 0),
    ("ml.r6i.8xlarge", 32, 0),
    ("ml.r6i.12xlarge", 48, 0),
    ("ml.r6i.16xlarge", 64, 0),
    ("ml.r6i.24xlarge", 96, 0),
    ("ml.r6i.32xlarge", 128, 0),
    ("ml.p2.xlarge", 4, 1),
    ("ml.p2.8xlarge", 32, 8),
    ("ml.p2.16xlarge", 64, 16),
    ("ml.p3.2xlarge", 8, 1),
    ("ml.p3.8xlarge", 32, 4),
    ("ml.p3.16xlarge", 64, 8),
    ("ml.p4d.24xlarge", 96, 8),
    ("ml.p5.48xlarge", 192, 8),
    ("ml.g4dn.xlarge", 4, 1),
    ("ml.g4dn.2xlarge", 8, 1),
    ("ml.g4dn.4xlarge", 16, 1),
    ("ml.g4dn.8xlarge", 32, 1),
    ("ml.g4dn.12xlarge", 48, 4),
    ("ml.g4dn.16xlarge", 64, 1),
    ("ml.g5.xlarge", 4, 1),
    ("ml.g5.2xlarge", 8, 1),
    ("ml.g5.4xlarge", 16, 1),
    ("ml.g5.8xlarge", 32, 1),
    ("ml.g5.12xlarge", 48, 4),
    ("ml.g5.16xlarge", 64, 1),
    ("ml.g5.24xlarge", 96, 4),
    ("ml.g5.48xlarge", 192, 8),
    ("ml.g6.xlarge", 4, 1),
    ("ml.g6.2xlarge", 8, 1),
    ("ml.g6.4xlarge", 16, 1),
    ("ml.g6.8xlarge", 32, 1),
    ("ml.g6.12xlarge", 48, 4),
    ("ml.g6.16xlarge", 64, 1),
    ("ml.g6.24xlarge", 96, 4),
    ("ml.g6.48xlarge", 192, 8),
    ("ml.inf1.xlarge", 4, 0),
    ("ml.inf1.2xlarge", 8, 0),
    ("ml.inf1.6xlarge", 24, 0),
    ("ml.inf1.24xlarge", 96, 0),
    ("ml.inf2.xlarge", 4, 0),
    ("ml.inf2.8xlarge", 32, 0),
    ("ml.inf2.24xlarge", 96, 0),
    ("ml.inf2.48xlarge", 192, 0),
    ("ml.trn1.2xlarge", 8, 0),
    ("ml.trn1.32xlarge", 128, 0),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceShape {
    pub vcpus: u32,
    pub gpus: u32,
}

pub fn shape(instance_type: &str) -> Option<InstanceShape> {
    INSTANCE_TYPES
        .iter()
        .find(|(name, _, _)| *name == instance_type)
        .map(|&(_, vcpus, gpus)| InstanceShape { vcpus, gpus })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_shapes() {
        assert_eq!(
            shape("ml.m5.xlarge"),
            Some(InstanceShape { vcpus: 4, gpus: 0 })
        );
        assert_eq!(
            shape("ml.c5.9xlarge"),
            Some(InstanceShape { vcpus: 36, gpus: 0 })
        );
        assert_eq!(
            shape("ml.g5.12xlarge"),
            Some(InstanceShape { vcpus: 48, gpus: 4 })
        );
        assert_eq!(
            shape("ml.p4d.24xlarge"),
            Some(InstanceShape { vcpus: 96, gpus: 8 })
        );
        assert_eq!(
            shape("ml.inf2.xlarge"),
            Some(InstanceShape { vcpus: 4, gpus: 0 })
        );
    }

    #[test]
    fn unknown_types_are_not_guessed() {
        assert_eq!(shape("ml.m99.huge"), None);
        assert_eq!(shape("m5.xlarge"), None);
    }

    #[test]
    fn the_table_has_no_duplicates_and_no_zero_cpus() {
        let mut names: Vec<_> = INSTANCE_TYPES.iter().map(|e| e.0).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), INSTANCE_TYPES.len());
        assert!(INSTANCE_TYPES.iter().all(|e| e.1 > 0));
    }
}
