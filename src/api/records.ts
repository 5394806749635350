import { z } from 'zod';
import { authorize } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import { foldAsOf, load } from '../commands/pipeline.ts';
import { resourceSpecs, type ResourceName, specOf } from '../domain/customization/resources.ts';
import type { Action } from '../domain/role/index.ts';
import type { Decider, DomainEvent } from '../domain/shared/decider.ts';
import type { RouteServices as Services } from './route.ts';
import { publicView } from '../projections/lists.ts';
import { ownerInScope, readFilter, withinScope } from '../access/scope.ts';
import type { CsvColumn } from './csv.ts';
import { AsOfQuery, HistoryPage, HistoryQuery, historyPage, notFound, recordEnvelope } from './history.ts';
import { assertFieldsWritable } from './field-security.ts';
import { listOrExport } from './list.ts';
import { listQuery } from './list-query.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors } from './responses.ts';
import { patchSchema } from './patch.ts';
import { type AnyRoute, defineRoute, IdParams, type RouteContext, type RouteResult, WriteResult, written } from './route.ts';

/** One kind of record as its routes find it: where it lives, how it is named, and who owns one. */
export interface RecordKind<S extends { status: string }> {
  /** The path segment and the customizable resource, e.g. `leads`. */
  resource: ResourceName;
  singular: string;
  tags: string[];
  stream(id: string): string;
  decider: Decider<unknown, DomainEvent, S>;
  /** The owner of a record from its state; undefined for unowned records (catalogue). */
  ownerOf?(state: S): string | null;
  /** The people working on a record with its owner (an opportunity's team): the record is in their scope too. */
  collaboratorsOf?(state: S): readonly string[];
}

/**
 * The read routes every record resource has: the list (search, filters, custom fields, views, CSV), one record
 * (with `?asOf=` folded from its events) and its history, all scoped and field-secured. A resource plugs in with
 * one call.
 */
export interface RecordReads<S extends { status: string }> extends RecordKind<S> {
  collection: string;
  /** The record as it stood, from its folded state. */
  asOfView(state: S): Record<string, unknown>;
  columns: CsvColumn<Record<string, unknown> & { _id: string }>[];
  view: z.ZodType;
  /** Read-time presentation of a document (e.g. a sent quote past its date reads as expired). */
  present?(doc: Record<string, unknown> & { _id: string }, services: Services): Record<string, unknown> & { _id: string };
}

/**
 * A record type as the API offers it: its reads (list, CSV, one, asOf, history), and the writes it declares —
 * create, change, and actions on one record. From it come the routes and their OpenAPI entries; the handlers it
 * names only say what the write does. Authorization, the data scope (404 outside it), If-Match, field security and
 * the `{ id, revision }` answer are the machinery's, the same for every record type.
 */
export interface RecordDeclaration<S extends { status: string }> extends RecordReads<S> {
  /** POST /api/v1/<resource>; an owned record created for someone else needs `assign`. */
  create?: {
    summary: string;
    /** The 201 answer's description (default `Added`). */
    done?: string;
    body: z.ZodType;
    /** Fields the answer carries besides `{ id, revision }` (an order's number). */
    answer?: z.ZodRawShape;
    run(context: RouteContext<Record<string, never>, unknown, Record<string, unknown>>): Promise<{ id: string; revision: bigint; position: bigint }>;
  };
  /** PATCH /api/v1/<resource>/:id with the changeable fields (null clears). */
  patch?: {
    summary: string;
    fields: z.ZodObject;
    schemaId: string;
    run(context: RouteContext<{ id: string }, unknown, Record<string, unknown>>): Promise<{ revision: bigint; position: bigint }>;
  };
  /** POST /api/v1/<resource>/:id/<action>, each made with `recordAction` (which keeps its body's type). */
  actions?: readonly RecordCommand<unknown>[];
}

/** One action of a declaration, typed by its own body. */
export const recordAction = <B>(command: RecordCommand<B>): RecordCommand<unknown> => command as unknown as RecordCommand<unknown>;

