// Node's `http` module, taken with process.getBuiltinModule instead of an ESM import.
//
// Why: for `import … from "node:http"` Node builds an ESM facade of the module, and building it reads
// every export, including the lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters; reading them
// loads Node's internal undici. That cost ≈ 13 MiB of RSS and 60–100 ms of CPU in every process that
// imported node:http, although nothing here uses WebSockets (measured on Node 24: an empty ESM module
// importing node:http peaked at 59.3 MiB RSS, one taking it this way at 46.3 MiB; docs/benchmarks.md).
// Types still come from `import type … from "node:http"` (erased at run time).
//
// Every module of src/ takes `http` from here; test/unit/node-http.test.ts keeps it that way.
export const http: typeof import("node:http") = process.getBuiltinModule("node:http");
