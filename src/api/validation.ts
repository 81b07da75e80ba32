// The JobSet validating webhook (spec §3): CREATE rules (§3.3) and UPDATE rules (§3.4), returning
// Kubernetes field errors in upstream's order with upstream's exact messages. Pure: the random source
// of the generateName suffix and the PVC lookups of rule 9 are inputs.
import { JobFailureReasons, Labels } from "./constants.ts";
import type { FeatureGates } from "./features.ts";
import {
  type FieldError,
  forbidden,
  internal,
  invalid,
  isDNS1035Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isValidLabelValue,
  maxLenError,
  plain,
  tooLong,
} from "./field-errors.ts";
import { GoTypes, GoValue, goReflectEqual, goSemanticEqual } from "./go-value.ts";
import type { PersistentVolumeClaim } from "./k8s.ts";
import { validateSchedulingCreate, validateSchedulingUpdate } from "./scheduling-validation.ts";
import type { JobSet, ReplicatedJob } from "./types.ts";

const MaxInt32 = 2147483647;
const dns1035MaxLengthMsg = maxLenError(63);

/** Go's zero value for a string field the request left out (messages never show `undefined`). */
const z = (v: string | undefined): string => v ?? "";

export const ValidationMessages = {
  inPlaceRestartGate: "InPlaceRestart restart strategy cannot be set when InPlaceRestart feature gate is disabled",
  dependsOnFirst: "DependsOn can't be set for the first ReplicatedJob",
  subdomainTooLong: ".spec.network.subdomain is too long, must be less than 63 characters",
  groupNameTooLong: ".spec.replicatedJob[].groupName is too long, must be less than 63 characters",
  jobNameTooLong: "JobSet name is too long, job names generated for this JobSet will exceed 63 characters",
  podNameTooLong: "JobSet name is too long, pod names generated for this JobSet will exceed 63 characters",
  replicasTimesParallelism: (rjob: string | undefined) =>
    `the product of replicas and parallelism must not exceed ${MaxInt32} for replicatedJob '${z(rjob)}'`,
  cannotDependOn: (rjob: string | undefined, dep: string | undefined) =>
    `replicatedJob: ${z(rjob)} cannot depend on replicatedJob: ${z(dep)}`,
  backoffLimitInPlace: (rjob: string | undefined) =>
    `replicatedJob ${z(rjob)}: must be set to 2147483647 (MaxInt32) when in-place restart is enabled`,
  podReplacementPolicyInPlace: (rjob: string | undefined) =>
    `replicatedJob ${z(rjob)}: must be set to Failed when in-place restart is enabled`,
  completionsInPlace: (rjob: string | undefined) =>
    `replicatedJob ${z(rjob)}: completions and parallelism must be set and equal to each other when in-place restart is enabled`,
  successPolicyTarget: (n: string | undefined) =>
    `invalid replicatedJob name '${z(n)}' does not appear in .spec.ReplicatedJobs`,
  restartJobGate:
    "RestartJob and RestartJobAndIgnoreMaxRestarts failure policy actions are not allowed when RestartJob feature gate is disabled",
  restartJobReplicas:
    "JobSet cannot have a failure policy rule with RestartJob or RestartJobAndIgnoreMaxRestarts action and a replicated job with replicas > 1024",
  ruleNameLength: (len: number) =>
    `invalid failure policy rule name of length ${len}, the rule name must be at least 1 characters long and at most 128 characters long`,
  ruleNameFormat: (name: string | undefined) =>
    `invalid failure policy rule name '${z(name)}', a failure policy rule name must start with an alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'`,
  failurePolicyTarget: (n: string | undefined) =>
    `invalid replicatedJob name '${z(n)}' in failure policy does not appear in .spec.ReplicatedJobs`,
  failureReason: (r: string | undefined) =>
    `invalid job failure reason '${z(r)}' in failure policy is not a recognized job failure reason`,
  ruleNamesNotUnique: (indices: number[], name: string | undefined) =>
    `rule names are not unique, rules with indices [${indices.join(" ")}] all have the same name '${z(name)}'`,
  coordinatorMissing: (rjob: string | undefined) => `coordinator replicatedJob ${z(rjob)} does not exist`,
  coordinatorJobIndex: (j: number, rjob: string | undefined) =>
    `coordinator job index ${j} is invalid for replicatedJob ${z(rjob)}`,
  coordinatorIndexed: "job for coordinator pod must be indexed completion mode, and completions number must be set",
  coordinatorPodIndex: (p: number, rjob: string | undefined, j: number) =>
    `coordinator pod index ${p} is invalid for replicatedJob ${z(rjob)} job index ${j}`,
  coordinatorLabel: (value: string | undefined, errs: string[]) =>
    `spec will lead to invalid label value "${z(value)}" for coordinator label "${Labels.Coordinator}" (long JobSet / ReplicatedJob / SubDomain name?): ${errs.join(", ")}`,
  vcpDuplicate: "names must be unique for VolumeClaimPolicies template",
  vcpTooLong: "VolumeClaimPolicies template name is too long",
  vcpVolumeConflict: (n: string | undefined) => `volume name conflicts with VolumeClaimPolicy template name: ${z(n)}`,
  vcpNoMount: (n: string | undefined) =>
    `replicatedJob containers don't have a matching volumeMount: ${z(n)} from VolumeClaimPolicies`,
  vcpSpecMismatch: (pvc: string | undefined, ns: string | undefined) =>
    `spec does not match existing PVC ${z(pvc)} in namespace ${z(ns)}`,
  vcpMustRetain: "retentionPolicy must be retain when PVC exists",
  vcpLookupFailed: (pvc: string | undefined, err: string | undefined) =>
    `failed to check for existing PVC ${z(pvc)}: ${z(err)}`,
  elasticTerminal: "Cannot mutate parallelism or completions when JobSet is in a terminal state (Completed or Failed)",
  elasticParallelism: "parallelism must be >= 1",
  elasticCompletions: "completions must be >= 1",
  elasticEqual: "completions must be equal to parallelism for Elastic Indexed Jobs",
  immutable: "field is immutable",
} as const;

