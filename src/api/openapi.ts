import { z } from 'zod';
import type { AnyRoute } from './route.ts';

type Json = Record<string, unknown>;

/** Moves a schema's `$defs` into components and points its refs there. */
function hoist(schema: Json, components: Json): Json {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== 'object') return value;
    const out: Json = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$schema') continue;
      if (key === '$defs') {
        for (const [name, def] of Object.entries(inner as Json)) components[name] = rewrite(def);
        continue;
      }
      out[key] = key === '$ref' && typeof inner === 'string' ? inner.replace('#/$defs/', '#/components/schemas/') : rewrite(inner);
    }
    return out;
  };
  return rewrite(schema) as Json;
}

function jsonSchema(schema: z.ZodType, components: Json, io: 'input' | 'output'): Json {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
  const hoisted = hoist(generated, components);
  if (!id) return hoisted;
  const ref = `#/components/schemas/${id}`;
  if (hoisted.$ref === ref) return hoisted;
  const { id: _id, ...rest } = hoisted;
  components[id] = rest;
  return { $ref: ref };
}

/** OpenAPI 3.1, generated from the same zod schemas that validate the requests. */
export function openApiDocument(routes: AnyRoute[], info: { version: string }): Json {
  const components: Json = {};
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
      if (!schema) continue;
      const generated = jsonSchema(schema, components, 'input') as { properties?: Json; required?: string[] };
      for (const [name, property] of Object.entries(generated.properties ?? {}))
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (generated.required ?? []).includes(name),
          schema: property,
          ...((property as Json).description ? { description: (property as Json).description } : {}),
        });
    }
    if (route.conditional)
      parameters.push({ name: 'If-Match', in: 'header', required: false, description: 'Revision the change is based on, e.g. "3"; stale → 412', schema: { type: 'string' } });
    if (route.method === 'post' && route.idempotent !== false)
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'A retry with the same key and body returns the first response', schema: { type: 'string', maxLength: 255 } });
    if (route.method === 'get' && route.auth !== false)
      parameters.push({ name: 'X-Min-Position', in: 'header', required: false, description: 'Wait (≤ 5 s) until the read models have applied this position (from X-Position)', schema: { type: 'string' } });
    const responses: Json = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const contentType = response.contentType ?? 'application/json';
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { [contentType]: { schema: jsonSchema(response.schema, components, 'output') } } } : {}),
      };
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      operationId: `${route.method}${route.path.replace(/\/api\/v1/, '').replace(/[/:](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      ...(route.auth === false ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, components, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CRM API',
      version: info.version,
      description:
        'Event-sourced CRM. Money is { amount, currency } in integer minor units; times are ISO-8601 UTC; errors are application/problem+json. See docs/API conventions.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  };
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained HTML rendering of the OpenAPI document (no CDN, works offline). */
export function docsPage(document: Json): string {
  const paths = document.paths as Record<string, Record<string, Json>>;
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const detail = escape(JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2));
      return `<details><summary><code class="m ${method}">${method.toUpperCase()}</code> <code>${escape(path)}</code> — ${escape(String(op.summary))}</summary>${op.description ? `<p>${escape(String(op.description))}</p>` : ''}<pre>${detail}</pre></details>`;
    }),
  );
  const schemas = escape(JSON.stringify((document.components as Json).schemas, null, 2));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CRM API</title><style>
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.4rem .6rem}pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:bold}.get{color:#0a7}.post{color:#06c}.patch{color:#a60}.delete{color:#c22}.put{color:#84c}
</style></head><body><h1>CRM API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Log in with <code>POST /api/v1/auth/login</code>, then send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
${operations.join('\n')}<h2>Schemas</h2><pre>${schemas}</pre></body></html>`;
}
