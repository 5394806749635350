import type { z } from 'zod';
import type { CommandDeps } from '../commands/context.ts';
import { commonErrors, conflictError, staleError } from './responses.ts';
import { type AnyRoute, defineRoute, type ResponseSpec, type RouteContext } from './route.ts';

/**
 * A company setting as the API offers it: `GET` (settings `view`) answers it with its revision as ETag, `PUT`
 * (settings `edit`) saves it and answers it with the new ETag and, when it changed, X-Position. With
 * `conditional`, the PUT honours If-Match (412 when stale).
 */
const conditionalErrors: Record<number, ResponseSpec> = { ...conflictError, ...staleError };

export function settingRoutes<T>(setting: {
  path: string;
  tags: string[];
  schema: z.ZodType<T>;
  read: { summary: string; done: string };
  write: { summary: string; description?: string; done: string; conditional?: boolean };
  load(deps: CommandDeps): Promise<{ value: T; revision: bigint | number }>;
  save(context: RouteContext<unknown, unknown, T>): Promise<{ revision: bigint; position: bigint; changed: boolean }>;
}): AnyRoute[] {
  const { path, tags, schema, read, write } = setting;
  return [
    defineRoute({
      method: 'get',
      path,
      reads: [],
      summary: read.summary,
      tags,
      permission: ['settings', 'view'],
      responses: { 200: { description: read.done, schema }, ...commonErrors },
      async handler({ services }) {
        const { value, revision } = await setting.load(services.deps);
        return { status: 200, body: value, headers: { ETag: `"${revision}"` } };
      },
    }),
    defineRoute({
      method: 'put',
      path,
      summary: write.summary,
      ...(write.description ? { description: write.description } : {}),
      tags,
      permission: ['settings', 'edit'],
      body: schema,
      ...(write.conditional ? { conditional: true } : {}),
      responses: { 200: { description: write.done, schema }, ...commonErrors, ...(write.conditional ? conditionalErrors : {}) },
      async handler(context) {
        const result = await setting.save(context);
        return { status: 200, body: context.body, headers: { ETag: `"${result.revision}"`, ...(result.changed ? { 'X-Position': String(result.position) } : {}) } };
      },
    }),
  ];
}
