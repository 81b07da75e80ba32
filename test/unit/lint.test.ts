// Runs the real `jobset lint` command (bin/jobset.js under the pinned node) on the project's own
// JobSets (examples/ and test/fixtures/jobsets/) and on broken JobSets written to a temporary directory.
// Upstream's examples are linted by the compatibility suite (test/compat/).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "bin/jobset.js");
const fixtures = join(root, "test/fixtures/jobsets");

function jobset(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function findYaml(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findYaml(p));
    else if (/\.(ya?ml|json)$/.test(name)) out.push(p);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "jobset-lint-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const P = "<nil>: Internal error: ";
const dns1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

interface RjobYaml {
  name: string;
  replicas?: number;
  extra?: string; // more lines under the rjob (indented 4)
  jobSpec?: string; // more lines under template.spec (indented 8)
}

/** A JobSet manifest; `spec` is extra YAML under spec (indented 2). */
function jobSetYaml(name: string, rjobs: RjobYaml[], spec = "", meta = `  name: ${name}\n`): string {
  const rj = rjobs
    .map(
      (r) =>
        `  - name: ${r.name}\n` +
        (r.replicas !== undefined ? `    replicas: ${r.replicas}\n` : "") +
        (r.extra ?? "") +
        "    template:\n      spec:\n" +
        (r.jobSpec ?? "") +
        "        template:\n          spec:\n            containers:\n            - name: c\n              image: busybox\n",
    )
    .join("");
  return `apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata:\n${meta}spec:\n${spec}  replicatedJobs:\n${rj}`;
}

describe("jobset lint: the project's examples and test JobSets", () => {
  const files = [...findYaml(join(root, "examples")), ...findYaml(fixtures)];

  test("there are JobSets to check", () => assert.ok(files.length >= 15, `found ${files.length}`));

  test("every JobSet passes (alpha gates on)", () => {
    const r = jobset([
      "lint",
      "--feature-gates",
      "InPlaceRestart=true,RestartJob=true,JobSetWorkloadAwareSchedulingAPI=true",
      ...files,
    ]);
    assert.equal(r.stdout, "");
    assert.equal(r.code, 0, r.stderr);
    // Non-JobSet documents (here a PriorityClass) are skipped with a note, never judged.
    assert.equal(
      r.stderr,
      // where the document's content starts (after its leading comment)
      `${join(fixtures, "with-priority-class.yaml")}:2:1: skipped: PriorityClass scheduling.k8s.io/v1 is not a JobSet\n`,
    );
  });

  test("gated JobSets are rejected with the gates off", () => {
    const gated = [
      join(fixtures, "restart-job-action.yaml"),
      join(fixtures, "in-place-restart.yaml"),
      join(root, "examples", "gang.yaml"),
    ];
    const r = jobset(["lint", ...gated]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      // errors without a field point at the document's start, the others at their field
      `${gated[0]}:2:1: ${P}RestartJob and RestartJobAndIgnoreMaxRestarts failure policy actions are not allowed when RestartJob feature gate is disabled\n` +
        `${gated[1]}:3:1: ${P}InPlaceRestart restart strategy cannot be set when InPlaceRestart feature gate is disabled\n` +
        `${gated[2]}:17:5: spec.scheduling: Forbidden: spec.scheduling requires the JobSetWorkloadAwareSchedulingAPI feature gate; enable it in the controller's Configuration (featureGates) or remove spec.scheduling\n`,
    );
  });
});

interface BadCase {
  name: string;
  yaml: string;
  gates?: string;
  want: string[];
}

const longName = "a".repeat(60);
const badCases: BadCase[] = [
  {
    name: "invalid JobSet name",
    yaml: jobSetYaml("Bad_Name", [{ name: "w" }]),
    want: [
      "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ],
  },
  {
    name: "missing name and generateName",
    yaml: jobSetYaml("", [{ name: "w" }], "", "  labels: {a: b}\n"),
    want: ["metadata.name: Required value: name or generateName is required"],
  },
  {
    name: "JobSet name too long for the Job names",
    yaml: jobSetYaml(longName, [{ name: "w" }]),
    want: [
      `spec.replicatedJobs[0].name: Invalid value: "${longName}-w-0": JobSet name is too long, job names generated for this JobSet will exceed 63 characters`,
    ],
  },
  {
    name: "uppercase replicated job name",
    yaml: jobSetYaml("js", [{ name: "Workers" }]),
    want: [`spec.replicatedJobs[0].name: Invalid value: "js-Workers-0": ${dns1035}`],
  },
  {
    name: "pod names too long (Indexed with completions)",
    yaml: jobSetYaml("a".repeat(52), [{ name: "w", jobSpec: "        completions: 1\n" }]),
    want: [
      `spec.replicatedJobs[0].name: Invalid value: "${"a".repeat(52)}-w-0": JobSet name is too long, pod names generated for this JobSet will exceed 63 characters`,
    ],
  },
  {
    name: "negative replicas (schema)",
    yaml: jobSetYaml("js", [{ name: "w", replicas: -1 }]),
    want: [
      "spec.replicatedJobs[0].replicas: Invalid value: -1: spec.replicatedJobs[0].replicas in body should be greater than or equal to 0",
    ],
  },
  {
    name: "replicas × parallelism over MaxInt32",
    yaml: jobSetYaml("js", [{ name: "w", replicas: 2, jobSpec: "        parallelism: 1073741824\n" }]),
    want: [`${P}the product of replicas and parallelism must not exceed 2147483647 for replicatedJob 'w'`],
  },
  {
    name: "coordinator job index out of range",
    yaml: jobSetYaml(
      "js",
      [{ name: "w", replicas: 2, jobSpec: "        completions: 2\n" }],
      "  coordinator: {replicatedJob: w, jobIndex: 2}\n",
    ),
    want: [`${P}coordinator job index 2 is invalid for replicatedJob w`],
  },
  {
    name: "coordinator pod index out of range",
    yaml: jobSetYaml(
      "js",
      [{ name: "w", jobSpec: "        completions: 2\n" }],
      "  coordinator: {replicatedJob: w, podIndex: 2}\n",
    ),
    want: [`${P}coordinator pod index 2 is invalid for replicatedJob w job index 0`],
  },
  {
    name: "coordinator replicated job missing",
    yaml: jobSetYaml("js", [{ name: "w" }], "  coordinator: {replicatedJob: driver}\n"),
    want: [`${P}coordinator replicatedJob driver does not exist`],
  },
  {
    name: "dependsOn a replicated job that comes later / does not exist",
    yaml: jobSetYaml("js", [
      { name: "a" },
      { name: "b", extra: "    dependsOn:\n    - {name: c, status: Ready}\n" },
      { name: "c" },
    ]),
    want: [`${P}replicatedJob: b cannot depend on replicatedJob: c`],
  },
  {
    name: "dependsOn on the first replicated job",
    yaml: jobSetYaml("js", [{ name: "a", extra: "    dependsOn: []\n" }]),
    want: [`${P}DependsOn can't be set for the first ReplicatedJob`],
  },
  {
    name: "failure-policy rule targets a missing replicated job",
    yaml: jobSetYaml(
      "js",
      [{ name: "w" }],
      "  failurePolicy:\n    maxRestarts: 1\n    rules:\n    - action: FailJobSet\n      targetReplicatedJobs: [w, missing]\n",
    ),
    want: [`${P}invalid replicatedJob name 'missing' in failure policy does not appear in .spec.ReplicatedJobs`],
  },
  {
    name: "failure-policy unknown job failure reason and bad rule name",
    yaml: jobSetYaml(
      "js",
      [{ name: "w" }],
      "  failurePolicy:\n    rules:\n    - name: bad-name\n      action: FailJobSet\n      onJobFailureReasons: [Evicted]\n",
    ),
    want: [
      `${P}invalid failure policy rule name 'bad-name', a failure policy rule name must start with an alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'`,
      `${P}invalid job failure reason 'Evicted' in failure policy is not a recognized job failure reason`,
    ],
  },
  {
    name: "duplicate failure-policy rule names",
    yaml: jobSetYaml(
      "js",
      [{ name: "w" }],
      "  failurePolicy:\n    rules:\n    - {name: r, action: FailJobSet}\n    - {name: r, action: RestartJobSet}\n",
    ),
    want: [`${P}rule names are not unique, rules with indices [0 1] all have the same name 'r'`],
  },
  {
    name: "RestartJob action with the gate off",
    yaml: jobSetYaml("js", [{ name: "w" }], "  failurePolicy:\n    rules:\n    - {action: RestartJob}\n"),
    want: [
      `${P}RestartJob and RestartJobAndIgnoreMaxRestarts failure policy actions are not allowed when RestartJob feature gate is disabled`,
    ],
  },
  {
    name: "RestartJob action with replicas > 1024 (gate on)",
    yaml: jobSetYaml(
      "js",
      [{ name: "w", replicas: 1025 }],
      "  failurePolicy:\n    rules:\n    - {action: RestartJob}\n",
    ),
    gates: "RestartJob=true",
    want: [
      `${P}JobSet cannot have a failure policy rule with RestartJob or RestartJobAndIgnoreMaxRestarts action and a replicated job with replicas > 1024`,
    ],
  },
  {
    name: "InPlaceRestart strategy with the gate on but a non-compliant job",
    yaml: jobSetYaml("js", [{ name: "w" }], "  failurePolicy:\n    restartStrategy: InPlaceRestart\n"),
    gates: "InPlaceRestart=true",
    want: [
      "spec.replicatedJobs[0].template.spec.backoffLimit: Invalid value: null: replicatedJob w: must be set to 2147483647 (MaxInt32) when in-place restart is enabled",
      "spec.replicatedJobs[0].template.spec.podReplacementPolicy: Invalid value: null: replicatedJob w: must be set to Failed when in-place restart is enabled",
      "spec.replicatedJobs[0].template.spec.completions: Invalid value: null: replicatedJob w: completions and parallelism must be set and equal to each other when in-place restart is enabled",
    ],
  },
  {
    name: "success policy names a missing replicated job",
    yaml: jobSetYaml("js", [{ name: "w" }], "  successPolicy:\n    operator: All\n    targetReplicatedJobs: [nope]\n"),
    want: [`${P}invalid replicatedJob name 'nope' does not appear in .spec.ReplicatedJobs`],
  },
  {
    name: "invalid subdomain",
    yaml: jobSetYaml("js", [{ name: "w" }], "  network:\n    subdomain: my.sub\n"),
    want: [`spec.network.subdomain: Invalid value: "my.sub": ${dns1035}`],
  },
  {
    name: "invalid groupName",
    yaml: jobSetYaml("js", [{ name: "w", extra: "    groupName: Group_1\n" }]),
    want: [`spec.replicatedJobs[0].groupName: Invalid value: "Group_1": ${dns1035}`],
  },
  {
    name: "invalid managedBy",
    yaml: jobSetYaml("js", [{ name: "w" }], "  managedBy: kueue\n"),
    want: ['spec.managedBy: Invalid value: "kueue": must be a domain-prefixed path (such as "acme.io/foo")'],
  },
  {
    name: "volume claim policy template not mounted anywhere",
    yaml: jobSetYaml("js", [{ name: "w" }], "  volumeClaimPolicies:\n  - templates:\n    - metadata: {name: data}\n"),
    want: [
      "spec.replicatedJobs: Invalid value: " +
        '[{"name":"w","groupName":"default","template":{"metadata":{},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"c","image":"busybox","resources":{}}],"restartPolicy":"OnFailure"}},"completionMode":"Indexed"}},"replicas":1}]' +
        ": replicatedJob containers don't have a matching volumeMount: data from VolumeClaimPolicies",
    ],
  },
];

describe("jobset lint: rejected JobSets", () => {
  for (const c of badCases) {
    test(c.name, () => {
      const file = write(`${c.name.replace(/[^a-z0-9]+/gi, "-")}.yaml`, c.yaml);
      const r = jobset(["lint", ...(c.gates ? ["--feature-gates", c.gates] : []), file]);
      // the messages, in order; where each points is checked below ("positions")
      const lines = r.stdout.split("\n").filter(Boolean);
      assert.deepEqual(
        lines.map((l) => l.replace(/^.*?:\d+:\d+: /, "")),
        c.want,
        r.stderr,
      );
      const fileLines = c.yaml.split("\n").length;
      for (const l of lines) {
        const m = /^(.*?):(\d+):(\d+): /.exec(l);
        assert.ok(m && m[1] === file && Number(m[2]) >= 1 && Number(m[2]) <= fileLines && Number(m[3]) >= 1, l);
      }
      assert.equal(r.code, 1);
    });
  }

  test("good JobSet passes; multi-document file numbers documents and skips non-JobSets", () => {
    const good = jobSetYaml("good", [{ name: "w" }]);
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n";
    const bad = jobSetYaml("bad", [{ name: "w" }], "  coordinator: {replicatedJob: nope}\n");
    const file = write("multi.yaml", `${good}---\n${cm}---\n${bad}`);
    const r = jobset(["lint", file]);
    assert.equal(r.code, 1);
    // positions are lines of the whole file: where the third and the second document start
    const badLine = `${good}---\n${cm}---\n`.split("\n").length;
    const cmLine = `${good}---\n`.split("\n").length;
    assert.equal(r.stdout, `${file}:${badLine}:1: ${P}coordinator replicatedJob nope does not exist\n`);
    assert.equal(r.stderr, `${file}:${cmLine}:1: skipped: ConfigMap v1 is not a JobSet\n`);

    const ok = jobset(["lint", write("good.yaml", good)]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout, "");
  });

  test("a container without name and a volumeMount without mountPath pass, as the webhook's Go round trip writes them", () => {
    const yaml = jobSetYaml("noname", [{ name: "w" }]).replace(
      "            - name: c\n              image: busybox\n",
      "            - image: busybox\n              volumeMounts: [{name: scratch}]\n",
    );
    assert.ok(!yaml.includes("name: c\n"));
    const r = jobset(["lint", write("noname.yaml", yaml)]);
    assert.equal(r.stdout, "");
    assert.equal(r.code, 0, r.stderr);
  });

  test("JSON input and -o json", () => {
    const file = write(
      "js.json",
      JSON.stringify({
        apiVersion: "jobset.x-k8s.io/v1alpha2",
        kind: "JobSet",
        metadata: { name: "js" },
        spec: {
          replicatedJobs: [
            { name: "w", template: { spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } } } },
          ],
          coordinator: { replicatedJob: "x" },
        },
      }),
    );
    const r = jobset(["lint", "-o", "json", file]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), [
      {
        file,
        document: 1,
        line: 1,
        column: 1,
        name: "js",
        valid: false,
        errors: [
          {
            type: "InternalError",
            field: "<nil>",
            message: "Internal error: coordinator replicatedJob x does not exist",
            error: `${P}coordinator replicatedJob x does not exist`,
            line: 1,
            column: 1,
          },
        ],
        warnings: [],
      },
    ]);
  });

  test("stdin with -", () => {
    const yaml = jobSetYaml("js", [{ name: "w" }], "  network: {subdomain: a.b}\n");
    const r = jobset(["lint", "-"], yaml);
    assert.equal(r.code, 1);
    const line = yaml.split("\n").findIndex((l) => l.includes("subdomain: a.b")) + 1;
    assert.equal(r.stdout, `-:${line}:24: spec.network.subdomain: Invalid value: "a.b": ${dns1035}\n`);
  });
});

