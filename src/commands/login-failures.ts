import type { ReadStore } from '../infra/readstore/port.ts';

/** Failed logins for usernames that do not exist: one counter per client address and hour, never an event. */
export const LOGIN_FAILURES = 'login_failures_by_address';
const WINDOW_MS = 3600_000;
/** How long the counters are kept. */
export const LOGIN_FAILURE_RETENTION_MS = 30 * 86_400_000;

export type LoginFailureDoc = { _id: string; address: string; windowStart: string; count: number; lastAt: string };

/**
 * Counts a failed login for an unknown username from an address. The log and the audit trail do not grow with
 * random usernames: the store holds at most one document per address and hour, and drops those older than the
 * retention whenever a new hour begins. The username itself is never kept (people type passwords into it).
 */
export async function countUnknownUsername(store: ReadStore, address: string, now: Date): Promise<void> {
  const start = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS).toISOString();
  const counters = store.collection<LoginFailureDoc>(LOGIN_FAILURES);
  const result = await counters.updateOne(
    { _id: `${address}|${start}` },
    { $inc: { count: 1 }, $set: { lastAt: now.toISOString() }, $setOnInsert: { address, windowStart: start } },
    { upsert: true },
  );
  if (result.upsertedId !== null) await counters.deleteMany({ windowStart: { $lt: new Date(now.getTime() - LOGIN_FAILURE_RETENTION_MS).toISOString() } });
}
