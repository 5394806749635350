/**
 * Values handed to many readers instead of copies (the embedded read store's documents, the embedded event
 * store's cached streams) are deeply frozen, so a reader cannot change what another reader sees; a write builds
 * a new value that shares every part it did not change (copy on write).
 */
const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Freezes, in place, every plain object and array reachable from `value` that is not frozen yet (a frozen one
 * is shared from a stored document and already deeply frozen). Only for values nobody else holds.
 */
export function freezeOwned<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) for (const item of value) freezeOwned(item);
  else if (isPlainObject(value)) for (const key in value) freezeOwned(value[key]);
  else return value; // a Date, a Buffer: kept as the caller's copy (see frozenCopy)
  return Object.freeze(value);
}

/**
 * A deeply frozen copy of a caller's value: plain objects and arrays are copied (a frozen one is shared: it is
 * a stored document's part already), anything else (a Date, a Buffer) is cloned and left as is.
 */
export function frozenCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as T;
  if (!isPlainObject(value)) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = frozenCopy(value[key]);
  return Object.freeze(copy) as T;
}

/**
 * A writable copy of a caller's document: its own top level, to be changed in place by whoever made it, over
 * frozen copies of its parts (shared where they are frozen already). Frozen with freezeOwned before anyone
 * else may hold it.
 */
export function ownedCopy<T extends object>(value: T): T {
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = frozenCopy(value[key]);
  return copy as T;
}
