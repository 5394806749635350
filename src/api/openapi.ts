import { z } from 'zod';
import { generatedProblems } from './responses.ts';
import { TRACEPARENT } from './middleware.ts';
import { type AnyRoute, IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN, MIN_POSITION_PATTERN } from './route.ts';

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

/** Answers may gain members in later versions (clients ignore what they do not know): response objects stay open. */
function openObjects(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(openObjects);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key, inner]) => !(key === 'additionalProperties' && inner === false)).map(([key, inner]) => [key, openObjects(inner)]));
}

function jsonSchema(schema: z.ZodType, components: Json, io: 'input' | 'output'): Json {
  const raw = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  const generated = io === 'output' ? (openObjects(raw) as Json) : raw;
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
      parameters.push({ name: 'If-Match', in: 'header', required: false, description: 'Revision the change is based on, e.g. "3" (also W/"3" or 3; * for any); stale → 412', schema: { type: 'string', pattern: IF_MATCH_PATTERN.source } });
    if (route.method === 'post' && route.idempotent !== false && route.auth !== false)
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'A retry with the same key and body returns the first response (kept CRM_IDEMPOTENCY_TTL_HOURS)', schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source } });
    if (route.path.startsWith('/api/'))
      parameters.push({ name: 'traceparent', in: 'header', required: false, description: "W3C Trace Context: the request's trace goes on into the events it writes (metadata.traceId), their Kafka messages and the answer's traceparent; without one (or with one not valid) a new trace begins", schema: { type: 'string', pattern: TRACEPARENT.source } });
    if (route.method === 'get' && route.auth !== false)
      parameters.push({ name: 'X-Min-Position', in: 'header', required: false, description: 'Wait (≤ 5 s) until the read models this route reads have applied this position (from X-Position)', schema: { type: 'string', pattern: MIN_POSITION_PATTERN.source } });
    const responses: Json = {};
    const declared = { ...(route.path.startsWith('/api/') ? generatedProblems(route) : {}), ...route.responses };
    for (const [status, response] of Object.entries(declared)) {
      if (!response) continue;
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

/** The files of the API reference (Swagger UI, served from node_modules: no CDN, works offline). */
export const docsAssets: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
  'swagger-ui-standalone-preset.js': { file: 'swagger-ui-standalone-preset.js', type: 'text/javascript; charset=utf-8' },
};

/** Starts Swagger UI on /openapi.json, with "Authorize" for a bearer token kept across reloads, and try-it-out. */
export const docsInitializer = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#api',
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
});
`;

/** The API reference page: Swagger UI rendering /openapi.json (log in with POST /api/v1/auth/login, then Authorize). */
export function docsPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CRM API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body><div id="api"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/init.js"></script></body></html>`;
}
