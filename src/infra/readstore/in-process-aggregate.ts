import { Aggregator } from 'mingo';
import { fastGroup } from './fast-path.ts';
import type { Doc } from './port.ts';

/** Runs aggregation stages over documents in this process: the common $group shapes directly, the rest with mingo. */
export const aggregateInProcess = (docs: Doc[], stages: Record<string, unknown>[]): unknown[] =>
  fastGroup(docs, stages) ?? new Aggregator(stages).run(docs);