export function recordRoutes<S extends { status: string }>(declaration: RecordDeclaration<S>): AnyRoute[] {
  const { resource, tags } = declaration;
  const module = specOf(resource).module;
  const base = `/api/v1/${resource}`;
  const { create, patch } = declaration;
  return [
    ...(create
      ? [
          defineRoute({
            method: 'post',
            path: base,
            summary: create.summary,
            tags,
            fields: { resource, writes: true },
            body: create.body,
            responses: { 201: { description: create.done ?? 'Added', schema: create.answer ? WriteResult.extend(create.answer) : WriteResult }, ...commonErrors, ...conflictError },
            async handler(context) {
              authorize(context.actor, module, 'create');
              const ownerId = (context.body as { ownerId?: unknown }).ownerId;
              if (declaration.ownerOf && typeof ownerId === 'string' && ownerId !== context.actor.userId) authorize(context.actor, module, 'assign');
              const result = await create.run(context as never);
              return writtenWith(result, result.id, create.answer, `${base}/${result.id}`);
            },
          }),
        ]
      : []),
    ...recordReadRoutes(declaration),
    ...(patch
      ? [
          defineRoute({
            method: 'patch',
            path: `${base}/:id`,
            summary: patch.summary,
            tags,
            fields: { resource, writes: true },
            params: IdParams,
            body: patchSchema(patch.fields, patch.schemaId),
            conditional: true,
            responses: { 200: { description: 'Changed', schema: WriteResult }, ...recordWriteErrors },
            async handler(context) {
              authorize(context.actor, module, 'edit');
              await recordInScope(context.services, context.actor, declaration, context.params.id);
              return written(await patch.run(context as never), context.params.id);
            },
          }),
        ]
      : []),
    ...(declaration.actions ?? []).map((action) => recordCommandRoute(declaration, action)),
  ];
}

export function recordReadRoutes<S extends { status: string }>(spec: RecordReads<S>): AnyRoute[] {
  const module = specOf(spec.resource).module;
  const base = `/api/v1/${spec.resource}`;
  const owned = spec.ownerOf !== undefined;
  const collaborators = spec.collaboratorsOf !== undefined;
  const { list } = resourceSpecs[spec.resource];

  return [
    defineRoute({
      method: 'get',
      path: base,
      reads: [spec.collection],
      summary: `List ${spec.resource}`,
      description: 'Search (q), filters, custom.<key> filters, sort, cursor paging, ?view=; `Accept: text/csv` exports.',
      tags: spec.tags,
      fields: { resource: spec.resource, shape: 'page' },
      query: listQuery(list.filters, list.sorts),
      responses: { 200: { description: `A page of ${spec.resource}`, schema: z.object({ items: z.array(spec.view), nextCursor: z.string().nullable() }) }, ...commonErrors },
      handler: (context) =>
        listOrExport(context as unknown as Parameters<typeof listOrExport>[0], {
          resource: spec.resource,
          columns: spec.columns,
          collection: spec.collection,
          unowned: !owned,
          collaborators,
          ...(spec.present ? { present: (doc: Record<string, unknown> & { _id: string }) => spec.present!(doc, context.services) } : {}),
        }),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id`,
      reads: [spec.collection],
      summary: `One ${spec.singular}; ?asOf= for the record as it stood then`,
      tags: spec.tags,
      fields: { resource: spec.resource, shape: 'record' },
      params: IdParams,
      query: AsOfQuery,
      responses: { 200: { description: `The ${spec.singular}`, schema: spec.view }, ...commonErrors, ...notFoundError },
      async handler({ params, query, actor, services }) {
        authorize(actor, module, 'view');
        if (query.asOf) {
          const loaded = await recordInScope(services, actor, spec, params.id);
          const then = foldAsOf(spec.decider, loaded.events, new Date(query.asOf));
          if (then.state.status === 'none') throw notFound(spec.singular, params.id);
          return { status: 200, body: { ...recordEnvelope(params.id, then.events), ...spec.asOfView(then.state), asOf: query.asOf }, headers: { ETag: `"${then.revision}"` } };
        }
        const filter = owned ? withinScope(readFilter(actor, { collaborators }), { _id: params.id }) : { _id: params.id };
        const doc = await services.readStore.collection(spec.collection).findOne(filter);
        if (!doc) throw notFound(spec.singular, params.id);
        return { status: 200, body: publicView(spec.present ? spec.present(doc, services) : doc), headers: { ETag: `"${String(doc.revision)}"` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id/history`,
      reads: [],
      summary: `A ${spec.singular}'s events, oldest first`,
      tags: spec.tags,
      fields: { resource: spec.resource, shape: 'history' },
      params: IdParams,
      query: HistoryQuery,
      responses: { 200: { description: 'History', schema: HistoryPage }, ...commonErrors, ...notFoundError },
      async handler({ params, query, actor, services }) {
        authorize(actor, module, 'view');
        const loaded = await recordInScope(services, actor, spec, params.id);
        return { status: 200, body: historyPage(loaded.events, query.from, query.limit) };
      },
    }),
  ];
}

