// The JobSet CustomResourceDefinition, built from the TypeBox definitions in types.ts (which embed
// the Kubernetes schemas of embedded.ts). scripts/generate.ts writes it to
// config/crd/bases/jobset.x-k8s.io_jobsets.yaml; test/unit/crd.test.ts keeps that file current.
import { JobSetSchema } from "./types.ts";

export const CRD_GROUP = "jobset.x-k8s.io";
export const CRD_VERSION = "v1alpha2";
export const CRD_NAME = `jobsets.${CRD_GROUP}`;

/** Deep copy with object keys sorted, so the output does not depend on definition order. TypeBox's
 * own markers are non-enumerable and disappear here. An empty `properties` (an empty struct such as
 * `basic: {}`) is left out, as controller-gen leaves it out and as the API server stores the CRD: a
 * manifest that keeps it differs from the stored object, which server-side apply reports as a conflict. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      const emptyProperties =
        key === "properties" && typeof v === "object" && v !== null && Object.keys(v).length === 0;
      if (v !== undefined && !emptyProperties) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** The openAPIV3Schema of JobSet v1alpha2. */
export function jobSetOpenApiSchema(): Record<string, unknown> {
  return canonical(JobSetSchema) as Record<string, unknown>;
}

export const PRINTER_COLUMNS = [
  { name: "TerminalState", type: "string", jsonPath: ".status.terminalState", description: "Final state of JobSet" },
  { name: "Restarts", type: "string", jsonPath: ".status.restarts", description: "Number of restarts" },
  { name: "Completed", type: "string", jsonPath: '.status.conditions[?(@.type=="Completed")].status' },
  { name: "Suspended", type: "string", jsonPath: ".spec.suspend", description: "JobSet suspended" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Time this JobSet was created" },
] as const;

/** The whole CustomResourceDefinition object. */
export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD_NAME },
    spec: {
      group: CRD_GROUP,
      names: { kind: "JobSet", listKind: "JobSetList", plural: "jobsets", singular: "jobset" },
      scope: "Namespaced",
      versions: [
        {
          name: CRD_VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          subresources: { status: {} },
          schema: { openAPIV3Schema: jobSetOpenApiSchema() },
        },
      ],
    },
  };
}
