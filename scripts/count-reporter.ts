// node:test reporter that writes the run's final counts (the summary event without a file) as one
// JSON line, so scripts/test.ts can close the whole suite with a single total line.
import type { TestEvent } from "node:test/reporters";

export default async function* countReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const ev of source) {
    if (ev.type === "test:summary" && ev.data.file === undefined) yield `${JSON.stringify(ev.data.counts)}\n`;
  }
}