/** Loads a record that exists and is in the actor's data scope; any other answers 404, as if it did not exist. */
export async function recordInScope<S extends { status: string }>(services: Services, actor: Actor, kind: RecordKind<S>, id: string) {
  const loaded = await load(services.deps, kind.decider, kind.stream(id));
  if (loaded.state.status === 'none' || (kind.ownerOf && !(await ownerInScope(services.deps, actor, kind.ownerOf(loaded.state), kind.collaboratorsOf?.(loaded.state))))) throw notFound(kind.singular, id);
  return loaded;
}

export interface RecordCommand<B> {
  /** The last path segment: POST /api/v1/<resource>/:id/<action>. */
  action: string;
  summary: string;
  body: z.ZodType<B>;
  /** The permission it takes on the resource's module; default `edit`. */
  permission?: Action;
  /** What the 200 answer says; default `Done`. */
  done?: string;
  /**
   * The record's fields the action changes besides those its body names (default `status`): a role for which
   * one is read-only or hidden may not run it (403 naming it), as for a PATCH.
   */
  writes?: readonly string[];
  /** Whether the body's names are record fields (checked like a PATCH's); false for a body that only describes the act (a shipment). Default true. */
  bodyNamesFields?: boolean;
  /** Fields the answer carries besides `{ id, revision }` (e.g. the new shipment's id), taken from what `run` returns. */
  answer?: z.ZodRawShape;
  run(context: RouteContext<{ id: string }, unknown, B>): Promise<{ revision: bigint; position: bigint }>;
}

/** `written` with the extra answer fields a declaration names, taken from the write's result. */
function writtenWith(result: { revision: bigint; position: bigint }, id: string, answer: z.ZodRawShape | undefined, location?: string): RouteResult {
  const base = written(result, id, location);
  return answer ? { ...base, body: { ...(base.body as object), ...Object.fromEntries(Object.keys(answer).map((key) => [key, (result as unknown as Record<string, unknown>)[key]])) } } : base;
}

/**
 * A command on one existing record (send, win, assign…): authorized on the resource's module, 404 for a record
 * outside the actor's scope, If-Match honoured; answers the record's id and new revision.
 */
export function recordCommandRoute<S extends { status: string }, B>(kind: RecordKind<S>, command: RecordCommand<B>): AnyRoute {
  const module = specOf(kind.resource).module;
  return defineRoute({
    method: 'post',
    path: `/api/v1/${kind.resource}/:id/${command.action}`,
    summary: command.summary,
    tags: kind.tags,
    params: IdParams,
    body: command.body,
    conditional: true,
    responses: { 200: { description: command.done ?? 'Done', schema: command.answer ? WriteResult.extend(command.answer) : WriteResult }, ...recordWriteErrors },
    async handler(context) {
      authorize(context.actor, module, command.permission ?? 'edit');
      await recordInScope(context.services, context.actor, kind, context.params.id);
      const named = command.bodyNamesFields === false ? [] : Object.keys((context.body as object | undefined) ?? {});
      assertFieldsWritable(context.actor, kind.resource, [...named, ...(command.writes ?? ['status'])]);
      return writtenWith(await command.run(context), context.params.id, command.answer);
    },
  });
}
