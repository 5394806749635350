import type { Decider, DomainEvent } from '../domain/shared/decider.ts';
import { recordStream, type ResourceName, type ResourceSpec, resourceSpec, specOf } from '../domain/customization/resources.ts';
import type { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { type CustomOf, customChanges, prepareCustom } from './custom-fields.ts';
import { type EventStore, WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { DeferredAppends, NotDeferrableError } from './deferred-appends.ts';
import { type Executed, execute, type Loaded, load } from './pipeline.ts';
import { isScoped, recordExists, recordVisible, referenceNotFound } from './references.ts';
import { claim, isHeld, releaseQuietly, type ReservationHolderCheck } from './reservations.ts';

/** A standard field whose value is unique across the company (a customer's name, a product's code). */
export interface UniqueField {
  /** The reservation scope, e.g. `product.code`. */
  scope: string;
  field: string;
  /** The value as compared (normalised); undefined for an empty one, which is never claimed. */
  normalize(value: unknown): string | undefined;
  /** The answer when another record holds `given`; `holderId` is given only to a caller who may see it. */
  taken(given: unknown, holderId: string | undefined): DomainError;
}

/**
 * What the command handler needs to know about a record type beyond its registry entry (which names its
 * decider, stream category and scope): the types `C` and `S` are its decider's commands and state.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- C and S type the handler built from these rules
export interface RecordRules<C, S extends { status: string }> {
  /** The registered record type, e.g. `leads`: its decider, stream and custom fields. */
  resource: ResourceName;
  /**
   * The record's current fields (custom values under `custom`); undefined when it does not exist, or holds no values
   * any more (a merged customer: its unique values are free). Default: `state.fields`.
   */
  fieldsOf?(state: S): Record<string, unknown> | undefined;
  uniqueFields?: readonly UniqueField[];
  /** Whether the caller may see the record `id` (for naming the holder of a unique value). Default: its data scope, for a scoped record type; yes otherwise. */
  visible?(deps: CommandDeps, actor: Actor, id: string): Promise<boolean>;
}

type Key = { scope: string; value: string };
type Fields = Record<string, unknown> & { custom?: Record<string, unknown> | undefined };

/**
 * The one command handler of a record type, bound to the deps, the actor and the request. It claims the unique
 * values (standard and custom) a write sets before it appends, releases every claim when the write fails, and
 * the values a change replaced once it has succeeded: the same way for every record type.
 */
export class RecordHandler<C, S extends { status: string }> {
  private readonly decider: Decider<C, DomainEvent, S>;
  private readonly spec: ResourceSpec;
  private readonly fieldsOf: (state: S) => Record<string, unknown> | undefined;
  private readonly visible: (deps: CommandDeps, actor: Actor, id: string) => Promise<boolean>;

  constructor(
    private readonly rules: RecordRules<C, S>,
    readonly deps: CommandDeps,
    readonly actor: Actor,
    readonly meta: RequestMeta,
  ) {
    this.spec = specOf(rules.resource);
    this.decider = this.spec.decider as unknown as Decider<C, DomainEvent, S>;
    this.fieldsOf = rules.fieldsOf ?? ((state) => (state.status === 'none' ? undefined : (state as unknown as { fields: Record<string, unknown> }).fields));
    this.visible = rules.visible ?? (isScoped(rules.resource) ? (deps, actor, id) => recordVisible(deps, actor, this.spec, id) : async () => true);
  }

  load(id: string): Promise<Loaded<S>> {
    return load(this.deps, this.decider, recordStream(this.spec, id));
  }

  /** Runs one command on the record's stream (load → decide → append). */
  run(id: string, command: C | ((state: S) => C), meta: RequestMeta = this.meta): Promise<Executed<S>> {
    return execute(this.deps, this.decider, recordStream(this.spec, id), command, this.actor, meta);
  }

  /**
   * Creates a record from its fields: custom values validated (defaults filled), unique values claimed, then the
   * command `build` makes from the new id and the fields with their custom values.
   */
  create(fields: Fields, build: (id: string, fields: Fields) => C, id: string = this.meta.ids.newId()): Promise<Executed<S> & { id: string }> {
    return this.createWith(fields, (newId, all, handler) => handler.run(newId, build(newId, all)), id);
  }

  /**
   * `create` for a record whose first write is more than one command (an order takes its number first); `write`
   * appends through the handler it is given (its `deps`). Where the event store can append to several streams at once, the
   * claims and the record are written in one go (one commit, and no claim left behind by a failure); when a
   * claimed value was taken meanwhile, or elsewhere, it is done step by step: claims first, released on failure.
   */
  async createWith<R extends Executed<S>>(fields: Fields, write: (id: string, fields: Fields, handler: RecordHandler<C, S>) => Promise<R>, id: string = this.meta.ids.newId()): Promise<R & { id: string }> {
    const store = this.deps.eventStore;
    if (store.appendAtomically) {
      const unit = new DeferredAppends(store as EventStore & Required<Pick<EventStore, 'appendAtomically'>>);
      try {
        const result = await new RecordHandler(this.rules, { ...this.deps, eventStore: unit }, this.actor, this.meta).createStepByStep(fields, write, id);
        const written = await unit.commit();
        return written.length ? { ...result, position: written[written.length - 1]!.position } : result;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError || error instanceof NotDeferrableError)) throw error;
      }
    }
    return this.createStepByStep(fields, write, id);
  }

  private async createStepByStep<R extends Executed<S>>(fields: Fields, write: (id: string, fields: Fields, handler: RecordHandler<C, S>) => Promise<R>, id: string): Promise<R & { id: string }> {
    const { custom: given, ...plain } = fields;
    await this.assertReferencesExist(plain);
    const custom = await prepareCustom(this.deps, this.rules.resource, given, 'create', id, {}, this.customOf, this.actor, this.meta);
    const all: Fields = { ...plain, ...(Object.keys(custom.values).length ? { custom: custom.values } : {}) };
    const claimed: Key[] = [...custom.claimed];
    try {
      for (const unique of this.rules.uniqueFields ?? []) {
        const value = unique.normalize(all[unique.field]);
        if (value !== undefined) claimed.push(await this.claimUnique(unique, all[unique.field], value, id));
      }
      return { ...(await write(id, all, this)), id };
    } catch (error) {
      await this.release(claimed, id);
      throw error;
    }
  }

  /**
   * Changes a record's fields: changed custom values validated, new unique values claimed, then the command
   * `build` makes from the changes (custom values as dotted `custom.<key>`); replaced values are released after.
   */
  async change(id: string, changes: Record<string, unknown>, build: (changes: Record<string, unknown>) => C): Promise<Executed<S>> {
    const current = this.fieldsOf((await this.load(id)).state);
    await this.assertReferencesExist(changes);
    const custom = await customChanges(this.deps, this.rules.resource, changes, id, current ? ((current.custom as Record<string, unknown> | undefined) ?? {}) : undefined, this.customOf, this.actor, this.meta);
    const claimed: Key[] = [...custom.claimed];
    const replaced: Key[] = [...custom.replaced];
    let result: Executed<S>;
    try {
      for (const unique of current ? (this.rules.uniqueFields ?? []) : []) {
        if (!(unique.field in changes)) continue;
        const next = changes[unique.field] === null ? undefined : unique.normalize(changes[unique.field]);
        const old = unique.normalize(current![unique.field]);
        if (next === old) continue;
        if (next !== undefined) claimed.push(await this.claimUnique(unique, changes[unique.field], next, id));
        if (old !== undefined) replaced.push({ scope: unique.scope, value: old });
      }
      result = await this.run(id, build(custom.changes));
    } catch (error) {
      await this.release(claimed, id);
      throw error;
    }
    if (result.changed) await this.release(replaced, id);
    return result;
  }

  /** Each id a write sets in a field naming records of another type (the registry's `references`) must name one that exists. */
  private async assertReferencesExist(values: Record<string, unknown>): Promise<void> {
    for (const [field, resource] of Object.entries(this.spec.references ?? {})) {
      const value = values[field];
      const target = resourceSpec(resource);
      if (!target || value === undefined || value === null) continue;
      for (const [i, id] of (Array.isArray(value) ? value : [value]).entries()) {
        if (!(await recordExists(this.deps, target, String(id)))) throw referenceNotFound(target, String(id), Array.isArray(value) ? `${field}[${i}]` : field);
      }
    }
  }

  private readonly customOf: CustomOf = async (id) => {
    const fields = this.fieldsOf((await this.load(id)).state);
    return fields === undefined ? undefined : ((fields.custom as Record<string, unknown> | undefined) ?? {});
  };

  private async claimUnique(unique: UniqueField, given: unknown, value: string, id: string): Promise<Key> {
    const check: ReservationHolderCheck = {
      holds: async (holder) => {
        const fields = this.fieldsOf((await this.load(holder)).state);
        return fields !== undefined && unique.normalize(fields[unique.field]) === value;
      },
      exists: async (holder) => (await this.load(holder)).state.status !== 'none',
    };
    try {
      await claim(this.deps, unique.scope, value, id, check, this.actor, this.meta);
    } catch (error) {
      if (!isHeld(error)) throw error;
      const holder = String(error.details.holderId);
      const visible = await this.visible(this.deps, this.actor, holder);
      throw unique.taken(given, visible ? holder : undefined);
    }
    return { scope: unique.scope, value };
  }

  private async release(keys: Key[], id: string): Promise<void> {
    for (const key of keys) await releaseQuietly(this.deps, key.scope, key.value, id, this.actor, this.meta);
  }
}
