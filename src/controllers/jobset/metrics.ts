// JobSet's own Prometheus families (spec §9.1), next to the controller that counts them:
// `jobset_completed_total` and `jobset_failed_total` {jobset_name, namespace}. They are registered on
// the process's registry (src/runtime/metrics.ts), so /metrics shows them with the generic
// controller-runtime, work-queue and REST-client families.
import { Counter, type Registry } from "prom-client";
import { Metrics as MetricNames } from "../../api/constants.ts";
import type { TerminalMetrics } from "./executor.ts";

export class JobSetMetrics implements TerminalMetrics {
  readonly completed: Counter<"jobset_name" | "namespace">;
  readonly failed: Counter<"jobset_name" | "namespace">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.completed = new Counter({
      name: MetricNames.Completed,
      help: "The total number of completed JobSets",
      labelNames: ["jobset_name", "namespace"],
      registers,
    });
    this.failed = new Counter({
      name: MetricNames.Failed,
      help: "The total number of failed JobSets",
      labelNames: ["jobset_name", "namespace"],
      registers,
    });
  }

  jobsetCompletedInc(name: string, namespace: string): void {
    this.completed.inc({ jobset_name: name, namespace });
  }
  jobsetFailedInc(name: string, namespace: string): void {
    this.failed.inc({ jobset_name: name, namespace });
  }
}

const byRegistry = new WeakMap<Registry, JobSetMetrics>();

/** The JobSet families of `registry`, registered on first use (a registry refuses a name twice). */
export function jobSetMetrics(registry: Registry): JobSetMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = new JobSetMetrics(registry);
    byRegistry.set(registry, m);
  }
  return m;
}
