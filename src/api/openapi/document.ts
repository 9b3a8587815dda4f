/**
 * The OpenAPI 3.1 document, built from the routers' route descriptions: request schemas are the
 * zod objects the routes parse with, turned into JSON Schema 2020-12 (the dialect of OpenAPI 3.1)
 * by zod itself, so the document cannot say something the code does not check.
 */
import { z } from "zod";
import type { RouteDoc, RouteExample, RouteSecurity } from "../../http/mod.ts";

/** A JSON Schema as zod writes it. */
type JsonSchema = Record<string, unknown>;

/** What the document is built for: pksn's version and the routes the app registered. */
export interface DocumentOptions {
  version: string;
  /** The app's routes; a description of a route the app does not serve is left out. */
  registered?: readonly { method: string; path: string }[];
}

const SECURITY_SCHEMES = {
  licenceBearer: {
    type: "http",
    scheme: "bearer",
    description: "The client's licence key as `Authorization: Bearer KEY`",
  },
  licenceKey: {
    type: "apiKey",
    in: "header",
    name: "X-License-Key",
    description: "The client's licence key",
  },
  vtApiKey: {
    type: "apiKey",
    in: "header",
    name: "x-apikey",
    description: "The client's licence key, where VirusTotal clients send theirs",
  },
  adminSession: {
    type: "apiKey",
    in: "cookie",
    name: "pksn_admin",
    description: "The session cookie `POST /admin/api/login` sets",
  },
  csrfToken: {
    type: "apiKey",
    in: "header",
    name: "X-CSRF-Token",
    description: "The session's `csrfToken`; needed by every state-changing admin request",
  },
} as const;

const STATE_CHANGING = new Set(["POST", "PATCH", "DELETE"]);

/** The OpenAPI path of a Hono pattern: `:id{.+}` and `:id` become `{id}`, a final `*` `{path}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_]+)(?:\{[^}]*\})?/g, "{$1}").replace(/\/\*$/, "/{path}");
}

/** JSON Schema 2020-12 of a zod schema, as a request (`input`) or an answer (`output`) has it. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "throw",
    reused: "inline",
    cycles: "throw",
  }) as JsonSchema;
  return rest;
}

/** The document for `docs`; throws when an example's status is not among its route's answers. */
export function openApiDocument(docs: readonly RouteDoc[], options: DocumentOptions): object {
  const served = options.registered &&
    new Set(options.registered.map((r) => `${r.method} ${r.path}`));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of docs) {
    if (served && !served.has(`${doc.method} ${doc.path}`)) continue;
    (paths[openApiPath(doc.path)] ??= {})[doc.method.toLowerCase()] = operation(doc);
  }
  return {
    openapi: "3.1.1",
    info: {
      title: "pksn",
      version: options.version,
      description: "A Private KSN reputation node: the public look-up API, the protocols it " +
        "speaks for existing clients (CIRCL hashlookup, VirusTotal v3) and the admin API. " +
        'Errors are `{"error":{"code","message"}}` except on the compatible routes, which ' +
        "answer in their protocol's shape.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: { securitySchemes: SECURITY_SCHEMES },
  };
}

function operation(doc: RouteDoc): Record<string, unknown> {
  for (const example of doc.examples) {
    if (doc.responses[example.status] === undefined) {
      throw new Error(
        `${doc.method} ${doc.path}: example "${example.summary}" answers ${example.status}, ` +
          "which the route does not document",
      );
    }
  }
  const parameters = [
    ...parametersOf(doc.params, "path", doc.examples, (e) => e.params),
    ...parametersOf(doc.query, "query", doc.examples, (e) => e.query),
    ...parametersOf(doc.headers, "header", doc.examples, (e) => e.headers),
  ];
  const op: Record<string, unknown> = {
    operationId: `${doc.method.toLowerCase()}${
      openApiPath(doc.path).replace(/[^A-Za-z0-9]+/g, "_")
    }`,
    tags: [doc.tag],
    summary: doc.summary,
  };
  if (doc.description !== undefined) op.description = doc.description;
  op.security = securityOf(doc.security, doc.method);
  if (parameters.length > 0) op.parameters = parameters;
  if (doc.body !== undefined) op.requestBody = requestBody(doc);
  op.responses = Object.fromEntries(
    Object.entries(doc.responses).map(([status, answer]) => {
      const response: Record<string, unknown> = { description: answer.description };
      if (answer.schema !== undefined) {
        response.content = { "application/json": { schema: jsonSchema(answer.schema, "output") } };
      } else if (answer.contentType !== undefined) {
        response.content = { [answer.contentType]: { schema: { type: "string" } } };
      }
      return [status, response];
    }),
  );
  return op;
}

function securityOf(security: RouteSecurity, method: string): object[] {
  switch (security) {
    case "none":
      return [];
    case "licence":
      return [{ licenceBearer: [] }, { licenceKey: [] }];
    case "vt-key":
      return [{ vtApiKey: [] }];
    case "session":
      return [
        STATE_CHANGING.has(method) ? { adminSession: [], csrfToken: [] } : { adminSession: [] },
      ];
  }
}

/** An example's key in the document: its summary in lower case, words joined by dashes. */
function exampleKey(example: RouteExample): string {
  return example.summary.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function exampleSummary(example: RouteExample): string {
  return `${example.summary} (answers ${example.status})`;
}

function parametersOf(
  schema: z.ZodType | undefined,
  place: "path" | "query" | "header",
  examples: readonly RouteExample[],
  valueOf: (example: RouteExample) => Readonly<Record<string, string>> | undefined,
): object[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, "input");
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    // A header the route reads as null when absent is optional.
    const nullable = Array.isArray(rest.anyOf) &&
      (rest.anyOf as JsonSchema[]).some((s) => s.type === "null");
    const values = Object.fromEntries(
      examples.filter((e) => valueOf(e)?.[name] !== undefined)
        .map((e) => [exampleKey(e), { summary: exampleSummary(e), value: valueOf(e)![name] }]),
    );
    const parameter: Record<string, unknown> = {
      name,
      in: place,
      required: place === "path" || (required.has(name) && !nullable),
      schema: nullable ? (rest.anyOf as JsonSchema[]).find((s) => s.type !== "null") : rest,
    };
    if (description !== undefined) parameter.description = description;
    if (Object.keys(values).length > 0) parameter.examples = values;
    return parameter;
  });
}

function requestBody(doc: RouteDoc): object {
  const body = doc.body!;
  const schema = body.schema !== undefined
    ? jsonSchema(body.schema, "input")
    : body.contentType === "application/json"
    ? {}
    : body.contentType.startsWith("text/")
    ? { type: "string" }
    : { type: "string", contentMediaType: body.contentType };
  const examples = Object.fromEntries(
    doc.examples.filter((e) => e.body !== undefined)
      .map((e) => [exampleKey(e), { summary: exampleSummary(e), value: e.body }]),
  );
  const media: Record<string, unknown> = { schema };
  if (Object.keys(examples).length > 0) media.examples = examples;
  const result: Record<string, unknown> = {
    required: true,
    content: { [body.contentType]: media },
  };
  if (body.description !== undefined) result.description = body.description;
  return result;
}
