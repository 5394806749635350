import { MINGO_OPTIONS } from './mingo-options.ts';
import { Aggregator } from 'mingo';
import { fastGroup } from './fast-path.ts';
import { type AggregateLimits, type Doc, QueryTimeLimitError } from './port.ts';

/** Runs aggregation stages over documents in this process: the common $group shapes directly, the rest with mingo. */
export const aggregateInProcess = (docs: Doc[], stages: Record<string, unknown>[]): unknown[] =>
  fastGroup(docs, stages) ?? new Aggregator(stages, MINGO_OPTIONS).run(docs);

/** A value without the dotted path (through arrays of sub-documents, as MongoDB excludes), sharing every part it leaves. */
function withoutPath(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutPath(item, path));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const [head, ...rest] = path as [string, ...string[]];
  if (!(head in record)) return value;
  if (rest.length === 0) {
    const { [head]: _gone, ...kept } = record;
    return kept;
  }
  const inner = withoutPath(record[head], rest);
  return inner === record[head] ? value : { ...record, [head]: inner };
}

/** The paths of a stage that only leaves fields out (`{ $project: { a: 0, 'b.c': 0 } }`), else undefined. */
function exclusions(stage: Record<string, unknown> | undefined): string[][] | undefined {
  const projection = stage?.$project;
  if (!stage || Object.keys(stage).length !== 1 || typeof projection !== 'object' || projection === null) return undefined;
  const entries = Object.entries(projection);
  return entries.length && entries.every(([, flag]) => flag === 0 || flag === false) ? entries.map(([path]) => path.split('.')) : undefined;
}

/**
 * Runs a pipeline a caller composed over documents in this process, with scripts off ($where, $function and
 * $accumulator refuse to run) and a deadline checked as the documents are read (every stage reads them through
 * it, a $group or $sort too) and once more at the end. A first stage that only leaves fields out is applied here,
 * copying what it changes: mingo leaves fields of a frozen document's sub-documents in place (it cannot delete
 * them), and that stage is how a caller's hidden fields are taken out.
 */
export function aggregateWithin(docs: Iterable<Doc>, stages: Record<string, unknown>[], limits: AggregateLimits): unknown[] {
  const deadline = performance.now() + limits.maxTimeMs;
  const leftOut = exclusions(stages[0]);
  const rest = leftOut ? stages.slice(1) : stages;
  function* read(): Generator<Doc> {
    let count = 0;
    for (const doc of docs) {
      if ((++count & 255) === 0 && performance.now() > deadline) throw new QueryTimeLimitError(limits.maxTimeMs);
      yield leftOut ? (leftOut.reduce<unknown>((kept, path) => withoutPath(kept, path), doc) as Doc) : doc;
    }
  }
  const result = new Aggregator(rest, MINGO_OPTIONS).run(read());
  if (performance.now() > deadline) throw new QueryTimeLimitError(limits.maxTimeMs);
  return result;
}
