import { z } from 'zod';
import { authorize } from '../commands/authorization.ts';
import type { Actor } from '../commands/context.ts';
import { foldAsOf, type Loaded } from '../commands/pipeline.ts';
import { loadRecord, stateInScope } from '../commands/references.ts';
import { delegatorsFor } from '../commands/delegations.ts';
import { approvableResources } from '../domain/approval/policy.ts';
import { waitsOn } from '../projections/approvals.ts';
import { readScopeOf, type RecordState, type ResourceName, specOf } from '../domain/customization/resources.ts';
import type { Action } from '../domain/role/index.ts';
import type { RouteServices as Services } from './route.ts';
import { publicView } from '../projections/lists.ts';
import { orUnowned, readFilter, withinScope } from '../access/scope.ts';
import type { CsvColumn } from './csv.ts';
import { AsOfQuery, HistoryPage, HistoryQuery, historyPage, notFound, recordEnvelope } from './history.ts';
import { assertFieldsWritable } from './field-security.ts';
import { listOrExport } from './list.ts';
import { listQuery } from './list-query.ts';
import { commonErrors, conflictError, notFoundError, recordWriteErrors, staleError } from './responses.ts';
import { patchSchema } from './patch.ts';
import { type AnyRoute, defineRoute, IdParams, type RouteContext, type RouteResult, WriteResult, written } from './route.ts';

type Doc = Record<string, unknown> & { _id: string };

/**
 * A record type as its routes find it: its name in the registry (`resources.ts`, which gives its decider, stream
 * category, scope rule, module and tag), and what a write must check beyond the data scope. `S` is its decider's
 * state.
 */
export interface RecordKind<S extends RecordState> {
  resource: ResourceName;
  /** Refuses a write to a record the caller may read but not change (a customer in the pool); after the scope check. */
  assertWritable?(state: S, actor: Actor): void;
}

/**
 * The read routes every record resource has: the list (search, filters, custom fields, views, CSV), one record
 * (with `?asOf=` folded from its events) and its history, all scoped and field-secured. A resource plugs in with
 * one call.
 */
export interface RecordReads<S extends RecordState> extends RecordKind<S> {
  /** The read model listed (default: the collection named like the resource, as the registry's projections keep it). */
  collection?: string;
  /** The record as it stood, from its folded state. */
  asOfView(state: S): Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each record type's columns read its own document type
  columns: readonly CsvColumn<any>[];
  view: z.ZodType;
  /** The OpenAPI id of the list page's schema (default: unnamed). */
  pageSchemaId?: string;
  /** Route texts where the default does not say enough. */
  texts?: { list?: { summary?: string; description?: string }; one?: string; history?: string };
  /** Read-time presentation of a document (e.g. a sent quote past its date reads as expired). */
  present?(doc: Doc, services: Services): Doc;
  /** What one record's answer carries besides its document (a customer's latest contacts). */
  expand?(doc: Doc, context: { services: Services; actor: Actor }): Promise<Record<string, unknown>>;
}

/**
 * A record type as the API offers it: its reads (list, CSV, one, asOf, history), and the writes it declares —
 * create, change, remove, and actions on one record. From it come the routes and their OpenAPI entries; the
 * handlers it names only say what the write does. Authorization, the data scope (404 outside it), If-Match,
 * field security and the `{ id, revision }` answer are the machinery's, the same for every record type.
 */
export interface RecordDeclaration<S extends RecordState> extends RecordReads<S> {
  /** POST /api/v1/<resource>; an owned record created for someone else needs `assign`. */
  create?: {
    summary: string;
    description?: string;
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
    /** The 200 answer's description (default `Changed`). */
    done?: string;
    fields: z.ZodObject;
    schemaId: string;
    run(context: RouteContext<{ id: string }, unknown, Record<string, unknown>>): Promise<{ revision: bigint; position: bigint }>;
  };
  /** DELETE /api/v1/<resource>/:id (permission `delete`); the record's history stays readable. */
  remove?: {
    summary: string;
    done: string;
    run(context: RouteContext<{ id: string }, unknown, unknown>): Promise<{ revision: bigint; position: bigint }>;
  };
  /** POST /api/v1/<resource>/:id/<action>, each made with `recordAction` (which keeps its body's type). */
  actions?: readonly RecordCommand<unknown>[];
}

/** One action of a declaration, typed by its own body. */
export const recordAction = <B>(command: RecordCommand<B>): RecordCommand<unknown> => command as unknown as RecordCommand<unknown>;

