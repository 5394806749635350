import { z } from 'zod';
import { type FieldDefinition, valueSchema } from '../domain/customization/fields.ts';

type Json = Record<string, unknown>;

/** A schema node, with a `$ref` into the schema's own `$defs` replaced by a copy of what it names (so a part of it can be left out). */
function inlined(node: Json, root: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return node;
  return structuredClone((root.$defs as Record<string, Json>)[ref.slice('#/$defs/'.length)] ?? {});
}

/** Leaves a dotted path out of a JSON Schema's properties (through arrays' items), in place. */
function leaveOut(schema: Json, root: Json, path: readonly string[]): void {
  const [head, ...rest] = path as [string, ...string[]];
  const properties = schema.properties as Record<string, Json> | undefined;
  if (!properties?.[head]) return;
  if (rest.length === 0) {
    delete properties[head];
    if (Array.isArray(schema.required)) schema.required = schema.required.filter((name) => name !== head);
    return;
  }
  let inner = (properties[head] = inlined(properties[head], root));
  if (inner.type === 'array' && inner.items && typeof inner.items === 'object') inner = inner.items = inlined(inner.items as Json, root);
  leaveOut(inner, root, rest);
}

/**
 * A read model's documents as JSON Schema, as the caller sees them: the record as its GET answers it (the read
 * model's documents less their bookkeeping, plus `_id`), its custom fields typed, the fields hidden from the
 * caller left out.
 */
export function documentSchema(view: z.ZodType, custom: Record<string, FieldDefinition>, hidden: readonly string[]): Json {
  const generated = z.toJSONSchema(view, { io: 'output', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  // A named schema comes as a reference to its definition: the document's own properties are the definition's.
  const schema: Json = { ...generated, ...inlined(generated, generated), $ref: undefined };
  const properties = (schema.properties ??= {}) as Record<string, Json>;
  properties._id = { type: 'string', description: 'The record id (the same as id)' };
  const live = Object.values(custom).filter((field) => !field.retired);
  if (live.length)
    properties.custom = {
      type: 'object',
      properties: Object.fromEntries(live.map((field) => [field.key, { ...(z.toJSONSchema(valueSchema(field), { io: 'output', unrepresentable: 'any' }) as Json), $schema: undefined, title: field.label.en, description: field.label['zh-CN'] }])),
    };
  for (const path of hidden) leaveOut(schema, schema, path.split('.'));
  return withReachableDefs(JSON.parse(JSON.stringify(schema)) as Json);
}

/** The schema with only the `$defs` its properties still reach (the inlined root's definition, and any a hidden field alone used, go). */
function withReachableDefs(schema: Json): Json {
  const defs = (schema.$defs ?? {}) as Record<string, Json>;
  const reached = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
        const name = inner.slice('#/$defs/'.length);
        if (!reached.has(name)) {
          reached.add(name);
          visit(defs[name]);
        }
      } else if (key !== '$defs') visit(inner);
    }
  };
  visit(schema);
  const { $defs: _all, ...rest } = schema;
  return reached.size ? { ...rest, $defs: Object.fromEntries([...reached].map((name) => [name, defs[name]])) } : rest;
}
