// A small HTTPS client for the admission server in tests: posts AdmissionReviews, reads answers.
import https from "node:https";
import type { SecureVersion } from "node:tls";
import type { AdmissionRequest, AdmissionReview } from "../../src/webhooks/admission.ts";

export interface PostOptions {
  ca: string;
  agent?: https.Agent;
  contentType?: string;
  method?: string;
  maxVersion?: SecureVersion;
  minVersion?: SecureVersion;
  headers?: Record<string, string>;
}

export interface RawAnswer {
  status: number;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

export function post(url: string, body: string | Buffer, o: PostOptions): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: o.method ?? "POST",
        ca: o.ca,
        agent: o.agent ?? false,
        ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
        ...(o.minVersion ? { minVersion: o.minVersion } : {}),
        headers: { "content-type": o.contentType ?? "application/json", ...o.headers },
      },
      (res) => {
        const sock = res.socket as import("node:tls").TLSSocket | null;
        const fingerprint = sock?.getPeerCertificate?.()?.fingerprint256 ?? "";
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), fingerprint });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let n = 0;
export function review(request: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation">): AdmissionReview {
  n++;
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `uid-${n}`,
      kind: { group: "jobset.x-k8s.io", version: "v1alpha2", kind: "JobSet" },
      resource: { group: "jobset.x-k8s.io", version: "v1alpha2", resource: "jobsets" },
      namespace: "default",
      userInfo: { username: "test" },
      ...request,
    },
  };
}

export async function send(url: string, r: AdmissionReview, o: PostOptions): Promise<AdmissionReview> {
  const a = await post(url, JSON.stringify(r), o);
  if (a.status !== 200) throw new Error(`HTTP ${a.status}: ${a.body}`);
  return JSON.parse(a.body) as AdmissionReview;
}
