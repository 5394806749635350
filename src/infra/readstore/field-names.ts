/**
 * Field names MongoDB-protocol servers refuse inside stored documents: FerretDB v1 rejects any name with a dot
 * or starting with `$`, and MongoDB before 5.0 did too. Read models hold such names as data (a role's field
 * rules keyed by `custom.creditLimit`, an audit entry's changes), so on such a server the Mongo adapter stores
 * them with the dot and dollar replaced by private-use characters and restores them when reading (on MongoDB
 * it stores them as they are). Paths in filters and in update operators keep their dots: only stored values
 * are encoded.
 */
const DOT = '\uE02E';
const DOLLAR = '\uE024';

const encodeName = (name: string) => name.replaceAll('.', DOT).replace(/^\$/, DOLLAR);
const decodeName = (name: string) => (name.startsWith(DOLLAR) ? `$${name.slice(1)}` : name).replaceAll(DOT, '.');
const needsEncoding = (name: string) => name.includes('.') || name.startsWith('$');
const needsDecoding = (name: string) => name.includes(DOT) || name.startsWith(DOLLAR);

/** Returns `value` itself when nothing needs renaming, so the common case allocates nothing. */
function renamed(value: unknown, needs: (name: string) => boolean, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = renamed(item, needs, rename);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (!value || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | undefined;
  const entries = Object.entries(value);
  entries.forEach(([name, item], i) => {
    const next = renamed(item, needs, rename);
    // From the first entry that changes on, the entries go into a copy; the ones before it stay as they are.
    if (!copy && (next !== item || needs(name))) copy = Object.fromEntries(entries.slice(0, i));
    if (copy) copy[needs(name) ? rename(name) : name] = next;
  });
  return copy ?? value;
}

export const encodeFieldNames = <T>(value: T): T => renamed(value, needsEncoding, encodeName) as T;
export const decodeFieldNames = <T>(value: T): T => renamed(value, needsDecoding, decodeName) as T;

/** Operators whose operand may hold operators of its own: `$push: {tags: {$each: […]}}`, `$pull: {tags: {$in: […]}}`. */
const WITH_MODIFIERS = new Set(['$push', '$addToSet', '$pull']);

/** An operand's own operators (`$each`, `$in`, …) keep their names; the values under them are encoded. */
function encodeOperand(operator: string, value: unknown): unknown {
  if (!WITH_MODIFIERS.has(operator) || !value || typeof value !== 'object' || Array.isArray(value) || !Object.keys(value).some((key) => key.startsWith('$'))) return encodeFieldNames(value);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeFieldNames(item)]));
}

/** Encodes the values of update operators; their own keys are paths, and an operand's operators are operators: both stay as they are. */
export const encodeUpdate = <T extends Record<string, unknown>>(update: T): T =>
  Object.fromEntries(Object.entries(update).map(([operator, fields]) => [
    operator,
    fields && typeof fields === 'object' ? Object.fromEntries(Object.entries(fields).map(([path, v]) => [path, encodeOperand(operator, v)])) : fields,
  ])) as T;

/** How a server stores field names: encoded (FerretDB, which refuses dots and leading dollars) or as they are (MongoDB 5.0 and later). */
export interface FieldNameCodec {
  encode<T>(value: T): T;
  decode<T>(value: T): T;
  encodeUpdate<T extends Record<string, unknown>>(update: T): T;
}

export const encodedNames: FieldNameCodec = { encode: encodeFieldNames, decode: decodeFieldNames, encodeUpdate };
const same = <T>(value: T): T => value;
export const namesAsTheyAre: FieldNameCodec = { encode: same, decode: same, encodeUpdate: same };