export function recordRoutes<S extends RecordState>(declaration: RecordDeclaration<S>): AnyRoute[] {
  const { resource } = declaration;
  const spec = specOf(resource);
  const tags = [spec.tag];
  const base = `/api/v1/${resource}`;
  const { create, patch, remove } = declaration;
  return [
    ...(create
      ? [
          defineRoute({
            method: 'post',
            path: base,
            summary: create.summary,
            ...(create.description ? { description: create.description } : {}),
            tags,
            permission: [spec.module, 'create'],
            fields: { resource, writes: true },
            body: create.body,
            responses: { 201: { description: create.done ?? 'Added', schema: create.answer ? WriteResult.extend(create.answer) : WriteResult }, ...commonErrors, ...conflictError },
            async handler(context) {
              const ownerId = (context.body as { ownerId?: unknown }).ownerId;
              if (spec.scope.by === 'owner' && typeof ownerId === 'string' && ownerId !== context.actor.userId) authorize(context.actor, spec.module, 'assign');
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
            permission: [spec.module, 'edit'],
            fields: { resource, writes: true },
            params: IdParams,
            body: patchSchema(patch.fields, patch.schemaId),
            conditional: true,
            responses: { 200: { description: patch.done ?? 'Changed', schema: WriteResult }, ...recordWriteErrors },
            async handler(context) {
              await recordForWrite(context.services, context.actor, declaration, context.params.id);
              return written(await patch.run(context as never), context.params.id);
            },
          }),
        ]
      : []),
    ...(remove
      ? [
          defineRoute({
            method: 'delete',
            path: `${base}/:id`,
            summary: remove.summary,
            tags,
            permission: [spec.module, 'delete'],
            params: IdParams,
            conditional: true,
            responses: { 200: { description: remove.done, schema: WriteResult }, ...commonErrors, ...notFoundError, ...staleError },
            async handler(context) {
              await recordForWrite(context.services, context.actor, declaration, context.params.id);
              return written(await remove.run(context), context.params.id);
            },
          }),
        ]
      : []),
    ...(declaration.actions ?? []).map((action) => recordCommandRoute(declaration, action)),
  ];
}

export function recordReadRoutes<S extends RecordState>(reads: RecordReads<S>): AnyRoute[] {
  const spec = specOf(reads.resource);
  const { list, module, singular } = spec;
  const tags = [spec.tag];
  const base = `/api/v1/${reads.resource}`;
  const owned = spec.scope.by !== 'company';
  const page = z.object({ items: z.array(reads.view), nextCursor: z.string().nullable() });
  const collection = reads.collection ?? reads.resource;

  return [
    defineRoute({
      method: 'get',
      path: base,
      reads: [collection],
      summary: reads.texts?.list?.summary ?? `List ${reads.resource}`,
      description: reads.texts?.list?.description ?? 'Search (q), filters, custom.<key> filters, sort, cursor paging, ?view=; `Accept: text/csv` or `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (XLSX) exports.',
      tags,
      fields: { resource: reads.resource, shape: 'page' },
      query: listQuery(list.filters, list.sorts),
      responses: { 200: { description: `A page of ${reads.resource}`, schema: reads.pageSchemaId ? page.meta({ id: reads.pageSchemaId }) : page }, ...commonErrors },
      handler: (context) =>
        listOrExport(context as unknown as Parameters<typeof listOrExport>[0], {
          resource: reads.resource,
          columns: [...reads.columns],
          collection,
          unowned: !owned,
          ...(reads.present ? { present: (doc: Doc) => reads.present!(doc, context.services) } : {}),
        }),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id`,
      reads: [collection],
      summary: reads.texts?.one ?? `One ${singular}; ?asOf= for the record as it stood then`,
      tags,
      permission: [module, 'view'],
      fields: { resource: reads.resource, shape: 'record' },
      params: IdParams,
      query: AsOfQuery,
      responses: { 200: { description: `The ${singular}`, schema: reads.view }, ...commonErrors, ...notFoundError },
      async handler({ params, query, actor, services }) {
        if (query.asOf) {
          const loaded = await recordReadable<S>(services, actor, reads.resource, params.id);
          const then = foldAsOf(spec.decider as never, loaded.events, new Date(query.asOf)) as { state: S; events: typeof loaded.events; revision: bigint };
          if (then.state.status === 'none') throw notFound(singular, params.id);
          return { status: 200, body: { ...recordEnvelope(params.id, then.events), ...reads.asOfView(then.state), asOf: query.asOf }, headers: { ETag: `"${then.revision}"` } };
        }
        // A record nobody owns (a customer in the pool) is in everyone's scope, as for a write.
        const filter = owned ? withinScope(spec.scope.by === 'owner' ? orUnowned(readFilter(actor, readScopeOf(spec))) : readFilter(actor, readScopeOf(spec)), { _id: params.id }) : { _id: params.id };
        const doc = (await services.readStore.collection<Doc>(collection).findOne(filter)) ?? (approvableResources.includes(reads.resource) && (await waitsOnActor(services, actor, params.id)) ? await services.readStore.collection<Doc>(collection).findOne({ _id: params.id }) : null);
        if (!doc) throw notFound(singular, params.id);
        const body = { ...publicView(reads.present ? reads.present(doc, services) : doc), ...(reads.expand ? await reads.expand(doc, { services, actor }) : {}) };
        return { status: 200, body, headers: { ETag: `"${String(doc.revision)}"` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:id/history`,
      reads: [],
      summary: reads.texts?.history ?? `A ${singular}'s events, oldest first`,
      tags,
      permission: [module, 'view'],
      fields: { resource: reads.resource, shape: 'history' },
      params: IdParams,
      query: HistoryQuery,
      responses: { 200: { description: 'History', schema: HistoryPage }, ...commonErrors, ...notFoundError },
      async handler({ params, query, actor, services }) {
        const loaded = await recordReadable(services, actor, reads.resource, params.id);
        return { status: 200, body: historyPage(loaded.events, query.from, query.limit) };
      },
    }),
  ];
}

/** Loads a record that exists and is in the actor's data scope; any other answers 404, as if it did not exist. */
export async function recordInScope<S extends RecordState = RecordState>(services: Services, actor: Actor, resource: ResourceName, id: string): Promise<Loaded<S>> {
  const spec = specOf(resource);
  const loaded = (await loadRecord(services.deps, spec, id)) as Loaded<S>;
  if (loaded.state.status === 'none' || !(await stateInScope(services.deps, actor, spec, loaded.state))) throw notFound(spec.singular, id);
  return loaded;
}

/**
 * `recordInScope` for a read: also a document waiting on an approval the actor decides now (as its approver or
 * their delegate), which an approver may read outside their data scope while, and only while, it waits.
 */
export async function recordReadable<S extends RecordState = RecordState>(services: Services, actor: Actor, resource: ResourceName, id: string): Promise<Loaded<S>> {
  try {
    return await recordInScope<S>(services, actor, resource, id);
  } catch (error) {
    if (!approvableResources.includes(resource) || !(await waitsOnActor(services, actor, id))) throw error;
    const loaded = (await loadRecord(services.deps, specOf(resource), id)) as Loaded<S>;
    if (loaded.state.status === 'none') throw error;
    return loaded;
  }
}

/** Whether a document waits on the actor now, or on someone whose delegate they are. */
async function waitsOnActor(services: Services, actor: Actor, documentId: string): Promise<boolean> {
  return waitsOn(services.readStore, documentId, [actor.userId, ...(await delegatorsFor(services.readStore, actor.userId, services.clock.now().toISOString()))]);
}

/** `recordInScope` for a write: also what the record type refuses to let the caller change. */
async function recordForWrite<S extends RecordState>(services: Services, actor: Actor, kind: RecordKind<S>, id: string): Promise<Loaded<S>> {
  const loaded = await recordInScope<S>(services, actor, kind.resource, id);
  kind.assertWritable?.(loaded.state, actor);
  return loaded;
}

export interface RecordCommand<B> {
  /** The last path segment: POST /api/v1/<resource>/:id/<action>. */
  action: string;
  /** More about it, for the OpenAPI document. */
  description?: string;
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
export function recordCommandRoute<S extends RecordState, B>(kind: RecordKind<S>, command: RecordCommand<B>): AnyRoute {
  const spec = specOf(kind.resource);
  return defineRoute({
    method: 'post',
    path: `/api/v1/${kind.resource}/:id/${command.action}`,
    summary: command.summary,
    ...(command.description ? { description: command.description } : {}),
    tags: [spec.tag],
    permission: [spec.module, command.permission ?? 'edit'],
    params: IdParams,
    body: command.body,
    conditional: true,
    responses: { 200: { description: command.done ?? 'Done', schema: command.answer ? WriteResult.extend(command.answer) : WriteResult }, ...recordWriteErrors },
    async handler(context) {
      await recordForWrite(context.services, context.actor, kind, context.params.id);
      const named = command.bodyNamesFields === false ? [] : Object.keys((context.body as object | undefined) ?? {});
      assertFieldsWritable(context.actor, kind.resource, [...named, ...(command.writes ?? ['status'])]);
      return writtenWith(await command.run(context), context.params.id, command.answer);
    },
  });
}
