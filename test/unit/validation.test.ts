import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultJobSet } from "../../src/api/defaults.ts";
import { defaultFeatureGates, type FeatureGates } from "../../src/api/features.ts";
import { formatFieldError } from "../../src/api/field-errors.ts";
import { GoTypes, goMarshal } from "../../src/api/go-value.ts";
import type { PersistentVolumeClaim } from "../../src/api/k8s.ts";
import type { JobSet, ReplicatedJob } from "../../src/api/types.ts";
import {
  nameForValidation,
  type PvcLookupResult,
  validateCreate,
  validateCreateWithLookup,
  validateUpdate,
} from "../../src/api/validation.ts";

// ---------------------------------------------------------------------------------------------- helpers

const gatesWith = (g: Partial<FeatureGates>): FeatureGates => ({ ...defaultFeatureGates, ...g });
const allGates = gatesWith({ InPlaceRestart: true, RestartJob: true, ElasticJobSet: true });

interface RjobOpts {
  replicas?: number;
  groupName?: string;
  parallelism?: number;
  completions?: number;
  completionMode?: "Indexed" | "NonIndexed";
  dependsOn?: ReplicatedJob["dependsOn"];
  backoffLimit?: number;
  podReplacementPolicy?: string;
  volumes?: string[];
  mounts?: string[];
  initMounts?: string[];
}

function rjob(name: string, o: RjobOpts = {}): ReplicatedJob {
  const r: ReplicatedJob = {
    name,
    groupName: o.groupName ?? "default",
    replicas: o.replicas ?? 1,
    template: {
      spec: {
        ...(o.parallelism !== undefined ? { parallelism: o.parallelism } : {}),
        ...(o.completions !== undefined ? { completions: o.completions } : {}),
        ...(o.backoffLimit !== undefined ? { backoffLimit: o.backoffLimit } : {}),
        ...(o.podReplacementPolicy !== undefined ? { podReplacementPolicy: o.podReplacementPolicy } : {}),
        ...(o.completionMode !== undefined ? { completionMode: o.completionMode } : {}),
        template: {
          spec: {
            containers: [
              {
                name: "c",
                image: "busybox",
                ...(o.mounts ? { volumeMounts: o.mounts.map((m) => ({ name: m, mountPath: `/${m}` })) } : {}),
              },
            ],
            ...(o.initMounts
              ? {
                  initContainers: [
                    {
                      name: "i",
                      image: "busybox",
                      volumeMounts: o.initMounts.map((m) => ({ name: m, mountPath: "/x" })),
                    },
                  ],
                }
              : {}),
            ...(o.volumes ? { volumes: o.volumes.map((v) => ({ name: v, emptyDir: {} })) } : {}),
          },
        },
      },
    },
  };
  if (o.dependsOn !== undefined) r.dependsOn = o.dependsOn;
  return r;
}

/** A JobSet as the validating webhook sees it on CREATE: after the defaulting webhook. */
function js(spec: NonNullable<JobSet["spec"]>, meta: JobSet["metadata"] = { name: "js", namespace: "ns" }): JobSet {
  return defaultJobSet({ apiVersion: "jobset.x-k8s.io/v1alpha2", kind: "JobSet", metadata: meta, spec });
}

const fixedRandom = () => 0; // generateName suffix "bbbbb"
const run = (j: JobSet, gates: FeatureGates = defaultFeatureGates, lookupPVC?: (n: string) => PvcLookupResult) =>
  validateCreate(j, gates, { random: fixedRandom, ...(lookupPVC ? { lookupPVC } : {}) }).map(formatFieldError);

const nm = (n: number, c = "a") => c.repeat(n);
const P = "<nil>: Internal error: ";

const dns1123Sub =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const dns1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const jobTooLong = "JobSet name is too long, job names generated for this JobSet will exceed 63 characters";
const podTooLong = "JobSet name is too long, pod names generated for this JobSet will exceed 63 characters";

interface Row {
  name: string;
  js: JobSet;
  gates?: FeatureGates;
  lookupPVC?: (n: string) => PvcLookupResult;
  want: string[];
}

const one = [rjob("r")];

// ---------------------------------------------------------------------------------------------- CREATE rows