// ---------------------------------------------------------------------------------------------- name for validation

/** Alphabet of k8s.io/apimachinery/pkg/util/rand.String (no vowels, no confusable characters). */
export const RandomAlphabet = "bcdfghjklmnpqrstvwxz2456789";
const MaxGeneratedNamePrefix = 58;

/**
 * The name the length checks use (§3.2): `metadata.name`, else the `generateName` prefix (at most 58
 * characters) plus 5 random characters, else "". `random` returns numbers in [0, 1).
 */
export function nameForValidation(js: JobSet, random: () => number = Math.random): string {
  const name = js.metadata?.name;
  if (name) return name;
  const prefix = js.metadata?.generateName;
  if (!prefix) return "";
  let out = prefix.length > MaxGeneratedNamePrefix ? prefix.slice(0, MaxGeneratedNamePrefix) : prefix;
  for (let i = 0; i < 5; i++) {
    out += RandomAlphabet[Math.floor(random() * RandomAlphabet.length) % RandomAlphabet.length];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- CREATE

/** Result of looking up one existing PVC: the object, undefined when it does not exist, or a lookup error. */
export type PvcLookupResult = PersistentVolumeClaim | undefined | Error;

export interface CreateContext {
  /** Random source of the generateName suffix (default Math.random). */
  random?: () => number;
  /** Precomputed name for validation (overrides `random`). */
  nameForValidation?: string;
  /**
   * Existing PVC `name` in the JobSet's namespace (rule 9). Absent: no PVC exists. Use
   * `pvcNamesToLookUp` + `validateCreateWithLookup` to fetch them asynchronously.
   */
  lookupPVC?: (name: string) => PvcLookupResult;
}

// Absent fields are Go zero values, as in upstream's typed object: the webhook does not rely on the API
// server's defaulting (a raw request without `replicas` counts 0 replicas, without `groupName` is "").
const replicasOf = (rjob: ReplicatedJob): number => rjob.replicas ?? 0;
const groupNameOf = (rjob: ReplicatedJob): string => rjob.groupName ?? "";
const isIndexed = (rjob: ReplicatedJob): boolean => rjob.template?.spec?.completionMode === "Indexed";
const podTemplateSpec = (rjob: ReplicatedJob) => rjob.template?.spec?.template?.spec;

/** The CREATE rules of the validating webhook (§3.3), in evaluation order. */
export function validateCreate(js: JobSet, gates: FeatureGates, ctx: CreateContext = {}): FieldError[] {
  const errs: FieldError[] = [];
  const spec = js.spec ?? {};
  const rjobs = spec.replicatedJobs ?? [];
  const rjobNames = rjobs.map((r) => r.name);
  const name = ctx.nameForValidation ?? nameForValidation(js, ctx.random);
  const inPlace = spec.failurePolicy?.restartStrategy === "InPlaceRestart";

  // 1. InPlaceRestart gate.
  if (!gates.InPlaceRestart && inPlace) errs.push(plain(ValidationMessages.inPlaceRestartGate));

  // 2. dependsOn on the first replicated job (even an empty list).
  if (rjobs.length > 0 && rjobs[0]?.dependsOn != null) errs.push(plain(ValidationMessages.dependsOnFirst));

  // 3. Subdomain: DNS-1123 subdomain and DNS-1035 label.
  const subdomain = spec.network?.subdomain ?? "";
  if (subdomain !== "") {
    const path = "spec.network.subdomain";
    for (const m of isDNS1123Subdomain(subdomain)) errs.push(invalid(path, subdomain, m));
    for (const m of isDNS1035Label(subdomain)) {
      errs.push(invalid(path, subdomain, m.includes(dns1035MaxLengthMsg) ? ValidationMessages.subdomainTooLong : m));
    }
  }

  // 4. managedBy.
  if (spec.managedBy != null) {
    const path = "spec.managedBy";
    errs.push(...isDomainPrefixedPath(path, spec.managedBy));
    if (Buffer.byteLength(spec.managedBy, "utf8") > 63) errs.push(tooLong(path, 63));
  }

  // 5. Each replicated job.
  const seen = new Set<string>();
  rjobs.forEach((rjob, i) => {
    const base = `spec.replicatedJobs[${i}]`;
    const replicas = replicasOf(rjob);
    const jobSpec = rjob.template?.spec;
    const parallelism = jobSpec?.parallelism ?? 1;
    if (parallelism * replicas > MaxInt32) errs.push(plain(ValidationMessages.replicasTimesParallelism(rjob.name)));

    const groupName = groupNameOf(rjob);
    for (const m of isDNS1035Label(groupName)) {
      errs.push(
        invalid(
          `${base}.groupName`,
          groupName,
          m.includes(dns1035MaxLengthMsg) ? ValidationMessages.groupNameTooLong : m,
        ),
      );
    }

    const longestJobName = `${name}-${rjob.name}-${replicas - 1}`;
    for (const m of isDNS1035Label(longestJobName)) {
      errs.push(
        invalid(
          `${base}.name`,
          longestJobName,
          m.includes(dns1035MaxLengthMsg) ? ValidationMessages.jobNameTooLong : m,
        ),
      );
    }
    if (isIndexed(rjob) && jobSpec?.completions != null) {
      const longestPodName = `${longestJobName}-${jobSpec.completions - 1}-abcde`;
      for (const m of isDNS1035Label(longestPodName)) {
        errs.push(
          invalid(
            `${base}.name`,
            longestJobName,
            m.includes(dns1035MaxLengthMsg) ? ValidationMessages.podNameTooLong : m,
          ),
        );
      }
    }

    seen.add(rjob.name);
    for (const dep of rjob.dependsOn ?? []) {
      if (!seen.has(dep.name)) errs.push(plain(ValidationMessages.cannotDependOn(rjob.name, dep.name)));
    }

    if (gates.InPlaceRestart && inPlace) {
      const sp = `${base}.template.spec`;
      if (jobSpec?.backoffLimit !== MaxInt32) {
        errs.push(
          invalid(
            `${sp}.backoffLimit`,
            new GoValue(jobSpec?.backoffLimit, "*int32"),
            ValidationMessages.backoffLimitInPlace(rjob.name),
          ),
        );
      }
      if (jobSpec?.podReplacementPolicy !== "Failed") {
        errs.push(
          invalid(
            `${sp}.podReplacementPolicy`,
            new GoValue(jobSpec?.podReplacementPolicy, "*string"),
            ValidationMessages.podReplacementPolicyInPlace(rjob.name),
          ),
        );
      }
      if (jobSpec?.completions == null || jobSpec.parallelism == null || jobSpec.completions !== jobSpec.parallelism) {
        errs.push(
          invalid(
            `${sp}.completions`,
            new GoValue(jobSpec?.completions, "*int32"),
            ValidationMessages.completionsInPlace(rjob.name),
          ),
        );
      }
    }
  });

  // 6. Success policy targets.
  for (const n of spec.successPolicy?.targetReplicatedJobs ?? []) {
    if (!rjobNames.includes(n)) errs.push(plain(ValidationMessages.successPolicyTarget(n)));
  }

  // 7. Failure policy.
  if (spec.failurePolicy) errs.push(...validateFailurePolicy(js, gates, rjobNames));

  // 8. Coordinator.
  if (spec.coordinator) errs.push(...validateCoordinator(js, name));

  // 9. Volume claim policies.
  if ((spec.volumeClaimPolicies ?? []).length > 0) errs.push(...validateVolumeClaimPolicies(js, name, ctx.lookupPVC));

  errs.push(...validateSchedulingCreate(js, gates)); // spec.scheduling (scheduling-validation.ts)
  return errs;
}

const ruleNameRe = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

function validateFailurePolicy(js: JobSet, gates: FeatureGates, rjobNames: string[]): FieldError[] {
  const errs: FieldError[] = [];
  const rules = js.spec?.failurePolicy?.rules ?? [];
  const usesRestartJob = rules.some((r) => r.action === "RestartJob" || r.action === "RestartJobAndIgnoreMaxRestarts");
  if (usesRestartJob) {
    if (!gates.RestartJob) return [plain(ValidationMessages.restartJobGate)];
    if ((js.spec?.replicatedJobs ?? []).some((r) => replicasOf(r) > 1024)) {
      errs.push(plain(ValidationMessages.restartJobReplicas));
    }
  }
  const byName = new Map<string, number[]>();
  rules.forEach((rule, index) => {
    const ruleName = rule.name ?? "";
    const len = Buffer.byteLength(ruleName, "utf8");
    if (len < 1 || len > 128) errs.push(plain(ValidationMessages.ruleNameLength(len)));
    byName.set(ruleName, [...(byName.get(ruleName) ?? []), index]);
    if (!ruleNameRe.test(ruleName)) errs.push(plain(ValidationMessages.ruleNameFormat(ruleName)));
    for (const n of rule.targetReplicatedJobs ?? []) {
      if (!rjobNames.includes(n)) errs.push(plain(ValidationMessages.failurePolicyTarget(n)));
    }
    for (const r of rule.onJobFailureReasons ?? []) {
      if (!(JobFailureReasons as readonly string[]).includes(r)) errs.push(plain(ValidationMessages.failureReason(r)));
    }
  });
  // Upstream iterates a Go map here (unspecified order); we report in order of first occurrence.
  for (const [ruleName, indices] of byName) {
    if (indices.length > 1) errs.push(plain(ValidationMessages.ruleNamesNotUnique(indices, ruleName)));
  }
  return errs;
}

function validateCoordinator(js: JobSet, name: string): FieldError[] {
  const errs: FieldError[] = [];
  const coord = js.spec?.coordinator;
  if (!coord) return errs;
  const j = coord.jobIndex ?? 0;
  const p = coord.podIndex ?? 0;
  const rjob = (js.spec?.replicatedJobs ?? []).find((r) => r.name === coord.replicatedJob);
  if (!rjob) {
    errs.push(plain(ValidationMessages.coordinatorMissing(coord.replicatedJob)));
  } else if (j < 0 || j >= replicasOf(rjob)) {
    errs.push(plain(ValidationMessages.coordinatorJobIndex(j, rjob.name)));
  } else if (!isIndexed(rjob) || rjob.template?.spec?.completions == null) {
    errs.push(plain(ValidationMessages.coordinatorIndexed));
  } else if (p < 0 || p >= rjob.template.spec.completions) {
    errs.push(plain(ValidationMessages.coordinatorPodIndex(p, rjob.name, j)));
  }
  const subdomain = js.spec?.network?.subdomain || name;
  const endpoint = `${name}-${coord.replicatedJob}-${j}-${p}.${subdomain}`;
  const labelErrs = isValidLabelValue(endpoint);
  if (labelErrs.length > 0) errs.push(plain(ValidationMessages.coordinatorLabel(endpoint, labelErrs)));
  return errs;
}

/** Names of the PVCs rule 9 looks up (`<template name>-<nameForValidation>`), in evaluation order. */
export function pvcNamesToLookUp(js: JobSet, name: string): string[] {
  const out: string[] = [];
  for (const policy of js.spec?.volumeClaimPolicies ?? []) {
    for (const t of policy.templates ?? []) out.push(`${t.metadata?.name ?? ""}-${name}`);
  }
  return out;
}

function validateVolumeClaimPolicies(
  js: JobSet,
  name: string,
  lookupPVC: ((name: string) => PvcLookupResult) | undefined,
): FieldError[] {
  const errs: FieldError[] = [];
  const rjobs = js.spec?.replicatedJobs ?? [];
  const namespace = js.metadata?.namespace ?? "";
  const seen = new Set<string>();
  (js.spec?.volumeClaimPolicies ?? []).forEach((policy, i) => {
    (policy.templates ?? []).forEach((template, j) => {
      const tpath = `spec.volumeClaimPolicies[${i}].template[${j}]`;
      const n = template.metadata?.name ?? "";
      if (seen.has(n)) errs.push(invalid(`${tpath}.name`, n, ValidationMessages.vcpDuplicate));
      seen.add(n);
      for (const m of isDNS1123Subdomain(n)) errs.push(invalid(`${tpath}.name`, n, m));
      if (Buffer.byteLength(`${n}-${name}`, "utf8") > 63) {
        errs.push(invalid(`${tpath}.name`, n, ValidationMessages.vcpTooLong));
      }
      let mounted = false;
      rjobs.forEach((rjob, k) => {
        const podSpec = podTemplateSpec(rjob);
        (podSpec?.volumes ?? []).forEach((volume, v) => {
          if (volume.name === n) {
            errs.push(
              invalid(
                `spec.replicatedJobs[${k}].template.spec.template.spec.volumes[${v}].name`,
                n,
                ValidationMessages.vcpVolumeConflict(n),
              ),
            );
          }
        });
        for (const c of [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])]) {
          if ((c.volumeMounts ?? []).some((m) => m.name === n)) mounted = true;
        }
      });
      if (!mounted)
        errs.push(
          invalid("spec.replicatedJobs", new GoValue(rjobs, GoTypes.ReplicatedJobs), ValidationMessages.vcpNoMount(n)),
        );

      const pvcName = `${n}-${name}`;
      const found = lookupPVC?.(pvcName);
      if (found instanceof Error) {
        errs.push(internal(tpath, ValidationMessages.vcpLookupFailed(pvcName, found.message)));
      } else if (found !== undefined) {
        // reflect.DeepEqual, as upstream compares them: "1024Mi" is not "1Gi" here. Through the API server the
        // mutating webhook has already rewritten the template's quantities (the Go round trip), so it matches.
        if (!goReflectEqual(found.spec, template.spec, GoTypes.PersistentVolumeClaimSpec)) {
          errs.push(
            invalid(
              `${tpath}.spec`,
              new GoValue(template.spec, GoTypes.PersistentVolumeClaimSpec),
              ValidationMessages.vcpSpecMismatch(pvcName, namespace),
            ),
          );
        }
        const whenDeleted = policy.retentionPolicy?.whenDeleted ?? "";
        if (whenDeleted !== "Retain") {
          errs.push(
            invalid(
              `spec.volumeClaimPolicies[${i}].retentionPolicy.whenDeleted`,
              whenDeleted,
              ValidationMessages.vcpMustRetain,
            ),
          );
        }
      }
    });
  });
  return errs;
}

