import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * API fuzzing from the OpenAPI document: every operation gets malformed and hostile input (wrong types, huge
 * and unicode strings, negative and huge money, `$`-operator objects, `__proto__` keys, bad ids and query
 * parameters). Every answer must be a success or a 4xx problem+json, never a 5xx; a refused request must not
 * have written any business record; and every answer must conform to the document: its status among the
 * operation's documented ones, its JSON body valid against the documented schema.
 */
type OpenApi = { paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: { $ref?: string } } } }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

/** Validates answers against the document's response schemas (JSON Schema 2020-12, as OpenAPI 3.1 has them). */
function conformance(document: OpenApi) {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  (addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...document, $id: 'openapi' });
  const pointer = (...parts: string[]) => parts.map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
  return (method: string, path: string, status: number, contentType: string, body: unknown): string | undefined => {
    const operation = document.paths[path]![method.toLowerCase()]!;
    const documented = operation.responses[String(status)];
    if (!documented) return `status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`;
    const type = Object.keys(documented.content ?? {}).find((t) => contentType.startsWith(t));
    if (!type || !/json/.test(type)) return undefined;
    const validate = ajv.getSchema(`openapi#/${pointer('paths', path, method.toLowerCase(), 'responses', String(status), 'content', type, 'schema')}`)!;
    return validate(body) ? undefined : `body does not match the documented schema: ${ajv.errorsText(validate.errors)}`;
  };
}
const BUSINESS = ['customer', 'contact', 'lead', 'opportunity', 'quote', 'order', 'product', 'employee', 'department', 'role'];

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constant('x'.repeat(100_000)),
  fc.constant('华东 ✓ 𠮷 \u0000 \u202e'),
  fc.constant('{"$gt": ""}'),
  fc.constant("'; DROP TABLE events; --"),
  fc.constant('../../etc/passwd'),
  fc.constant('2026-02-30'),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.constantFrom(-1, 1e300, Number.MAX_SAFE_INTEGER + 2, 0.5, -0),
    fc.boolean(),
    fc.constant(null),
    fc.constant({ $gt: '' }),
    fc.constant({ amount: -100, currency: 'CNY' }),
    fc.constant({ amount: 1e20, currency: 'XXXX' }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', '$where', 'custom')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('API fuzzing', () => {
  let app: TestApp;
  const operations: { method: string; path: string; properties: string[] }[] = [];
  let conforms: ReturnType<typeof conformance>;
  beforeAll(async () => {
    app = await startTestApp();
    const document = (await app.request('GET', '/openapi.json', { token: null })).body as OpenApi;
    conforms = conformance(document);
    for (const [path, methods] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(methods)) {
        const ref = operation.requestBody?.content['application/json'].schema.$ref?.split('/').pop();
        operations.push({ method: method.toUpperCase(), path, properties: Object.keys((ref && document.components.schemas[ref]?.properties) ?? {}) });
      }
  });
  afterAll(async () => app.close());

  it('never answers 5xx and never half-writes, for every operation', { timeout: 180_000 }, async () => {
    expect(operations.length).toBeGreaterThan(100);
    const failures: string[] = [];
    const idArb = fc.oneof(fc.uuid(), hostileString.map(encodeURIComponent), fc.constant('01900000-0000-7000-8000-000000000000'));
    const resourceArb = fc.constantFrom('customers', 'contacts', 'widgets', '%00', 'edit', 'view');
    const queryArb = fc.dictionary(fc.oneof(fc.constantFrom('limit', 'cursor', 'sort', 'q', 'from', 'to', 'status', 'custom.x', 'view', 'asOf', 'period', 'dueBefore', '$gt'), fc.string({ maxLength: 8 })), hostileString, { maxKeys: 3 });
    for (const operation of operations) {
      await fc.assert(
        fc.asyncProperty(idArb, resourceArb, queryArb, hostileValue, fc.boolean(), async (id, resource, query, value, useKnownKeys) => {
          const path = operation.path.replace(/\{resource\}/g, resource).replace(/\{kind\}/g, resource).replace(/\{[a-zA-Z]+\}/g, id);
          const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
          const body =
            useKnownKeys && operation.properties.length && typeof value === 'object' && value !== null && !Array.isArray(value)
              ? Object.fromEntries(operation.properties.map((key, i) => [key, Object.values(value)[i % Math.max(1, Object.keys(value).length)] ?? value]))
              : value;
          const before = await app.services.eventStore.headPosition();
          const response = await app.request(operation.method, `${path}${search ? `?${search}` : ''}`, operation.method === 'GET' ? {} : { body });
          if (response.status >= 500) failures.push(`${operation.method} ${operation.path} → ${response.status} ${response.text.slice(0, 200)}`);
          const mismatch = conforms(operation.method, operation.path, response.status, response.headers.get('content-type') ?? '', response.body);
          if (mismatch) failures.push(`${operation.method} ${operation.path} → ${response.status}: ${mismatch}`);
          if (response.status >= 400 && !/problem\+json/.test(response.headers.get('content-type') ?? '')) failures.push(`${operation.method} ${operation.path} → ${response.status} without problem+json`);
          if (response.status >= 400) {
            const written = await app.services.eventStore.readAll({ after: before, filter: { categories: BUSINESS } });
            if (written.length) failures.push(`${operation.method} ${operation.path} → ${response.status} but wrote ${written.map((e) => e.type).join(', ')}`);
          }
        }),
        { numRuns: 25, seed: 2026 },
      );
    }
    expect([...new Set(failures)].slice(0, 40)).toEqual([]);
  });
});