const createRows: Row[] = [
  { name: "minimal JobSet passes", js: js({ replicatedJobs: one }), want: [] },
  { name: "empty spec passes", js: js({}), want: [] },

  // 1. InPlaceRestart gate
  {
    name: "rule 1: InPlaceRestart strategy with gate off",
    js: js({ replicatedJobs: one, failurePolicy: { restartStrategy: "InPlaceRestart" } }),
    want: [`${P}InPlaceRestart restart strategy cannot be set when InPlaceRestart feature gate is disabled`],
  },
  {
    name: "rule 1: InPlaceRestart strategy with gate on and a compliant job",
    js: js({
      replicatedJobs: [
        rjob("r", { backoffLimit: 2147483647, podReplacementPolicy: "Failed", parallelism: 2, completions: 2 }),
      ],
      failurePolicy: { restartStrategy: "InPlaceRestart" },
    }),
    gates: gatesWith({ InPlaceRestart: true }),
    want: [],
  },
  {
    name: "rule 1: Recreate with gate off passes",
    js: js({ replicatedJobs: one, failurePolicy: { restartStrategy: "Recreate" } }),
    want: [],
  },

  // 2. dependsOn on the first rjob
  {
    name: "rule 2: dependsOn on the first rjob",
    js: js({ replicatedJobs: [rjob("a", { dependsOn: [{ name: "a", status: "Ready" }] })] }),
    want: [`${P}DependsOn can't be set for the first ReplicatedJob`],
  },
  {
    name: "rule 2: empty dependsOn list on the first rjob is still rejected",
    js: js({ replicatedJobs: [rjob("a", { dependsOn: [] })] }),
    want: [`${P}DependsOn can't be set for the first ReplicatedJob`],
  },
  {
    name: "rule 2/5e: dependsOn on a later rjob naming an earlier one passes",
    js: js({ replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ name: "a", status: "Complete" }] })] }),
    want: [],
  },

  // 3. subdomain
  { name: "rule 3: valid subdomain", js: js({ replicatedJobs: one, network: { subdomain: "my-sub" } }), want: [] },
  {
    name: "rule 3: uppercase subdomain fails both checks",
    js: js({ replicatedJobs: one, network: { subdomain: "Foo" } }),
    want: [
      `spec.network.subdomain: Invalid value: "Foo": ${dns1123Sub}`,
      `spec.network.subdomain: Invalid value: "Foo": ${dns1035}`,
    ],
  },
  {
    name: "rule 3: dotted subdomain is a DNS-1123 subdomain but not a DNS-1035 label",
    js: js({ replicatedJobs: one, network: { subdomain: "a.b" } }),
    want: [`spec.network.subdomain: Invalid value: "a.b": ${dns1035}`],
  },
  {
    name: "rule 3: 64-character subdomain gets the replaced length message",
    js: js({ replicatedJobs: one, network: { subdomain: nm(64) } }),
    want: [
      `spec.network.subdomain: Invalid value: "${nm(64)}": .spec.network.subdomain is too long, must be less than 63 characters`,
    ],
  },
  {
    name: "rule 3: 63-character subdomain passes",
    js: js({ replicatedJobs: one, network: { subdomain: nm(63) } }),
    want: [],
  },

  // 4. managedBy
  {
    name: "rule 4: valid managedBy",
    js: js({ replicatedJobs: one, managedBy: "kueue.x-k8s.io/multikueue" }),
    want: [],
  },
  {
    name: "rule 4: empty managedBy",
    js: js({ replicatedJobs: one, managedBy: "" }),
    want: ["spec.managedBy: Required value"],
  },
  {
    name: "rule 4: managedBy without a slash",
    js: js({ replicatedJobs: one, managedBy: "kueue" }),
    want: ['spec.managedBy: Invalid value: "kueue": must be a domain-prefixed path (such as "acme.io/foo")'],
  },
  {
    name: "rule 4: managedBy with a bad host",
    js: js({ replicatedJobs: one, managedBy: "Kueue/x" }),
    want: [`spec.managedBy: Invalid value: "Kueue": ${dns1123Sub}`],
  },
  {
    name: "rule 4: managedBy with a bad path",
    js: js({ replicatedJobs: one, managedBy: "acme.io/a b" }),
    want: [
      "spec.managedBy: Invalid value: \"a b\": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
    ],
  },
  {
    name: "rule 4: managedBy longer than 63 bytes",
    js: js({ replicatedJobs: one, managedBy: `acme.io/${nm(56)}` }),
    want: ["spec.managedBy: Too long: may not be more than 63 bytes"],
  },
  {
    name: "rule 4: managedBy of exactly 63 bytes",
    js: js({ replicatedJobs: one, managedBy: `acme.io/${nm(55)}` }),
    want: [],
  },

  // 5a. replicas × parallelism
  {
    name: "rule 5a: product over MaxInt32",
    js: js({ replicatedJobs: [rjob("r", { replicas: 2, parallelism: 1073741824 })] }),
    want: [`${P}the product of replicas and parallelism must not exceed 2147483647 for replicatedJob 'r'`],
  },
  {
    name: "rule 5a: product equal to MaxInt32 passes",
    js: js({ replicatedJobs: [rjob("r", { replicas: 1, parallelism: 2147483647 })] }),
    want: [],
  },

  // 5b. groupName
  {
    name: "rule 5b: invalid groupName",
    js: js({ replicatedJobs: [rjob("r", { groupName: "Group1" })] }),
    want: [`spec.replicatedJobs[0].groupName: Invalid value: "Group1": ${dns1035}`],
  },
  {
    name: "rule 5b: empty groupName",
    js: js({ replicatedJobs: [rjob("r", { groupName: "" })] }),
    want: [`spec.replicatedJobs[0].groupName: Invalid value: "": ${dns1035}`],
  },
  {
    name: "rule 5b: 64-character groupName",
    js: js({ replicatedJobs: [rjob("r", { groupName: nm(64) })] }),
    want: [
      `spec.replicatedJobs[0].groupName: Invalid value: "${nm(64)}": .spec.replicatedJob[].groupName is too long, must be less than 63 characters`,
    ],
  },

  // 5c. job names
  {
    name: "rule 5c: uppercase rjob name",
    js: js({ replicatedJobs: [rjob("Work")] }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "js-Work-0": ${dns1035}`],
  },
  {
    name: "rule 5c: JobSet name starting with a digit",
    js: js({ replicatedJobs: one }, { name: "1js" }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "1js-r-0": ${dns1035}`],
  },
  {
    name: "rule 5c: replicas 0 gives index -1, still valid",
    js: js({ replicatedJobs: [rjob("r", { replicas: 0 })] }),
    want: [],
  },
  {
    name: "rule 5c: empty rjob name is accepted",
    js: js({ replicatedJobs: [rjob("")] }),
    want: [],
  },
  // §3.2: J + R + d(replicas-1) + 2 <= 63
  {
    name: "§3.2 job name: J=59 R=1 replicas=1 (63 chars) passes",
    js: js({ replicatedJobs: one }, { name: nm(59) }),
    want: [],
  },
  {
    name: "§3.2 job name: J=60 R=1 replicas=1 (64 chars) fails",
    js: js({ replicatedJobs: one }, { name: nm(60) }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "${nm(60)}-r-0": ${jobTooLong}`],
  },
  {
    name: "§3.2 job name: J=58 R=1 replicas=11 (63 chars) passes",
    js: js({ replicatedJobs: [rjob("r", { replicas: 11 })] }, { name: nm(58) }),
    want: [],
  },
  {
    name: "§3.2 job name: J=59 R=1 replicas=11 (64 chars) fails",
    js: js({ replicatedJobs: [rjob("r", { replicas: 11 })] }, { name: nm(59) }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "${nm(59)}-r-10": ${jobTooLong}`],
  },
  {
    name: "§3.2 job name: J=58 R=1 replicas=10 (index 9, 62 chars) passes",
    js: js({ replicatedJobs: [rjob("r", { replicas: 10 })] }, { name: nm(58) }),
    want: [],
  },
  // §3.2: pod name J + R + d(r-1) + d(c-1) + 9 <= 63
  {
    name: "§3.2 pod name: replicas=1 completions=1, J+R=52 passes",
    js: js({ replicatedJobs: [rjob("r", { completions: 1 })] }, { name: nm(51) }),
    want: [],
  },
  {
    name: "§3.2 pod name: replicas=1 completions=1, J+R=53 fails with the job name as value",
    js: js({ replicatedJobs: [rjob("r", { completions: 1 })] }, { name: nm(52) }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "${nm(52)}-r-0": ${podTooLong}`],
  },
  {
    name: "§3.2 pod name: completions=11 adds a digit",
    js: js({ replicatedJobs: [rjob("r", { completions: 11 })] }, { name: nm(51) }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "${nm(51)}-r-0": ${podTooLong}`],
  },
  {
    name: "§3.2 pod name: not checked for NonIndexed jobs",
    js: js({ replicatedJobs: [rjob("r", { completions: 1, completionMode: "NonIndexed" })] }, { name: nm(59) }),
    want: [],
  },
  {
    name: "§3.2 pod name: not checked without completions",
    js: js({ replicatedJobs: [rjob("r")] }, { name: nm(59) }),
    want: [],
  },
  {
    name: "§3.2 both job and pod names too long",
    js: js({ replicatedJobs: [rjob("r", { completions: 1 })] }, { name: nm(60) }),
    want: [
      `spec.replicatedJobs[0].name: Invalid value: "${nm(60)}-r-0": ${jobTooLong}`,
      `spec.replicatedJobs[0].name: Invalid value: "${nm(60)}-r-0": ${podTooLong}`,
    ],
  },
  // §3.2 generateName: prefix (<= 58) + 5 random characters
  {
    name: "§3.2 generateName: prefix 54 + 5 = 59 passes",
    js: js({ replicatedJobs: one }, { generateName: nm(54) }),
    want: [],
  },
  {
    name: "§3.2 generateName: prefix 55 + 5 = 60 fails, value uses the generated suffix",
    js: js({ replicatedJobs: one }, { generateName: nm(55) }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "${nm(55)}bbbbb-r-0": ${jobTooLong}`],
  },
  {
    name: "§3.2 generateName: long prefix truncated to 58",
    js: js({ replicatedJobs: one }, { generateName: nm(80) }),
    want: [`spec.replicatedJobs[0].name: Invalid value: "${nm(58)}bbbbb-r-0": ${jobTooLong}`],
  },
  {
    name: "§3.2 no name and no generateName: empty name",
    js: js({ replicatedJobs: one }, {}),
    want: [`spec.replicatedJobs[0].name: Invalid value: "-r-0": ${dns1035}`],
  },

  // 5e. dependsOn
  {
    name: "rule 5e: dependsOn on a later rjob",
    js: js({ replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ name: "c", status: "Ready" }] }), rjob("c")] }),
    want: [`${P}replicatedJob: b cannot depend on replicatedJob: c`],
  },
  {
    name: "rule 5e: every dependsOn item is checked",
    js: js({
      replicatedJobs: [
        rjob("a"),
        rjob("b", {
          dependsOn: [
            { name: "a", status: "Ready" },
            { name: "x", status: "Ready" },
            { name: "y", status: "Complete" },
          ],
        }),
      ],
    }),
    want: [
      `${P}replicatedJob: b cannot depend on replicatedJob: x`,
      `${P}replicatedJob: b cannot depend on replicatedJob: y`,
    ],
  },
  {
    name: "rule 5e: a dependsOn item without a name is Go's empty string, never `undefined` (found by the upstream oracle)",
    js: js({
      replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ status: "Ready" } as { name: string; status: "Ready" }] })],
    }),
    want: [`${P}replicatedJob: b cannot depend on replicatedJob: `],
  },
  {
    name: "rule 5e: self-dependency passes (upstream behaviour)",
    js: js({ replicatedJobs: [rjob("a"), rjob("b", { dependsOn: [{ name: "b", status: "Ready" }] })] }),
    want: [],
  },

  // 5f. in-place restart requirements
  {
    name: "rule 5f: in-place restart with defaults missing",
    js: js({ replicatedJobs: one, failurePolicy: { restartStrategy: "InPlaceRestart" } }),
    gates: gatesWith({ InPlaceRestart: true }),
    want: [
      "spec.replicatedJobs[0].template.spec.backoffLimit: Invalid value: null: replicatedJob r: must be set to 2147483647 (MaxInt32) when in-place restart is enabled",
      "spec.replicatedJobs[0].template.spec.podReplacementPolicy: Invalid value: null: replicatedJob r: must be set to Failed when in-place restart is enabled",
      "spec.replicatedJobs[0].template.spec.completions: Invalid value: null: replicatedJob r: completions and parallelism must be set and equal to each other when in-place restart is enabled",
    ],
  },
  {
    name: "rule 5f: in-place restart with wrong values",
    js: js({
      replicatedJobs: [
        rjob("r", { backoffLimit: 6, podReplacementPolicy: "TerminatingOrFailed", parallelism: 2, completions: 3 }),
      ],
      failurePolicy: { restartStrategy: "InPlaceRestart" },
    }),
    gates: gatesWith({ InPlaceRestart: true }),
    want: [
      "spec.replicatedJobs[0].template.spec.backoffLimit: Invalid value: 6: replicatedJob r: must be set to 2147483647 (MaxInt32) when in-place restart is enabled",
      'spec.replicatedJobs[0].template.spec.podReplacementPolicy: Invalid value: "TerminatingOrFailed": replicatedJob r: must be set to Failed when in-place restart is enabled',
      "spec.replicatedJobs[0].template.spec.completions: Invalid value: 3: replicatedJob r: completions and parallelism must be set and equal to each other when in-place restart is enabled",
    ],
  },

  // 6. success policy
  {
    name: "rule 6: success policy target missing",
    js: js({ replicatedJobs: one, successPolicy: { operator: "All", targetReplicatedJobs: ["r", "nope"] } }),
    want: [`${P}invalid replicatedJob name 'nope' does not appear in .spec.ReplicatedJobs`],
  },
  {
    name: "rule 6: success policy target present",
    js: js({ replicatedJobs: one, successPolicy: { operator: "Any", targetReplicatedJobs: ["r"] } }),
    want: [],
  },

  // 7. failure policy
  {
    name: "rule 7a: RestartJob with gate off stops failure-policy validation",
    js: js({
      replicatedJobs: one,
      failurePolicy: {
        rules: [
          { name: "1bad", action: "RestartJob", targetReplicatedJobs: ["nope"] },
          { name: "x", action: "FailJobSet", onJobFailureReasons: ["Nope"] },
        ],
      },
    }),
    want: [
      `${P}RestartJob and RestartJobAndIgnoreMaxRestarts failure policy actions are not allowed when RestartJob feature gate is disabled`,
    ],
  },
  {
    name: "rule 7a: RestartJobAndIgnoreMaxRestarts with gate on passes",
    js: js({
      replicatedJobs: one,
      failurePolicy: { rules: [{ name: "x", action: "RestartJobAndIgnoreMaxRestarts" }] },
    }),
    gates: gatesWith({ RestartJob: true }),
    want: [],
  },
  {
    name: "rule 7a: RestartJob with replicas > 1024 (reported once)",
    js: js({
      replicatedJobs: [rjob("a", { replicas: 1025 }), rjob("b", { replicas: 2000 })],
      failurePolicy: { rules: [{ name: "x", action: "RestartJob" }] },
    }),
    gates: gatesWith({ RestartJob: true }),
    want: [
      `${P}JobSet cannot have a failure policy rule with RestartJob or RestartJobAndIgnoreMaxRestarts action and a replicated job with replicas > 1024`,
    ],
  },
  {
    name: "rule 7a: replicas 1024 with RestartJob passes",
    js: js({
      replicatedJobs: [rjob("a", { replicas: 1024 })],
      failurePolicy: { rules: [{ name: "x", action: "RestartJob" }] },
    }),
    gates: gatesWith({ RestartJob: true }),
    want: [],
  },
  {
    name: "rule 7b: rule name too long",
    js: js({ replicatedJobs: one, failurePolicy: { rules: [{ name: nm(129, "A"), action: "FailJobSet" }] } }),
    want: [
      `${P}invalid failure policy rule name of length 129, the rule name must be at least 1 characters long and at most 128 characters long`,
    ],
  },
  {
    name: "rule 7b: rule name of 128 passes",
    js: js({ replicatedJobs: one, failurePolicy: { rules: [{ name: nm(128, "A"), action: "FailJobSet" }] } }),
    want: [],
  },
  {
    name: "rule 7b: empty rule name (webhook bypassed) fails length and format",
    js: (() => {
      const j = js({ replicatedJobs: one, failurePolicy: { rules: [{ name: "x", action: "FailJobSet" }] } });
      const rule = j.spec?.failurePolicy?.rules?.[0];
      if (rule) rule.name = "";
      return j;
    })(),
    want: [
      `${P}invalid failure policy rule name of length 0, the rule name must be at least 1 characters long and at most 128 characters long`,
      `${P}invalid failure policy rule name '', a failure policy rule name must start with an alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'`,
    ],
  },
  {
    name: "rule 7b: rule name format",
    js: js({ replicatedJobs: one, failurePolicy: { rules: [{ name: "rule-1", action: "FailJobSet" }] } }),
    want: [
      `${P}invalid failure policy rule name 'rule-1', a failure policy rule name must start with an alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'`,
    ],
  },
  {
    name: "rule 7b: rule name with _ , : passes",
    js: js({ replicatedJobs: one, failurePolicy: { rules: [{ name: "a_b,c:d_", action: "FailJobSet" }] } }),
    want: [],
  },
  {
    name: "rule 7b: rule targets a missing rjob",
    js: js({
      replicatedJobs: one,
      failurePolicy: { rules: [{ name: "x", action: "FailJobSet", targetReplicatedJobs: ["r", "missing"] }] },
    }),
    want: [`${P}invalid replicatedJob name 'missing' in failure policy does not appear in .spec.ReplicatedJobs`],
  },
  {
    name: "rule 7b: unknown job failure reason; all five known ones pass",
    js: js({
      replicatedJobs: one,
      failurePolicy: {
        rules: [
          {
            name: "x",
            action: "FailJobSet",
            onJobFailureReasons: [
              "BackoffLimitExceeded",
              "DeadlineExceeded",
              "FailedIndexes",
              "MaxFailedIndexesExceeded",
              "PodFailurePolicy",
              "PodFailurePolicy_custom",
            ],
          },
        ],
      },
    }),
    want: [
      `${P}invalid job failure reason 'PodFailurePolicy_custom' in failure policy is not a recognized job failure reason`,
    ],
  },
  {
    name: "rule 7c: duplicate rule names",
    js: js({
      replicatedJobs: one,
      failurePolicy: {
        rules: [
          { name: "a", action: "FailJobSet" },
          { name: "b", action: "FailJobSet" },
          { name: "a", action: "RestartJobSet" },
          { name: "a", action: "FailJobSet" },
        ],
      },
    }),
    want: [`${P}rule names are not unique, rules with indices [0 2 3] all have the same name 'a'`],
  },
  {
    name: "rule 7: defaulted rule names are unique",
    js: js({
      replicatedJobs: one,
      failurePolicy: { rules: [{ action: "FailJobSet" } as never, { action: "RestartJobSet" } as never] },
    }),
    want: [],
  },

  // 8. coordinator
  {
    name: "rule 8: valid coordinator",
    js: js({
      replicatedJobs: [rjob("d", { completions: 2 })],
      coordinator: { replicatedJob: "d", jobIndex: 0, podIndex: 1 },
    }),
    want: [],
  },
  {
    name: "rule 8: coordinator rjob missing",
    js: js({ replicatedJobs: one, coordinator: { replicatedJob: "nope" } }),
    want: [`${P}coordinator replicatedJob nope does not exist`],
  },
  {
    name: "rule 8: job index out of range",
    js: js({
      replicatedJobs: [rjob("d", { replicas: 2, completions: 1 })],
      coordinator: { replicatedJob: "d", jobIndex: 2 },
    }),
    want: [`${P}coordinator job index 2 is invalid for replicatedJob d`],
  },
  {
    name: "rule 8: negative job index",
    js: js({ replicatedJobs: [rjob("d", { completions: 1 })], coordinator: { replicatedJob: "d", jobIndex: -1 } }),
    want: [`${P}coordinator job index -1 is invalid for replicatedJob d`],
  },
  {
    name: "rule 8: NonIndexed coordinator job",
    js: js({
      replicatedJobs: [rjob("d", { completions: 1, completionMode: "NonIndexed" })],
      coordinator: { replicatedJob: "d" },
    }),
    want: [`${P}job for coordinator pod must be indexed completion mode, and completions number must be set`],
  },
  {
    name: "rule 8: completions not set",
    js: js({ replicatedJobs: [rjob("d")], coordinator: { replicatedJob: "d" } }),
    want: [`${P}job for coordinator pod must be indexed completion mode, and completions number must be set`],
  },
  {
    name: "rule 8: pod index out of range",
    js: js({
      replicatedJobs: [rjob("d", { replicas: 2, completions: 4 })],
      coordinator: { replicatedJob: "d", jobIndex: 1, podIndex: 4 },
    }),
    want: [`${P}coordinator pod index 4 is invalid for replicatedJob d job index 1`],
  },
  {
    name: "rule 8: endpoint label value too long (subdomain = name)",
    js: js({ replicatedJobs: [rjob("d", { completions: 1 })], coordinator: { replicatedJob: "d" } }, { name: nm(30) }),
    want: [
      `${P}spec will lead to invalid label value "${nm(30)}-d-0-0.${nm(30)}" for coordinator label "jobset.sigs.k8s.io/coordinator" (long JobSet / ReplicatedJob / SubDomain name?): must be no more than 63 bytes`,
    ],
  },
  {
    name: "rule 8: endpoint of exactly 63 characters passes (2J + Rc + 6 = 63 → J=28, Rc=1)",
    js: js({ replicatedJobs: [rjob("d", { completions: 1 })], coordinator: { replicatedJob: "d" } }, { name: nm(28) }),
    want: [],
  },
  {
    name: "rule 8: a short subdomain fixes the endpoint",
    js: js(
      {
        replicatedJobs: [rjob("d", { completions: 1 })],
        coordinator: { replicatedJob: "d" },
        network: { subdomain: "s" },
      },
      { name: nm(30) },
    ),
    want: [],
  },
  {
    name: "rule 8: missing rjob and invalid label value are both reported",
    js: js({ replicatedJobs: one, coordinator: { replicatedJob: "x!" } }),
    want: [
      `${P}coordinator replicatedJob x! does not exist`,
      `${P}spec will lead to invalid label value "js-x!-0-0.js" for coordinator label "jobset.sigs.k8s.io/coordinator" (long JobSet / ReplicatedJob / SubDomain name?): a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    ],
  },

  // 9. volume claim policies
  {
    name: "rule 9: valid volume claim policy",
    js: js({
      replicatedJobs: [rjob("r", { mounts: ["data"] })],
      volumeClaimPolicies: [{ templates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteMany"] } }] }],
    }),
    want: [],
  },
  {
    name: "rule 9: mounted by an init container only passes",
    js: js({
      replicatedJobs: [rjob("r", { initMounts: ["data"] })],
      volumeClaimPolicies: [{ templates: [{ metadata: { name: "data" } }] }],
    }),
    want: [],
  },
  {
    name: "rule 9: duplicate template names across policies",
    js: js({
      replicatedJobs: [rjob("r", { mounts: ["data"] })],
      volumeClaimPolicies: [
        { templates: [{ metadata: { name: "data" } }] },
        { templates: [{ metadata: { name: "data" } }] },
      ],
    }),
    want: [
      'spec.volumeClaimPolicies[1].template[0].name: Invalid value: "data": names must be unique for VolumeClaimPolicies template',
    ],
  },
  {
    name: "rule 9: invalid template name (and no mount)",
    js: (() => {
      const j = js({
        replicatedJobs: [rjob("r")],
        volumeClaimPolicies: [{ templates: [{ metadata: { name: "Data" } }] }],
      });
      return j;
    })(),
    want: [
      `spec.volumeClaimPolicies[0].template[0].name: Invalid value: "Data": ${dns1123Sub}`,
      `spec.replicatedJobs: Invalid value: ${goMarshal([rjobDefaulted("r")], GoTypes.ReplicatedJobs)}: replicatedJob containers don't have a matching volumeMount: Data from VolumeClaimPolicies`,
    ],
  },
  {
    name: "rule 9: template name too long for the PVC name",
    js: js(
      {
        replicatedJobs: [rjob("r", { mounts: [nm(61, "d")] })],
        volumeClaimPolicies: [{ templates: [{ metadata: { name: nm(61, "d") } }] }],
      },
      { name: "js", namespace: "ns" },
    ),
    want: [
      `spec.volumeClaimPolicies[0].template[0].name: Invalid value: "${nm(61, "d")}": VolumeClaimPolicies template name is too long`,
    ],
  },
  {
    name: "rule 9: PVC name of exactly 63 passes (N + 1 + J = 63)",
    js: js({
      replicatedJobs: [rjob("r", { mounts: [nm(60, "d")] })],
      volumeClaimPolicies: [{ templates: [{ metadata: { name: nm(60, "d") } }] }],
    }),
    want: [],
  },
  {
    name: "rule 9: pod volume with the template's name",
    js: js({
      replicatedJobs: [rjob("a"), rjob("b", { volumes: ["x", "data"], mounts: ["data"] })],
      volumeClaimPolicies: [{ templates: [{ metadata: { name: "data" } }] }],
    }),
    want: [
      'spec.replicatedJobs[1].template.spec.template.spec.volumes[1].name: Invalid value: "data": volume name conflicts with VolumeClaimPolicy template name: data',
    ],
  },
  {
    name: "rule 9: existing PVC with the same spec and Retain passes",
    js: js({
      replicatedJobs: [rjob("r", { mounts: ["data"] })],
      volumeClaimPolicies: [
        {
          templates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }],
          retentionPolicy: { whenDeleted: "Retain" },
        },
      ],
    }),
    lookupPVC: (n) => (n === "data-js" ? pvc({ accessModes: ["ReadWriteOnce"] }) : undefined),
    want: [],
  },
  {
    name: "rule 9: existing PVC with another spec and Delete",
    js: js({
      replicatedJobs: [rjob("r", { mounts: ["data"] })],
      volumeClaimPolicies: [{ templates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }] }],
    }),
    lookupPVC: (n) => (n === "data-js" ? pvc({ accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem" }) : undefined),
    want: [
      'spec.volumeClaimPolicies[0].template[0].spec: Invalid value: {"accessModes":["ReadWriteOnce"],"resources":{}}: spec does not match existing PVC data-js in namespace ns',
      'spec.volumeClaimPolicies[0].retentionPolicy.whenDeleted: Invalid value: "Delete": retentionPolicy must be retain when PVC exists',
    ],
  },
  {
    name: "rule 9: PVC lookup error",
    js: js({
      replicatedJobs: [rjob("r", { mounts: ["data"] })],
      volumeClaimPolicies: [{ templates: [{ metadata: { name: "data" } }] }],
    }),
    lookupPVC: () => new Error("connection refused"),
    want: [
      "spec.volumeClaimPolicies[0].template[0]: Internal error: failed to check for existing PVC data-js: connection refused",
    ],
  },

  // Collection of several errors in rule order
  {
    name: "errors from several rules are collected in rule order",
    js: js(
      {
        replicatedJobs: [rjob("a", { dependsOn: [] }), rjob("B")],
        network: { subdomain: "a.b" },
        successPolicy: { operator: "All", targetReplicatedJobs: ["z"] },
        coordinator: { replicatedJob: "z" },
      },
      { name: "js" },
    ),
    want: [
      `${P}DependsOn can't be set for the first ReplicatedJob`,
      `spec.network.subdomain: Invalid value: "a.b": ${dns1035}`,
      `spec.replicatedJobs[1].name: Invalid value: "js-B-0": ${dns1035}`,
      `${P}invalid replicatedJob name 'z' does not appear in .spec.ReplicatedJobs`,
      `${P}coordinator replicatedJob z does not exist`,
    ],
  },
];

function rjobDefaulted(name: string): ReplicatedJob {
  return defaultJobSet({ spec: { replicatedJobs: [rjob(name)] } }).spec?.replicatedJobs?.[0] as ReplicatedJob;
}

function pvc(spec: NonNullable<PersistentVolumeClaim["spec"]>): PersistentVolumeClaim {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data-js", namespace: "ns" }, spec };
}

describe("validateCreate", () => {
  for (const row of createRows) {
    test(row.name, () => {
      assert.deepEqual(run(row.js, row.gates, row.lookupPVC), row.want);
    });
  }

  test("plain errors carry type InternalError and field <nil>", () => {
    const [e] = validateCreate(js({ replicatedJobs: [rjob("a", { dependsOn: [] })] }), defaultFeatureGates);
    assert.deepEqual(e, {
      type: "InternalError",
      field: "<nil>",
      value: "DependsOn can't be set for the first ReplicatedJob",
      detail: "DependsOn can't be set for the first ReplicatedJob",
    });
  });

  test("every reference example shape with all gates: no errors", () => {
    assert.deepEqual(run(js({ replicatedJobs: [rjob("a"), rjob("b")] }), allGates), []);
  });

  test("validateCreateWithLookup fetches PVCs in the JobSet namespace", async () => {
    const calls: string[] = [];
    const j = js({
      replicatedJobs: [rjob("r", { mounts: ["data"] })],
      volumeClaimPolicies: [
        { templates: [{ metadata: { name: "data" } }], retentionPolicy: { whenDeleted: "Retain" } },
      ],
    });
    const errs = await validateCreateWithLookup(
      j,
      defaultFeatureGates,
      async (ns, n) => {
        calls.push(`${ns}/${n}`);
        return pvc({ storageClassName: "standard" });
      },
      fixedRandom,
    );
    assert.deepEqual(calls, ["ns/data-js"]);
    assert.deepEqual(errs.map(formatFieldError), [
      'spec.volumeClaimPolicies[0].template[0].spec: Invalid value: {"resources":{}}: spec does not match existing PVC data-js in namespace ns',
    ]);
    const failing = await validateCreateWithLookup(j, defaultFeatureGates, async () => {
      throw new Error("forbidden");
    });
    assert.deepEqual(failing.map(formatFieldError), [
      "spec.volumeClaimPolicies[0].template[0]: Internal error: failed to check for existing PVC data-js: forbidden",
    ]);
  });
});

describe("nameForValidation", () => {
  test("metadata.name wins", () => {
    assert.equal(nameForValidation({ metadata: { name: "a", generateName: "b-" } }), "a");
  });
  test("generateName: prefix + 5 characters of the alphabet", () => {
    const seq = [0, 0.999, 0.5, 0.1, 0.3];
    let i = 0;
    const name = nameForValidation({ metadata: { generateName: "job-" } }, () => seq[i++] ?? 0);
    assert.equal(name, "job-b9rdl");
  });
  test("generateName: random characters come from bcdfghjklmnpqrstvwxz2456789", () => {
    const name = nameForValidation({ metadata: { generateName: "x-" } });
    assert.match(name, /^x-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
  test("neither: empty", () => {
    assert.equal(nameForValidation({ metadata: {} }), "");
    assert.equal(nameForValidation({}), "");
  });
});

// ---------------------------------------------------------------------------------------------- UPDATE rows

interface UpdateRow {
  name: string;
  old: JobSet;
  mutate: (j: JobSet) => void;
  gates?: FeatureGates;
  want: string[] | ((newJs: JobSet) => string[]);
}

const base = (o: RjobOpts = {}, extra: Partial<NonNullable<JobSet["spec"]>> = {}) =>
  js({ replicatedJobs: [rjob("a", o), rjob("b")], ...extra });

const podTemplate = (j: JobSet, i = 0) => {
  const t = j.spec?.replicatedJobs?.[i]?.template.spec?.template;
  if (!t) throw new Error("no pod template");
  return t;
};
const jobSpec = (j: JobSet, i = 0) => {
  const s = j.spec?.replicatedJobs?.[i]?.template.spec;
  if (!s) throw new Error("no job spec");
  return s;
};
const immutableRjobs = (newJs: JobSet) => [
  `spec.replicatedJobs: Invalid value: ${goMarshal(newJs.spec?.replicatedJobs, GoTypes.ReplicatedJobs)}: field is immutable`,
];
const withConditions = (j: JobSet, type: string, status: "True" | "False"): JobSet => ({
  ...j,
  status: {
    restarts: 0,
    conditions: [{ type, status, reason: "R", message: "m", lastTransitionTime: "2024-01-01T00:00:00Z" }],
  },
});

const updateRows: UpdateRow[] = [
  { name: "no change", old: base(), mutate: () => {}, want: [] },
  {
    name: "suspend flips are allowed",
    old: base(),
    mutate: (j) => {
      if (j.spec) j.spec.suspend = true;
    },
    want: [],
  },
  {
    name: "ttl and coordinator are mutable",
    old: base(),
    mutate: (j) => {
      if (j.spec) {
        j.spec.ttlSecondsAfterFinished = 5;
        j.spec.coordinator = { replicatedJob: "zzz" };
      }
    },
    want: [],
  },
  {
    name: "metadata is mutable",
    old: base(),
    mutate: (j) => {
      j.metadata = { ...j.metadata, labels: { a: "b" } };
    },
    want: [],
  },
  {
    name: "replicas change is rejected with the new list as JSON",
    old: base(),
    mutate: (j) => {
      const r = j.spec?.replicatedJobs?.[0];
      if (r) r.replicas = 3;
    },
    want: immutableRjobs,
  },
  {
    name: "exact rendering of a small list, keys in Go struct order",
    old: js({ replicatedJobs: [{ name: "a", replicas: 1, template: {} }] }),
    mutate: (j) => {
      const r = j.spec?.replicatedJobs?.[0];
      if (r) r.replicas = 2;
    },
    want: [
      'spec.replicatedJobs: Invalid value: [{"name":"a","template":{"metadata":{},"spec":{"template":{"metadata":{},"spec":{"containers":null,"restartPolicy":"OnFailure"}},"completionMode":"Indexed"}},"replicas":2}]: field is immutable',
    ],
  },
  {
    name: "adding an rjob is rejected",
    old: base(),
    mutate: (j) => {
      j.spec?.replicatedJobs?.push(rjobDefaulted("c"));
    },
    want: immutableRjobs,
  },
  {
    name: "image change is rejected even when suspended",
    old: base({}, { suspend: true }),
    mutate: (j) => {
      const c = podTemplate(j).spec?.containers[0];
      if (c) c.image = "other";
    },
    want: immutableRjobs,
  },
  {
    name: "pod labels change rejected when not suspended",
    old: base(),
    mutate: (j) => {
      podTemplate(j).metadata = { labels: { q: "1" } };
    },
    want: immutableRjobs,
  },
  {
    name: "suspended (old): pod labels, annotations, nodeSelector, tolerations, schedulingGates are mutable",
    old: base({}, { suspend: true }),
    mutate: (j) => {
      const t = podTemplate(j);
      t.metadata = { labels: { q: "1" }, annotations: { a: "x" } };
      if (t.spec) {
        t.spec.nodeSelector = { zone: "a" };
        t.spec.tolerations = [{ key: "k", operator: "Exists" }];
        t.spec.schedulingGates = [{ name: "kueue" }];
      }
    },
    want: [],
  },
  {
    name: "being suspended (new): pod template scheduling fields are mutable in the same update",
    old: base(),
    mutate: (j) => {
      if (j.spec) j.spec.suspend = true;
      const t = podTemplate(j, 1);
      if (t.spec) t.spec.nodeSelector = { zone: "b" };
    },
    want: [],
  },
  {
    name: "being resumed (old suspended, new not): still mutable",
    old: base({}, { suspend: true }),
    mutate: (j) => {
      if (j.spec) j.spec.suspend = false;
      podTemplate(j).metadata = { labels: { q: "1" } };
    },
    want: [],
  },
  {
    name: "suspended: Job-template labels are not exempt",
    old: base({}, { suspend: true }),
    mutate: (j) => {
      const r = j.spec?.replicatedJobs?.[0];
      if (r) r.template.metadata = { labels: { x: "y" } };
    },
    want: immutableRjobs,
  },
  {
    name: "suspended: resource requests are not exempt",
    old: base({}, { suspend: true }),
    mutate: (j) => {
      const c = podTemplate(j).spec?.containers[0];
      if (c) c.resources = { requests: { cpu: "2" } };
    },
    want: immutableRjobs,
  },
  {
    name: "suspended: renamed rjob gets no exemption",
    old: base({}, { suspend: true }),
    mutate: (j) => {
      const r = j.spec?.replicatedJobs?.[0];
      if (r) r.name = "renamed";
      podTemplate(j).metadata = { labels: { q: "1" } };
    },
    want: immutableRjobs,
  },
  {
    name: "nil ≡ empty: tolerations [] vs absent, empty labels map",
    old: base(),
    mutate: (j) => {
      const t = podTemplate(j);
      t.metadata = { labels: {} };
      if (t.spec) t.spec.tolerations = [];
    },
    want: [],
  },
  {
    name: "elastic gate off: parallelism change rejected",
    old: base({ parallelism: 2, completions: 2 }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 3;
      s.completions = 3;
    },
    want: immutableRjobs,
  },
  {
    name: "elastic gate on: Indexed parallelism+completions scale",
    old: base({ parallelism: 2, completions: 2 }),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 4;
      s.completions = 4;
    },
    want: [],
  },
  {
    name: "elastic gate on: values below 1",
    old: base({ parallelism: 2, completions: 2 }),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 0;
      s.completions = 0;
    },
    want: [
      "spec.replicatedJobs[0].template.spec.parallelism: Invalid value: 0: parallelism must be >= 1",
      "spec.replicatedJobs[0].template.spec.completions: Invalid value: 0: completions must be >= 1",
    ],
  },
  {
    name: "elastic gate on: completions must equal parallelism",
    old: base({ parallelism: 2, completions: 2 }),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 3;
    },
    want: [
      "spec.replicatedJobs[0].template.spec.completions: Invalid value: 2: completions must be equal to parallelism for Elastic Indexed Jobs",
    ],
  },
  {
    name: "elastic gate on: terminal JobSet (Completed=True)",
    old: withConditions(base({ parallelism: 2, completions: 2 }), "Completed", "True"),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 3;
      s.completions = 3;
    },
    want: [
      "spec.replicatedJobs[0].template.spec: Forbidden: Cannot mutate parallelism or completions when JobSet is in a terminal state (Completed or Failed)",
    ],
  },
  {
    name: "elastic gate on: Failed=False is not terminal",
    old: withConditions(base({ parallelism: 2, completions: 2 }), "Failed", "False"),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 3;
      s.completions = 3;
    },
    want: [],
  },
  {
    name: "elastic gate on: NonIndexed rjob gets no exemption",
    old: base({ parallelism: 2, completions: 2, completionMode: "NonIndexed" }),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 3;
      s.completions = 3;
    },
    want: immutableRjobs,
  },
  {
    name: "elastic gate on: other fields are still immutable",
    old: base({ parallelism: 2, completions: 2 }),
    gates: gatesWith({ ElasticJobSet: true }),
    mutate: (j) => {
      const s = jobSpec(j);
      s.parallelism = 3;
      s.completions = 3;
      s.backoffLimit = 9;
    },
    // The value is the munged list: the exempt fields carry the old values.
    want: (n) => {
      const munged = structuredClone(n);
      const s = jobSpec(munged);
      s.parallelism = 2;
      s.completions = 2;
      return immutableRjobs(munged);
    },
  },
  {
    name: "managedBy: nil → value",
    old: base(),
    mutate: (j) => {
      if (j.spec) j.spec.managedBy = "kueue.x-k8s.io/multikueue";
    },
    want: ['spec.managedBy: Invalid value: "kueue.x-k8s.io/multikueue": field is immutable'],
  },
  {
    name: "managedBy: value → nil",
    old: base({}, { managedBy: "kueue.x-k8s.io/multikueue" }),
    mutate: (j) => {
      if (j.spec) delete j.spec.managedBy;
    },
    want: ["spec.managedBy: Invalid value: null: field is immutable"],
  },
  {
    name: "managedBy unchanged",
    old: base({}, { managedBy: "kueue.x-k8s.io/multikueue" }),
    mutate: () => {},
    want: [],
  },
  {
    name: "CREATE rules are not re-run on update",
    old: js({ replicatedJobs: [rjob("Bad")], network: { subdomain: "Bad.Sub" } }),
    mutate: (j) => {
      if (j.spec) j.spec.suspend = true;
    },
    want: [],
  },
  {
    name: "replicatedJobs and managedBy errors together",
    old: base(),
    mutate: (j) => {
      const r = j.spec?.replicatedJobs?.[1];
      if (r) r.groupName = "other";
      if (j.spec) j.spec.managedBy = "a.io/b";
    },
    want: (n) => [...immutableRjobs(n), 'spec.managedBy: Invalid value: "a.io/b": field is immutable'],
  },
];

describe("validateUpdate", () => {
  for (const row of updateRows) {
    test(row.name, () => {
      const newJs = structuredClone(row.old);
      delete newJs.status;
      row.mutate(newJs);
      const want = typeof row.want === "function" ? row.want(newJs) : row.want;
      assert.deepEqual(validateUpdate(newJs, row.old, row.gates ?? defaultFeatureGates).map(formatFieldError), want);
    });
  }

  test("the old and new objects are not modified", () => {
    const old = base({}, { suspend: true });
    const newJs = structuredClone(old);
    podTemplate(newJs).metadata = { labels: { q: "1" } };
    const before = structuredClone(newJs);
    validateUpdate(newJs, old, allGates);
    assert.deepEqual(newJs, before);
  });
});
