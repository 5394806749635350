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

type Verdict = boolean | undefined;
type Test = (value: unknown) => Verdict;
const unanswered: Test = () => undefined;

/** One comparison operator with its operand, compiled once for a query (its operand checked once, not per document). */
function comparison(operator: string, operand: unknown): Test {
  switch (operator) {
    case '$eq':
      return isPrimitive(operand) ? (value) => value === operand || (Array.isArray(value) && value.includes(operand)) : unanswered;
    case '$ne':
      return isPrimitive(operand) ? (value) => (Array.isArray(value) ? undefined : value !== operand) : unanswered;
    case '$exists':
      return typeof operand === 'boolean' ? (value) => (value !== undefined) === operand : unanswered;
    case '$in': {
      if (!Array.isArray(operand) || !operand.every(isPrimitive)) return unanswered;
      const among = new Set<unknown>(operand);
      return (value) => (Array.isArray(value) ? undefined : among.has(value));
    }
    default: {
      // Ordering for numbers, and for ASCII strings (ISO dates, codes): beyond ASCII, string order differs
      // between JavaScript (UTF-16) and MongoDB (UTF-8 bytes), so mingo decides.
      const order = (a: string | number, b: string | number) =>
        operator === '$gt' ? a > b : operator === '$gte' ? a >= b : operator === '$lt' ? a < b : a <= b;
      if (typeof operand === 'string') {
        if (!isAscii(operand)) return unanswered;
        return (value) => {
          if (Array.isArray(value)) return undefined;
          if (typeof value === 'string') return isAscii(value) ? order(value, operand) : undefined;
          return false;
        };
      }
      if (typeof operand !== 'number') return unanswered;
      return (value) => (Array.isArray(value) ? undefined : typeof value === 'number' ? order(value, operand) : false);
    }
  }
}

/** A field's condition compiled: null, a plain value, or an object of comparisons; undefined when it is none of those. */
function condition(condition: unknown): Test | undefined {
  if (condition === null) return (value) => (Array.isArray(value) ? undefined : value === null || value === undefined); // null matches a missing field or a null one (an array: mingo decides)
  if (isPrimitive(condition)) return (value) => value === condition || (Array.isArray(value) && (value.includes(condition) || (value.some(isObject) ? undefined : false)));
  if (!isObject(condition) || Object.keys(condition).length === 0 || !Object.keys(condition).every((op) => COMPARISONS.has(op))) return undefined;
  const tests = Object.entries(condition).map(([operator, operand]) => comparison(operator, operand));
  return (value) => {
    for (const test of tests) {
      const result = test(value);
      if (result === undefined) return undefined;
      if (!result) return false;
    }
    return true;
  };
}

/**
 * A filter compiled once into a test of documents, for plain paths with equality and simple comparisons (and
 * $and / $or of such): true or false, or undefined where mingo must decide (then for every document).
 */
export function compileMatch(filter: Obj): (doc: Obj) => Verdict {
  const parts: ((doc: Obj) => Verdict)[] = [];
  for (const [path, wanted] of Object.entries(filter)) {
    // $and / $or of filters it can answer (what list paging builds: scope, filters, the keyset past a cursor).
    if (path === '$and' || path === '$or') {
      if (!Array.isArray(wanted) || wanted.length === 0 || !wanted.every(isObject)) return () => undefined;
      const inner = wanted.map((each) => compileMatch(each as Obj));
      const all = path === '$and';
      parts.push((doc) => {
        let verdict = all;
        for (const test of inner) {
          const result = test(doc);
          if (result === undefined) return undefined;
          if (all ? !result : result) verdict = !all;
        }
        return verdict;
      });
      continue;
    }
    if (path.startsWith('$')) return () => undefined;
    const test = condition(wanted);
    if (!test) return () => undefined;
    const segmentsOf = split(path);
    parts.push((doc) => {
      const value = valueOn(doc, segmentsOf);
      return value === CROSSED ? undefined : test(value);
    });
  }
  return (doc) => {
    for (const part of parts) {
      const verdict = part(doc);
      if (verdict === undefined) return undefined;
      if (!verdict) return false;
    }
    return true;
  };
}

/** Whether `doc` matches `filter`, for plain paths with equality and simple comparisons; otherwise undefined. */
export const fastMatch = (doc: Obj, filter: Obj): Verdict => compileMatch(filter)(doc);

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
/** Whether two values are equal as MongoDB's operators here compare them: identical, or two objects that write the same JSON. */
const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const known = sameJson(a, b);
  return known === UNSURE ? JSON.stringify(a) === JSON.stringify(b) : known;
};

/** What sameJson cannot tell without writing the JSON (a key whose value JSON leaves out, a Date, NaN). */
const UNSURE = 2;

const isPlainData = (value: object): boolean => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null || Array.isArray(value);
};

/** A value whose JSON is itself and unlike any other type's: a string, a boolean, a finite number, null. */
const isSimple = (value: unknown): boolean => typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value));

