// The machine's speed right now, for the benchmarks' limits on CPU seconds and times. This 2-core virtual
// machine runs the same code 2-3× slower in some phases than in others (host contention, minutes to hours
// long; docs/benchmarks.md): a limit 25 % above a figure taken in a fast phase fails every run in a slow
// one, and one taken in a slow phase lets a 2× regression pass in a fast one. So each limit is stored with
// the calibration of the run it came from, and scaled by calibration now / calibration then.
//
// The workload is the kind of work the controller and the CLI do: JSON text of a Job encoded and decoded,
// small objects and strings allocated, a Map filled. The figure is the CPU time of the fastest of several
// rounds (the least disturbed one), in milliseconds.

const job = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: {
    name: "calibration-w-0",
    namespace: "bench",
    labels: {
      "jobset.sigs.k8s.io/jobset-name": "calibration",
      "jobset.sigs.k8s.io/replicatedjob-name": "w",
      "jobset.sigs.k8s.io/job-index": "0",
      "batch.kubernetes.io/job-name": "calibration-w-0",
    },
    annotations: { "jobset.sigs.k8s.io/job-key": "8c5a0d8c0a4b9d1c9e2f3a4b5c6d7e8f9a0b1c2d" },
    ownerReferences: [
      { apiVersion: "jobset.x-k8s.io/v1alpha2", kind: "JobSet", name: "calibration", uid: "0", controller: true },
    ],
  },
  spec: {
    parallelism: 1,
    completions: 1,
    backoffLimit: 0,
    completionMode: "Indexed",
    template: {
      metadata: { labels: { "jobset.sigs.k8s.io/jobset-name": "calibration" } },
      spec: {
        restartPolicy: "Never",
        subdomain: "calibration",
        containers: [{ name: "main", image: "busybox:1.36", command: ["sleep", "1"], resources: {} }],
      },
    },
  },
};

/** CPU milliseconds of the fastest of `rounds` rounds of the fixed workload. */
export function calibrate(rounds = 7): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 3000; i++) {
      const text = JSON.stringify({ ...job, metadata: { ...job.metadata, name: `calibration-w-${i}` } });
      const back = JSON.parse(text) as typeof job;
      const seen = new Map<string, number>();
      for (let k = 0; k < 16; k++) seen.set(`${back.metadata.name}/${k}`, k);
      sink += text.length + seen.size;
    }
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  if (sink <= 0) throw new Error("calibration workload did not run");
  return Math.round(best * 10) / 10;
}

/** A limit taken at a calibration, at this machine's speed (`factor` from speedFactor), to the thousandth. */
export function atSpeed(limit: number, factor: number): number {
  return Math.round(limit * factor * 1000) / 1000;
}

/** The factor a limit taken at calibration `then` is scaled by now (1 when the limit has none). */
export function speedFactor(now: number, then: number | undefined): number {
  return then && then > 0 ? Math.round((now / then) * 100) / 100 : 1;
}
