import { ProjectionFailedError } from '../projections/runner.ts';
import type { RouteServices } from './route.ts';

/** How far behind the log a projection may be for /readyz to call the service ready. */
const READY_WAIT_MS = 2000;

export type CheckState = 'ok' | 'unavailable' | 'behind' | 'failed' | 'waiting' | 'retrying';

export interface Readiness {
  /** The stores answer and the projections that run are caught up. */
  ready: boolean;
  /** Ready, but a projection has stopped on an event (its routes answer 503) or Kafka is away. */
  degraded: boolean;
  /** One word per part: what anyone may see. */
  checks: Record<string, CheckState>;
  /** The reasons, for administrators only. */
  details: Record<string, string>;
  /** The log's head position when checked (0 when the event store did not answer). */
  head: bigint;
}

/**
 * Whether the service can answer: the event store and read store reachable, the projections caught up. A
 * projection that stopped on an event it cannot apply does not make the service unready (the routes that do not
 * read it work); it degrades it and waits for an administrator. Kafka being away is reported only: the relay
 * keeps its place.
 */
export async function readiness(services: RouteServices): Promise<Readiness> {
  const checks: Record<string, CheckState> = {};
  const details: Record<string, string> = {};
  let head = 0n;
  try {
    head = await services.deps.eventStore.headPosition();
    checks.eventStore = 'ok';
  } catch (error) {
    checks.eventStore = 'unavailable';
    details.eventStore = (error as Error).message;
  }
  try {
    await services.readStore.ping();
    checks.readStore = 'ok';
  } catch (error) {
    checks.readStore = 'unavailable';
    details.readStore = (error as Error).message;
  }
  let running = services.runner.status().filter((s) => !s.failure).map((s) => s.name);
  if (checks.eventStore === 'ok' && checks.readStore === 'ok') {
    const deadline = Date.now() + READY_WAIT_MS;
    for (;;) {
      try {
        await services.runner.waitFor(head, Math.max(0, deadline - Date.now()), running);
        checks.projections = 'ok';
        break;
      } catch (error) {
        // A projection that stops on an event while we wait is failed, not behind: wait for the others.
        const stillRunning = error instanceof ProjectionFailedError ? running.filter((name) => !error.projections.includes(name)) : running;
        if (stillRunning.length < running.length) {
          running = stillRunning;
          continue;
        }
        checks.projections = 'behind';
        details.projections = `projections are more than ${READY_WAIT_MS} ms behind position ${head}`;
        break;
      }
    }
  }
  const failed = services.runner.status().filter((s) => s.failure);
  for (const s of failed) {
    checks[`projection:${s.name}`] = 'failed';
    details[`projection:${s.name}`] = `${s.failure!.event ? `stopped on event ${s.failure!.event.id} (${s.failure!.event.type} at position ${s.failure!.event.position}): ` : ''}${s.failure!.error}`;
  }
  const relay = services.relay?.status();
  if (relay) {
    checks.kafka = relay.halted ? 'failed' : relay.lastError ? 'retrying' : relay.waitingSince ? 'waiting' : 'ok';
    if (relay.halted) details.kafka = relay.halted;
    else if (relay.lastError) details.kafka = `retrying from position ${relay.position}: ${relay.lastError}`;
    else if (relay.waitingSince) details.kafka = `waiting for Kafka since ${relay.waitingSince} at position ${relay.position}`;
  }
  // The ERP bridge: a topic whose last message was rejected, or whose last try failed, degrades (never unreadies) the service.
  for (const topic of services.erp.snapshot()) {
    if (!topic.troubled) continue;
    checks[`erp:${topic.topic}`] = 'retrying';
    details[`erp:${topic.topic}`] = `last error at ${topic.lastErrorAt}: ${topic.lastError}`;
  }
  const erpTroubled = Object.keys(checks).some((key) => key.startsWith('erp:'));
  const ready = checks.eventStore === 'ok' && checks.readStore === 'ok' && checks.projections === 'ok';
  return { ready, degraded: ready && (failed.length > 0 || (checks.kafka !== undefined && checks.kafka !== 'ok') || erpTroubled), checks, details, head };
}