/**
 * validateCreate with asynchronous PVC lookups (the webhook reads `<template>-<name>` in the JobSet's
 * namespace from its PVC cache). `getPVC` resolves undefined for "not found" and rejects for other errors.
 */
export async function validateCreateWithLookup(
  js: JobSet,
  gates: FeatureGates,
  getPVC: (namespace: string, name: string) => Promise<PersistentVolumeClaim | undefined>,
  random: () => number = Math.random,
): Promise<FieldError[]> {
  const name = nameForValidation(js, random);
  const namespace = js.metadata?.namespace ?? "";
  const results = new Map<string, PvcLookupResult>();
  if ((js.spec?.volumeClaimPolicies ?? []).length > 0) {
    for (const pvc of pvcNamesToLookUp(js, name)) {
      if (results.has(pvc)) continue;
      // Upstream reads its informer cache, where no object has an invalid name: not found, no API call.
      if (isDNS1123Subdomain(pvc).length > 0) {
        results.set(pvc, undefined);
        continue;
      }
      try {
        results.set(pvc, await getPVC(namespace, pvc));
      } catch (err) {
        results.set(pvc, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
  return validateCreate(js, gates, { nameForValidation: name, lookupPVC: (n) => results.get(n) });
}

// ---------------------------------------------------------------------------------------------- UPDATE

const hasTrueCondition = (js: JobSet, type: string): boolean =>
  (js.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");

/** The UPDATE rules of the validating webhook (§3.4). No CREATE rule is re-run. */
export function validateUpdate(newJs: JobSet, oldJs: JobSet, gates: FeatureGates): FieldError[] {
  const errs: FieldError[] = [];
  const newRjobs = newJs.spec?.replicatedJobs ?? [];
  const oldRjobs = oldJs.spec?.replicatedJobs ?? [];
  // The fields the rules may mutate are reset on a copy; without the gate or a suspension, no copy is needed.
  const suspended = oldJs.spec?.suspend === true || newJs.spec?.suspend === true;
  // Copies only the objects on the paths to the fields that are reset (the rest is shared, never modified).
  const munged =
    gates.ElasticJobSet || suspended ? newJs.spec?.replicatedJobs?.map(copyResetPaths) : newJs.spec?.replicatedJobs;
  const oldByName = new Map(oldRjobs.map((r) => [r.name, r] as const));

  if (gates.ElasticJobSet) {
    const terminal = hasTrueCondition(oldJs, "Completed") || hasTrueCondition(oldJs, "Failed");
    newRjobs.forEach((rjob, i) => {
      const old = oldByName.get(rjob.name);
      if (!old || !isIndexed(rjob)) return;
      const base = `spec.replicatedJobs[${i}].template.spec`;
      const np = rjob.template?.spec?.parallelism;
      const nc = rjob.template?.spec?.completions;
      const op = old.template?.spec?.parallelism;
      const oc = old.template?.spec?.completions;
      const pChanged = (np ?? null) !== (op ?? null);
      const cChanged = (nc ?? null) !== (oc ?? null);
      if (pChanged || cChanged) {
        if (terminal) {
          errs.push(forbidden(base, ValidationMessages.elasticTerminal));
        } else {
          if (pChanged && np != null && np < 1) {
            errs.push(invalid(`${base}.parallelism`, np, ValidationMessages.elasticParallelism));
          }
          if (cChanged && nc != null && nc < 1) {
            errs.push(invalid(`${base}.completions`, nc, ValidationMessages.elasticCompletions));
          }
          if (np != null && nc != null && np !== nc) {
            errs.push(invalid(`${base}.completions`, nc, ValidationMessages.elasticEqual));
          }
        }
      }
      const target = munged?.[i]?.template?.spec;
      if (target) {
        setOrDelete(target, "parallelism", op);
        setOrDelete(target, "completions", oc);
      }
    });
  }

  if (suspended) {
    newRjobs.forEach((rjob, i) => {
      const old = oldByName.get(rjob.name);
      const target = munged?.[i]?.template?.spec?.template;
      if (!old || !target) return;
      const oldPod = old.template?.spec?.template;
      if (target.metadata || oldPod?.metadata?.annotations || oldPod?.metadata?.labels) {
        target.metadata ??= {};
        setOrDelete(target.metadata, "annotations", oldPod?.metadata?.annotations);
        setOrDelete(target.metadata, "labels", oldPod?.metadata?.labels);
      }
      if (target.spec) {
        setOrDelete(target.spec, "nodeSelector", oldPod?.spec?.nodeSelector);
        setOrDelete(target.spec, "tolerations", oldPod?.spec?.tolerations);
        setOrDelete(target.spec, "schedulingGates", oldPod?.spec?.schedulingGates);
      }
    });
  }

  if (!goSemanticEqual(munged, oldJs.spec?.replicatedJobs, GoTypes.ReplicatedJobs)) {
    errs.push(
      invalid("spec.replicatedJobs", new GoValue(munged, GoTypes.ReplicatedJobs), ValidationMessages.immutable),
    );
  }
  // A *string: removing `managedBy: ""` (nil vs pointer to "") is a change.
  if (!goSemanticEqual(newJs.spec?.managedBy, oldJs.spec?.managedBy, "*string")) {
    errs.push(invalid("spec.managedBy", new GoValue(newJs.spec?.managedBy, "*string"), ValidationMessages.immutable));
  }
  errs.push(...validateSchedulingUpdate(newJs, oldJs, gates)); // spec.scheduling (scheduling-validation.ts)
  return errs;
}

/** A copy of `rjob` whose template, job spec, pod template and its metadata/spec are own (shallow) copies. */
function copyResetPaths(rjob: ReplicatedJob): ReplicatedJob {
  const template = rjob.template ? { ...rjob.template } : rjob.template;
  if (template?.spec) {
    template.spec = { ...template.spec };
    const pod = template.spec.template;
    if (pod) {
      template.spec.template = {
        ...pod,
        ...(pod.metadata ? { metadata: { ...pod.metadata } } : {}),
        ...(pod.spec ? { spec: { ...pod.spec } } : {}),
      };
    }
  }
  return { ...rjob, template };
}

/** Sets `key` to the old object's value (shared, read only) or deletes it. */
function setOrDelete<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}