/**
 * Whether two values write the same JSON, told part by part (stopping at the first part that differs) instead of
 * writing both: arrays and plain objects are compared element by element, simple values by value. Where a part
 * cannot be told without JSON's own rules (an undefined value, which an object's JSON leaves out; a Date; NaN,
 * which writes as null), it answers UNSURE, unless another part differs for certain.
 */
function sameJson(a: unknown, b: unknown): boolean | typeof UNSURE {
  if (a === b) return true;
  if (isSimple(a) && isSimple(b)) return false;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || !isPlainData(a) || !isPlainData(b)) return UNSURE;
  const aList = Array.isArray(a);
  if (aList !== Array.isArray(b)) return false;
  let answer: boolean | typeof UNSURE = true;
  if (aList) {
    const bList = b as unknown[];
    if (a.length !== bList.length) return false;
    for (let i = 0; i < a.length; i++) {
      const part = sameJson(a[i], bList[i]);
      if (part === false) return false;
      if (part === UNSURE) answer = UNSURE;
    }
    return answer;
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return UNSURE;
  for (let i = 0; i < aKeys.length; i++) {
    const key = aKeys[i]!;
    if (key !== bKeys[i]) return UNSURE;
    const part = sameJson((a as Obj)[key], (b as Obj)[key]);
    if (part === false) return false;
    if (part === UNSURE) answer = UNSURE;
  }
  return answer;
}
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
 * `[$match?, $group]` with `_id` null, a field, or an object of fields or nulls (`{ day: '$day', ownerId: '$ownerId' }`),
 * and `$sum` accumulators of a field or a constant: the shape pre-aggregated reports use, answered without
 * compiling a pipeline. Undefined for any other pipeline, or when a key is not a plain value (an object, or a
 * path through an array), which mingo then answers.
 */
export function fastGroup(docs: Obj[], pipeline: Record<string, unknown>[]): Obj[] | undefined {
  if (pipeline.length !== 1 || !isObject(pipeline[0]!.$group)) return undefined;
  const { _id: key, ...accumulators } = pipeline[0]!.$group as Obj;
  const isField = (operand: unknown): operand is string => typeof operand === 'string' && operand.startsWith('$');
  const fields = isObject(key) ? Object.entries(key) : undefined;
  if (!(key === null || isField(key) || (fields?.length && fields.every(([, operand]) => operand === null || isField(operand))))) return undefined;
  const sums: [string, string | number][] = [];
  for (const [name, accumulator] of Object.entries(accumulators)) {
    if (!isObject(accumulator) || Object.keys(accumulator).length !== 1 || !('$sum' in accumulator)) return undefined;
    const operand = accumulator.$sum;
    if (!(typeof operand === 'number' || isField(operand))) return undefined;
    sums.push([name, operand]);
  }
  // Compiled once: each key part's path (null: a constant null) and each sum's path (or constant).
  const keyParts = (fields ?? (key === null ? [] : [['', key]])).map(([name, operand]) => ({ name, path: operand === null ? null : split((operand as string).slice(1)) }));
  const sumParts = sums.map(([name, operand]) => ({ name, path: typeof operand === 'number' ? null : split(operand.slice(1)), constant: typeof operand === 'number' ? operand : 0 }));
  const groups = new Map<string, { values: unknown[]; totals: number[] }>();
  const values: unknown[] = new Array(keyParts.length);
  for (const doc of docs) {
    let mapKey = '';
    for (let k = 0; k < keyParts.length; k++) {
      const path = keyParts[k]!.path;
      const found = path === null ? null : valueOn(doc, path);
      // A missing field is null as a whole key, left out as a part of an object key (as MongoDB does).
      const value = found === undefined && !fields ? null : found;
      if (value !== undefined && value !== null && !isPrimitive(value)) return undefined;
      values[k] = value;
      // A tagged form per part: a missing value, null, and each type of value are all told apart.
      mapKey += value === undefined ? 'u\u0000' : value === null ? 'n\u0000' : typeof value === 'string' ? `s${value}\u0000` : `${typeof value}${String(value)}\u0000`;
    }
    let group = groups.get(mapKey);
    if (!group) groups.set(mapKey, (group = { values: [...values], totals: new Array<number>(sumParts.length).fill(0) }));
    for (let i = 0; i < sumParts.length; i++) {
      const part = sumParts[i]!;
      const value = part.path === null ? part.constant : valueOn(doc, part.path);
      if (typeof value === 'number') group.totals[i]! += value;
    }
  }
  return [...groups.values()].map(({ values: found, totals }) => {
    let id: unknown = null;
    if (fields) {
      const parts: Obj = {};
      // A missing field is left out of an object key, as MongoDB leaves it.
      keyParts.forEach((part, k) => found[k] !== undefined && (parts[part.name] = found[k]));
      id = parts;
    } else if (key !== null) id = found[0] ?? null;
    const row: Obj = { _id: id };
    sumParts.forEach((part, i) => (row[part.name] = totals[i]));
    return row;
  });
}

/** The value at a path already split (undefined for a missing one); a path through an array is not plain (a symbol). */
function valueOn(doc: Obj, path: readonly string[]): unknown {
  let value: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    if (Array.isArray(value)) return CROSSED;
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Obj)[path[i]!];
  }
  return value;
}

