import { frozenCopy } from '../frozen.ts';

/**
 * Fast paths for the embedded read store. mingo compiles an operator context on every query and update
 * it is given, which dominated projection replay in the profile; the simple, common shapes below are answered
 * directly, and everything else still goes to mingo (callers fall back when these return `undefined`).
 */
type Obj = Record<string, unknown>;

const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPrimitive = (value: unknown): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

const segments = new Map<string, string[]>();
export const split = (path: string): string[] => {
  let parts = segments.get(path);
  if (!parts) segments.set(path, (parts = path.split('.')));
  return parts;
};

const CROSSED = Symbol('crossed an array');
/** The value at a dotted path, or CROSSED when the path runs through an array (MongoDB semantics differ there). */
function valueAt(doc: Obj, path: string): unknown {
  let value: unknown = doc;
  for (const key of split(path)) {
    if (Array.isArray(value)) return CROSSED;
    value = isObject(value) ? value[key] : undefined;
  }
  return value;
}

export const isAscii = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
};
const COMPARISONS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$exists']);

function compare(value: unknown, operator: string, operand: unknown): boolean | undefined {
  switch (operator) {
    case '$eq':
      return isPrimitive(operand) ? value === operand || (Array.isArray(value) && value.includes(operand)) : undefined;
    case '$ne':
      return isPrimitive(operand) && !Array.isArray(value) ? value !== operand : undefined;
    case '$exists':
      return typeof operand === 'boolean' ? (value !== undefined) === operand : undefined;
    case '$in':
      return Array.isArray(operand) && operand.every(isPrimitive) && !Array.isArray(value) ? operand.includes(value as never) : undefined;
    default: {
      // Ordering for numbers, and for ASCII strings (ISO dates, codes): beyond ASCII, string order differs
      // between JavaScript (UTF-16) and MongoDB (UTF-8 bytes), so mingo decides.
      if (Array.isArray(value)) return undefined;
      if (typeof operand === 'string') {
        if (!isAscii(operand) || (typeof value === 'string' && !isAscii(value))) return undefined;
        if (typeof value !== 'string') return false;
        if (operator === '$gt') return value > operand;
        if (operator === '$gte') return value >= operand;
        if (operator === '$lt') return value < operand;
        return value <= operand;
      }
      if (typeof operand !== 'number') return undefined;
      if (typeof value !== 'number') return false;
      if (operator === '$gt') return value > operand;
      if (operator === '$gte') return value >= operand;
      if (operator === '$lt') return value < operand;
      return value <= operand;
    }
  }
}

/** Whether `doc` matches `filter`, for plain paths with equality and simple comparisons; otherwise undefined. */
export function fastMatch(doc: Obj, filter: Obj): boolean | undefined {
  for (const [path, condition] of Object.entries(filter)) {
    // $and / $or of filters it can answer (what list paging builds: scope, filters, the keyset past a cursor).
    if (path === '$and' || path === '$or') {
      if (!Array.isArray(condition) || condition.length === 0 || !condition.every(isObject)) return undefined;
      const verdicts = condition.map((inner) => fastMatch(doc, inner as Obj));
      if (verdicts.some((v) => v === undefined)) return undefined;
      if (!(path === '$and' ? verdicts.every(Boolean) : verdicts.some(Boolean))) return false;
      continue;
    }
    if (path.startsWith('$')) return undefined;
    const value = valueAt(doc, path);
    if (value === CROSSED) return undefined;
    let verdict: boolean | undefined;
    if (condition === null) {
      // null matches a missing field or a null one (an array: mingo decides).
      verdict = Array.isArray(value) ? undefined : value === null || value === undefined;
    } else if (isPrimitive(condition)) {
      verdict = value === condition || (Array.isArray(value) && (value.includes(condition) || (value.some(isObject) ? undefined : false)));
    } else if (isObject(condition) && Object.keys(condition).length > 0 && Object.keys(condition).every((op) => COMPARISONS.has(op))) {
      verdict = true;
      for (const [operator, operand] of Object.entries(condition)) {
        const result = compare(value, operator, operand);
        if (result === undefined) return undefined;
        if (!result) {
          verdict = false;
          break;
        }
      }
    } else return undefined;
    if (verdict === undefined) return undefined;
    if (!verdict) return false;
  }
  return true;
}

/**
 * The parent object of a dotted path and the last key, creating plain objects on the way; undefined through arrays.
 * With `write`, a frozen object on the way (a part shared with the stored document) is replaced by a copy first.
 */
