// The jobset-ts SDK (the package's main entry point): typed JobSets in code.
//
// - jobSet() / replicatedJob() / container(): build a JobSet; the result is defaulted and validated
//   exactly as `jobset lint` judges a file (JobSetInvalidError carries the field paths).
// - lint() and plan(): the offline checks of `jobset lint` and `jobset plan`, as functions.
// - JobSetClient: create/apply, get, list, watch, delete, waitFor("Completed" | "Failed"), pods' logs.
// The API's types and constants alone: `jobset-ts/api`.
export * from "./api.ts";
export {
  type ContainerExtra,
  container,
  type JobSetOptions,
  type JobSetSpecInput,
  jobSet,
  type ReplicatedJobInput,
  replicatedJob,
} from "./builder.ts";
export {
  ApiError,
  type ConnectOptions,
  isAlreadyExists,
  isConflict,
  isNotFound,
  JobSetClient,
  type Progress,
  type TerminalState,
  WaitError,
  type WaitOptions,
  type WatchEvent,
} from "./client.ts";
export type { FollowOptions, Outcome, Snapshot } from "./follow.ts";
export {
  type FeatureGateSettings,
  JobSetInvalidError,
  type LintOptions,
  type LintResult,
  lint,
} from "./lint.ts";
export { PlaceholderUID, PlanError, type PlanOptions, plan } from "./plan.ts";