describe("jobset lint: unreadable input", () => {
  test("YAML syntax error: exit 2 with line and column", () => {
    const file = write(
      "broken.yaml",
      "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata:\n  name: [x\nspec: {}\n",
    );
    const r = jobset(["lint", file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: .+\\n$`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  test("missing file: exit 2", () => {
    const r = jobset(["lint", join(dir, "nope.yaml")]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `${join(dir, "nope.yaml")}: cannot read file: no such file\n`);
  });

  test("bad flags: exit 2 with a one-line reason", () => {
    const r = jobset(["lint", "--feature-gates", "Nope=true", "x.yaml"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^jobset lint: --feature-gates: unrecognized feature gate: Nope/);
    const r2 = jobset(["lint", "--feature-gates", "TLSOptions=false", "x.yaml"]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /feature is locked to true/);
    const r3 = jobset(["lint"]);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /^jobset lint: no files given/);
  });
});

describe("jobset command", () => {
  test("unknown command: usage on stderr, exit 2", () => {
    const r = jobset(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^jobset: unknown command "frobnicate"\n\nUsage: jobset <command>/);
    assert.equal(r.stdout, "");
  });
  test("help lists lint", () => {
    const r = jobset(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}lint {2}/m);
  });
  test("lint --help", () => {
    const r = jobset(["lint", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: jobset lint/);
  });
});
