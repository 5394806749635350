import { formatNumber } from '../domain/shared/document-number.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { factEvent } from './pipeline.ts';

/** A number taken by a record that was never written for this long is handed to the next record. */
export const ABANDONED_NUMBER_MS = 30_000;

/**
 * A series of document numbers, `<prefix>-<year>-<6 digits>` (SO-2026-000042 for orders, SR-2026-000007 for
 * tickets): unique and gap-free within a year. Each year's numbers are a counter stream of its own; the record
 * type says how a number is withdrawn from a record that was never written (an event in that record's stream,
 * appended only while the record does not exist, after which the record refuses to be created with it).
 */
export interface NumberSeries {
  /** The counter streams' category: `<category>-<year>`. */
  category: string;
  prefix: string;
  /** The counter stream's event type, e.g. OrderNumberAssigned; its data is `{ sequence, number, [idField] }`. */
  assigned: string;
  idField: string;
  /** The record type's name in errors (`order` → order.number_busy). */
  singular: string;
  /** The error code a record's creation fails with when its number was withdrawn meanwhile. */
  withdrawnCode: string;
  /** Withdraws `number` from the record `id` if it was never written; false when it exists (it keeps its number). */
  withdraw(deps: CommandDeps, id: string, number: string, actor: Actor, meta: RequestMeta): Promise<boolean>;
}

/**
 * Takes the next number of the year for record `id` from the year's counter stream (appended with optimistic
 * concurrency, so two records never take a number at once). Idempotent for the same record, as long as the
 * number is still its own. When the last number went to a record that was never written and is stale, that
 * number is handed over, so the sequence stays gap-free: a number belongs to exactly one record.
 */
export async function takeNumber(series: NumberSeries, deps: CommandDeps, id: string, actor: Actor, meta: RequestMeta, withdrawn: readonly string[] = []): Promise<string> {
  const year = deps.clock.now().getUTCFullYear();
  const streamId = `${series.category}-${year}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const events = await deps.eventStore.readStream(streamId);
    // Who holds each number now: its last assignment (a handover assigns a number again).
    const holders = new Map<string, string>();
    for (const event of events) holders.set((event.data as { number: string }).number, (event.data as Record<string, string>)[series.idField]!);
    const mine = [...holders].find(([number, holder]) => holder === id && !withdrawn.includes(number));
    if (mine) return mine[0];
    const last = events[events.length - 1];
    let sequence = last ? (last.data as { sequence: number }).sequence + 1 : 1;
    if (last) {
      const holder = (last.data as Record<string, string>)[series.idField]!;
      const stale = deps.clock.now().getTime() - new Date(last.metadata.at).getTime() > ABANDONED_NUMBER_MS;
      if (stale && holder !== id && (await series.withdraw(deps, holder, (last.data as { number: string }).number, actor, meta))) sequence -= 1;
    }
    const number = formatNumber(series.prefix, year, sequence);
    try {
      await deps.eventStore.append(
        streamId,
        [factEvent(deps, meta, actor.userId, { type: series.assigned, data: { sequence, number, [series.idField]: id } }, `${meta.requestId}:number:${attempt}`)],
        last ? last.revision : 'no_stream',
      );
      return number;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
    }
  }
  throw new DomainError(`${series.singular}.number_busy`, `Too many ${series.singular}s are being numbered at once; retry`);
}

/**
 * Writes a numbered record: takes its number, then `write`s it. Written too late (its number went to another
 * record meanwhile), it takes a new number, at most once per number.
 */
export async function writeNumbered<R>(series: NumberSeries, deps: CommandDeps, id: string, actor: Actor, meta: RequestMeta, write: (number: string) => Promise<R>): Promise<R & { number: string }> {
  const withdrawn: string[] = [];
  for (;;) {
    const number = await takeNumber(series, deps, id, actor, meta, withdrawn);
    try {
      return { ...(await write(number)), number };
    } catch (error) {
      if (!(error instanceof DomainError && error.code === series.withdrawnCode) || withdrawn.includes(number)) throw error;
      withdrawn.push(number);
    }
  }
}

/** A record type's `withdraw`: runs its withdrawing command, false when the record exists (`<singular>.already_exists`). */
export async function withdrawUnlessWritten(singular: string, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if (error instanceof DomainError && error.code === `${singular}.already_exists`) return false;
    throw error;
  }
}
