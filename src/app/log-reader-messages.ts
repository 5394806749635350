import type { MessagePort } from 'node:worker_threads';
import type { RowText } from '../infra/eventstore/sqlite.ts';
import type { LogRead } from '../infra/eventstore/log-reader.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import { putValueAt, valueAt } from '../infra/personal-data/sealing.ts';
import type { PersonalDataScope } from '../infra/eventstore/personal-data.ts';
import type { Doc } from '../infra/readstore/port.ts';
import type { ProjectionApplyError } from '../projections/runner.ts';

// What a replay's reading thread (log-reader-worker.ts) and its caller (log-reader-thread.ts) say to each other, and
// how a part of the log is handed over. A module of its own, light: the thread loads it as it starts.

/** What the thread is started with. */
export interface ThreadData {
  logReader: true;
  eventsPath: string;
  read: LogRead;
  ahead: number;
  partSize: number;
  beside?: Beside;
  /** Which streams hold personal values (the thread loads the rules that find them only when an event needs them). */
  scope: PersonalDataScope;
  batches: MessagePort;
}

/** What the thread applies beside its reading: projections by name, and the events an administrator had each skip. */
export interface Beside {
  names: string[];
  skipped: Record<string, string[]>;
}

/** A projection's failure on an event in the thread, as the caller's ProjectionApplyError is rebuilt from it. */
export type ApplyFailure = { projection: string; event: ProjectionApplyError['event']; message: string };

/**
 * What the thread sends on its port, beside the batches (which go on a channel of their own): that a batch is
 * there, or why it stopped; when it applies projections, then their documents (a collection's in parts), the end
 * of them, or the event one of them failed on.
 */
export type FromThread = typeof BATCH_SENT | { failed: string } | { documents: { collection: string; docs: Doc[] } } | { applied: true } | { applyFailed: ApplyFailure };

/** What the thread sends on its port but the notice of a batch. */
export type Notice = Exclude<FromThread, typeof BATCH_SENT>;

/** A batch of the log's events (as handed over), and whether it is the read's last. */
export type Batch = { events: HandedEvents; last: boolean };

/**
 * A part of the log as the thread sends it. An event the store read is sent as its stored text, seven values
 * (position, id, stream, revision, type, the data's JSON, the metadata's JSON), which the caller parses; one whose
 * sealed personal values were opened, as the text it was opened from and then an array of the opened values, in
 * the order of its `metadata.personal` pointers, which the caller puts in place; any other (upcast, or opened
 * otherwise: a new object, with no stored text) as the object. The thread posts strings it holds already instead of
 * serialising the objects it parsed, and the caller's JSON.parse costs less than deserialising them: on the 100k
 * benchmark log's customer and opportunity events, 1.1 against 1.2–1.9 µs an event in the thread, 1.6 against
 * 1.9–2.7 µs in the caller. An opened contact event cost the thread about 2.5 µs whole.
 */
export type HandedEvents = (number | string | unknown[] | RecordedEvent)[];

/**
 * The events of a part as the thread hands them over. textOf: an event's stored text, when it is as stored;
 * openedFrom: the stored event one was opened from, when only its personal values were opened.
 */
export function handedOver(events: readonly RecordedEvent[], textOf: (event: RecordedEvent) => RowText | undefined, openedFrom: (event: RecordedEvent) => RecordedEvent | undefined = () => undefined): HandedEvents {
  const handed: HandedEvents = [];
  for (const event of events) {
    let text = textOf(event);
    const from = text ? undefined : openedFrom(event);
    if (from) text = textOf(from);
    if (!text) {
      handed.push(event);
      continue;
    }
    handed.push(Number(event.position), event.id, event.streamId, Number(event.revision), event.type, text.data, text.metadata);
    if (from) handed.push(openedValues(event));
  }
  return handed;
}

/** The values at an opened event's personal pointers, in their order. */
function openedValues(event: RecordedEvent): unknown[] {
  const values: unknown[] = [];
  for (const { pointers } of event.metadata.personal!) for (const pointer of pointers) values.push(valueAt(event.data, pointer));
  return values;
}

/** The events a part handed over holds, in order. */
export function takenOver(handed: HandedEvents): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let at = 0; at < handed.length; ) {
    const first = handed[at]!;
    if (typeof first !== 'number') {
      events.push(first as RecordedEvent);
      at += 1;
      continue;
    }
    const metadata = JSON.parse(handed[at + 6] as string) as RecordedEvent['metadata'];
    let data: unknown = JSON.parse(handed[at + 5] as string);
    const opened = handed[at + 7];
    if (Array.isArray(opened)) {
      let next = 0;
      for (const { pointers } of metadata.personal!) for (const pointer of pointers) data = putValueAt(data, pointer, opened[next++]);
    }
    events.push({ id: handed[at + 1] as string, streamId: handed[at + 2] as string, revision: BigInt(handed[at + 3] as number), position: BigInt(first), type: handed[at + 4] as string, data, metadata });
    at += Array.isArray(opened) ? 8 : 7;
  }
  return events;
}

/** Tells the caller a batch is on the batches' channel (when it waits for one). */
export const BATCH_SENT = 'batch';