function parentOf(doc: Obj, path: string, create: boolean, write = false): { parent: Obj; key: string } | undefined {
  const keys = split(path);
  let current: Obj = doc;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]!;
    const next = current[key];
    if (next === undefined && create) current = current[key] = {};
    else if (isObject(next)) current = write && Object.isFrozen(next) ? (current[key] = { ...next }) : next;
    else return undefined;
  }
  return { parent: current, key: keys[keys.length - 1]! };
}

const UPDATE_OPERATORS = new Set(['$set', '$unset', '$inc', '$min', '$max', '$push', '$addToSet', '$pull']);
const plainPaths = new Map<string, boolean>();
/** Whether a path names fields only (no positional `$`, no array index), which the fast path can update. */
const isPlainPath = (path: string): boolean => {
  let plain = plainPaths.get(path);
  if (plain === undefined) plainPaths.set(path, (plain = !path.includes('$') && !split(path).some((key) => /^\d+$/.test(key))));
  return plain;
};
const same = (a: unknown, b: unknown) => a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
const each = (value: unknown): unknown[] | undefined =>
  isObject(value) ? (Object.keys(value).length === 1 && Array.isArray(value.$each) ? value.$each : undefined) : [value];

/**
 * Applies $set $unset $inc $min $max $push $addToSet and $pull (of plain values) in place; returns whether the
 * document changed, or undefined (document untouched) when the update needs mingo. `doc` itself must be
 * writable; frozen parts inside it are copied before they change, and operands are copied in, never shared.
 */
export function fastUpdate(doc: Obj, update: Record<string, Obj | undefined>): boolean | undefined {
  for (const operator in update) if (!UPDATE_OPERATORS.has(operator)) return undefined;
  // Check every path first, so an unsupported one leaves the document untouched.
  for (const operator in update) {
    const fields = update[operator];
    for (const path in fields) {
      if (!isPlainPath(path)) return undefined;
      const current = valueAt(doc, path);
      if (current === CROSSED) return undefined;
      const operand = fields[path];
      if ((operator === '$push' || operator === '$addToSet') && (each(operand) === undefined || (current !== undefined && !Array.isArray(current)))) return undefined;
      if (operator === '$pull' && (isObject(operand) || (current !== undefined && !Array.isArray(current)))) return undefined;
      if ((operator === '$inc' || operator === '$min' || operator === '$max') && (typeof operand !== 'number' || (current !== undefined && typeof current !== 'number'))) return undefined;
    }
  }
  let changed = false;
  for (const operator in update) {
    const fields = update[operator];
    for (const path in fields) {
      const operand = fields[path];
      const target = parentOf(doc, path, operator !== '$unset' && operator !== '$pull', true);
      if (!target) continue;
      const { parent, key } = target;
      const current = parent[key];
      switch (operator) {
        case '$set':
          if (!same(current, operand)) {
            parent[key] = frozenCopy(operand);
            changed = true;
          }
          break;
        case '$unset':
          if (key in parent) {
            changed ||= parent[key] !== undefined;
            delete parent[key];
          }
          break;
        case '$inc':
          parent[key] = ((current as number | undefined) ?? 0) + (operand as number);
          changed ||= operand !== 0 || current === undefined;
          break;
        case '$min':
        case '$max':
          if (current === undefined || (operator === '$min' ? (operand as number) < (current as number) : (operand as number) > (current as number))) {
            parent[key] = operand;
            changed = true;
          }
          break;
        case '$push': {
          const items = each(operand)!;
          parent[key] = [...((current as unknown[] | undefined) ?? []), ...items.map(frozenCopy)];
          changed ||= items.length > 0 || current === undefined;
          break;
        }
        case '$addToSet': {
          const list = [...((current as unknown[] | undefined) ?? [])];
          for (const item of each(operand)!) if (!list.some((existing) => same(existing, item))) list.push(frozenCopy(item));
          changed ||= current === undefined || list.length !== (current as unknown[]).length;
          parent[key] = list;
          break;
        }
        case '$pull': {
          if (current === undefined) break;
          const kept = (current as unknown[]).filter((item) => !same(item, operand));
          if (kept.length !== (current as unknown[]).length) {
            parent[key] = kept;
            changed = true;
          }
          break;
        }
      }
    }
  }
  return changed;
}

const typeRank = (value: unknown): number => {
  if (value === undefined || value === null) return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  if (typeof value === 'boolean') return 8;
  return -1; // objects and arrays: mingo decides
};

export const NOT_PLAIN = Symbol('not plain');

