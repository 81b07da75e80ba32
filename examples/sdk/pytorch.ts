// A PyTorch-shaped distributed training JobSet built in code, submitted, followed to the end, and
// its pods' logs printed. Run it against any cluster with JobSet installed ($KUBECONFIG, else
// ~/.kube/config), e.g. the local one of `jobset up --detach`, from a project that installed jobset-ts:
//
//   node pytorch.ts                 # Node >= 22.18 runs TypeScript as is
//
// (In this repository, without a build: node --conditions=jobset-ts-source examples/sdk/pytorch.ts)
//
// The shape is upstream's PyTorch example: one replicated job of 4 indexed pods; pod 0 is the master
// that every rank reaches through the stable host name the JobSet's headless Service gives it. Here each
// rank prints what torchrun would be told; in a real image, replace the command with your torchrun line.
import { container, JobSetClient, jobSet, replicatedJob } from "jobset-ts";

const name = process.env.JOBSET_NAME ?? "pytorch";
const ranks = 4;

const trainer = container(
  "pytorch",
  "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
  [
    "/bin/sh",
    "-c",
    'echo "rank $JOB_COMPLETION_INDEX of $WORLD_SIZE: torchrun --nnodes=$WORLD_SIZE --node_rank=$JOB_COMPLETION_INDEX --master_addr=$MASTER_ADDR --master_port=$MASTER_PORT train.py"; sleep 1; echo "rank $JOB_COMPLETION_INDEX: done"',
  ],
  {
    ports: [{ containerPort: 3389 }],
    env: [
      // <jobset>-<replicated job>-<job index>-<pod index>.<subdomain>: the first pod of the first Job.
      { name: "MASTER_ADDR", value: `${name}-workers-0-0.${name}` },
      { name: "MASTER_PORT", value: "3389" },
      { name: "WORLD_SIZE", value: String(ranks) },
    ],
  },
);

// Defaulted and validated here, with the field paths of `jobset lint` if something is wrong.
const js = jobSet(name, {
  replicatedJobs: [
    replicatedJob({
      name: "workers",
      replicas: 1,
      job: { parallelism: ranks, completions: ranks, completionMode: "Indexed", backoffLimit: 0 },
      pod: { containers: [trainer] },
    }),
  ],
  // A failed rank restarts the whole JobSet, at most twice.
  failurePolicy: { maxRestarts: 2, restartStrategy: "Recreate" },
});

const client = await JobSetClient.connect();
try {
  const created = await client.create(js);
  console.log(`created JobSet ${created.metadata?.namespace}/${created.metadata?.name}`);

  const done = await client.waitFor(created, "Completed", {
    timeout: 5 * 60_000,
    onProgress: (p) =>
      console.log(
        `${(p.elapsedMs / 1000).toFixed(1)}s ${p.state}: ${p.pods.succeeded}/${p.pods.total} pods succeeded, ${p.pods.running} running, ${p.restarts} restarts`,
      ),
  });
  console.log(`JobSet ${done.metadata?.name} completed`);

  const pods = await client.pods(done);
  pods.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const pod of pods) {
    for (const line of (await client.logs(pod)).trimEnd().split("\n")) console.log(`[${pod.metadata?.name}] ${line}`);
  }
} finally {
  await client.close();
}
