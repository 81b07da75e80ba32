// What every controller of this process is built from: the API client, and the process's clock, logger
// and metrics. The assembly (src/app/) makes them once and hands the same ones to every controller.
import type { KubeClient } from "../runtime/client.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import type { Metrics } from "../runtime/metrics.ts";

export interface ControllerDeps {
  client: KubeClient;
  /** Default: the real clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** Default: no metrics. */
  metrics?: Metrics;
}
