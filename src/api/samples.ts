/**
 * `POST /v1/samples`: a client in participation mode with-statistics submits a
 * file as the raw body. There is deliberately no route that reads a sample back.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { AppError, InvalidInputError, quote } from "../core/mod.ts";
import type { LicenceAuthenticator } from "../licences/mod.ts";
import { sampleExtension, type SampleStore, sampleTooLarge } from "../samples/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, refuseEncoded } from "../http/mod.ts";

/** What the sample routes need. */
export interface SampleRoutesDeps extends InstrumentDeps {
  auth: LicenceAuthenticator;
  samples: SampleStore;
  /** `stats.maxSampleBytes`. */
  maxSampleBytes: number;
}

/** The optional headers of `POST /v1/samples`, each null when absent. */
export const sampleHeaderSchema = z.object({
  "x-sample-sha256": z.string().trim().regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex digits")
    .transform((v) => v.toLowerCase()).nullable(),
  "x-sample-name": z.string().max(4096, "longer than 4096 characters").nullable(),
  "x-detection": z.string().trim().min(1, "empty").max(256, "longer than 256 characters")
    .regex(/^[\x20-\x7e]+$/, "expected printable ASCII").nullable(),
});

const HEADER_NAMES: Readonly<Record<string, string>> = {
  "x-sample-sha256": "X-Sample-Sha256",
  "x-sample-name": "X-Sample-Name",
  "x-detection": "X-Detection",
};

/** Adds `POST /v1/samples` to `app`. */
export function mountSampleRoutes(app: Hono, deps: SampleRoutesDeps): void {
  const { auth, samples, maxSampleBytes } = deps;
  app.post(
    "/v1/samples",
    instrument("/v1/samples", deps, async function submitSample(c): Promise<Response> {
      // Always checked, even with auth.required off: the client's participation is consent.
      const licence = auth.authenticateForStatistics(c.req.raw.headers, "samples");
      const type = c.req.header("content-type");
      if (type?.split(";", 1)[0].trim().toLowerCase() !== "application/octet-stream") {
        throw new AppError(
          "unsupported",
          "unsupported_media_type",
          `Unsupported content type ${
            quote(type ?? "(none)")
          }: expected "application/octet-stream"`,
        );
      }
      refuseEncoded(c.req.raw.headers);
      const headers = readHeaders(c.req.raw.headers);
      const declared = c.req.header("content-length");
      if (declared !== undefined && Number(declared) > maxSampleBytes) {
        throw sampleTooLarge(maxSampleBytes);
      }
      const body = c.req.raw.body;
      if (body === null) throw new InvalidInputError("sample_empty", "Request body is empty");
      const received = await samples.receive(body, {
        licenceId: licence.id,
        sha256: headers["x-sample-sha256"],
        meta: {
          extension: sampleExtension(headers["x-sample-name"]),
          detection: headers["x-detection"],
        },
      });
      return c.json(
        { sha256: received.sha256, duplicate: received.duplicate },
        received.duplicate ? 200 : 201,
      );
    }),
  );
  allowOnly(app, "/v1/samples", ["POST"], deps);
}

function readHeaders(headers: Headers): z.infer<typeof sampleHeaderSchema> {
  const parsed = sampleHeaderSchema.safeParse({
    "x-sample-sha256": headers.get("x-sample-sha256"),
    "x-sample-name": headers.get("x-sample-name"),
    "x-detection": headers.get("x-detection"),
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = HEADER_NAMES[String(issue.path[0])] ?? String(issue.path[0]);
  throw new InvalidInputError("invalid_header", `Invalid header "${name}": ${issue.message}`);
}