/** A sort value: plain (missing, null, number, string, boolean) or NOT_PLAIN when mingo must order it. */
export function sortValue(doc: Obj, parts: string[]): unknown {
  let value: unknown = doc;
  for (const key of parts) {
    if (Array.isArray(value)) return NOT_PLAIN;
    value = value && typeof value === 'object' ? (value as Obj)[key] : undefined;
  }
  return typeRank(value) < 0 ? NOT_PLAIN : value;
}

export function compareValues(x: unknown, y: unknown): number {
  const rx = typeRank(x);
  const ry = typeRank(y);
  if (rx !== ry) return rx - ry;
  if (rx === 1) return 0;
  return (x as number | string) < (y as number | string) ? -1 : (x as number | string) > (y as number | string) ? 1 : 0;
}

/**
 * The documents ordered by a sort specification over plain values (MongoDB's order: missing and null, then
 * numbers, strings, booleans), the first `count` of them when given (top-k, O(n log count)); undefined when a
 * sort key holds an object or array, for mingo to order.
 */
export function fastSort<T extends Obj>(docs: T[], sort: Record<string, 1 | -1>, count?: number): T[] | undefined {
  const order = sortOrder(sort);
  const rows: { doc: T; values: unknown[] }[] = [];
  const compare = (a: { values: unknown[] }, b: { values: unknown[] }) => order.compare(a.values, b.values);
  const limit = count === undefined || count > 10_000 ? Infinity : count;
  for (const doc of docs) {
    const values = order.valuesOf(doc);
    if (!values) return undefined;
    const row = { doc, values };
    if (rows.length >= limit && compare(row, rows[rows.length - 1]!) >= 0) continue;
    if (limit === Infinity) {
      rows.push(row);
      continue;
    }
    let low = 0;
    let high = rows.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compare(row, rows[middle]!) < 0) high = middle;
      else low = middle + 1;
    }
    rows.splice(low, 0, row);
    if (rows.length > limit) rows.pop();
  }
  if (limit === Infinity) rows.sort(compare);
  return rows.map((row) => row.doc);
}

/**
 * A sort specification over plain values, as two functions: a document's sort values (undefined when one is an
 * object or array, for mingo to order), and the order of two documents' values.
 */
export function sortOrder(sort: Record<string, 1 | -1>): { valuesOf(doc: Obj): unknown[] | undefined; compare(a: unknown[], b: unknown[]): number } {
  const keys = Object.entries(sort).map(([path, direction]) => ({ parts: split(path), direction }));
  return {
    valuesOf(doc) {
      const values = keys.map((key) => sortValue(doc, key.parts));
      return values.includes(NOT_PLAIN) ? undefined : values;
    },
    compare(a, b) {
      for (let i = 0; i < keys.length; i++) {
        const order = compareValues(a[i], b[i]);
        if (order !== 0) return order * keys[i]!.direction;
      }
      return 0;
    },
  };
}
/**
 * `[$match?, $group]` with `_id` a field (or null) and `$sum` accumulators of a field or a constant: the shape
 * pre-aggregated reports use, answered without compiling a pipeline. Undefined for any other pipeline.
 */
export function fastGroup(docs: Obj[], pipeline: Record<string, unknown>[]): Obj[] | undefined {
  if (pipeline.length !== 1 || !isObject(pipeline[0]!.$group)) return undefined;
  const { _id: key, ...accumulators } = pipeline[0]!.$group as Obj;
  if (!(key === null || (typeof key === 'string' && key.startsWith('$')))) return undefined;
  const sums: [string, string | number][] = [];
  for (const [name, accumulator] of Object.entries(accumulators)) {
    if (!isObject(accumulator) || Object.keys(accumulator).length !== 1 || !('$sum' in accumulator)) return undefined;
    const operand = accumulator.$sum;
    if (!(typeof operand === 'number' || (typeof operand === 'string' && operand.startsWith('$')))) return undefined;
    sums.push([name, operand]);
  }
  const groups = new Map<unknown, Obj>();
  for (const doc of docs) {
    const found = key === null ? null : valueAt(doc, key.slice(1));
    const id = found === CROSSED ? null : (found ?? null);
    if (id !== null && !isPrimitive(id)) return undefined;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { _id: id, ...Object.fromEntries(sums.map(([name]) => [name, 0])) }));
    for (const [name, operand] of sums) {
      const value = typeof operand === 'number' ? operand : valueAt(doc, operand.slice(1));
      if (typeof value === 'number') group[name] = (group[name] as number) + value;
    }
  }
  return [...groups.values()];
}

