// The flags that make the local control plane serve the Kubernetes Workload API
// (scheduling.k8s.io/v1alpha2 Workload and PodGroup, Kubernetes v1.36) and run the scheduler's gang and
// topology plugins, for JobSets with spec.scheduling (docs/gang-scheduling.md). All of these features
// are alpha and off by default in v1.36; each component checks the gates' dependencies at startup.
//
//   kube-apiserver           serves the group version (storage needs GenericWorkload); GangScheduling
//                            and TopologyAwareWorkloadScheduling keep the PodGroup fields they gate
//                            (dropped silently otherwise)
//   kube-controller-manager  GenericWorkload runs the podgroup-protection controller, which removes the
//                            PodGroup finalizer once its pods are gone (else deleted PodGroups stay
//                            Terminating forever). WorkloadWithJob stays off: the Job controller would
//                            otherwise make its own Workloads for Indexed Jobs.
//   kube-scheduler           the gates auto-add the GangScheduling, TopologyPlacementGenerator and
//                            PodGroupPodsCount plugins to the default profile (we run the default one)

export const WorkloadApiGroupVersion = "scheduling.k8s.io/v1alpha2";

const gates = (names: readonly string[]) => `--feature-gates=${names.map((n) => `${n}=true`).join(",")}`;

export const WorkloadApiFeatureGates = {
  apiServer: ["GenericWorkload", "GangScheduling", "TopologyAwareWorkloadScheduling"],
  controllerManager: ["GenericWorkload"],
  scheduler: ["GenericWorkload", "GangScheduling", "TopologyAwareWorkloadScheduling"],
} as const;

/** Extra flags per component (appended after the launcher's own; --controllers accumulates). */
export const WorkloadApiFlags = {
  apiServer: [`--runtime-config=${WorkloadApiGroupVersion}=true`, gates(WorkloadApiFeatureGates.apiServer)],
  controllerManager: [gates(WorkloadApiFeatureGates.controllerManager), "--controllers=podgroup-protection-controller"],
  scheduler: [gates(WorkloadApiFeatureGates.scheduler)],
} as const;
