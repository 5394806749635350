import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { merged } from '../merged.ts';

/**
 * How one personal value is encrypted under its data subject's key, in the log and on Kafka alike:
 * `pd1:` + base64(iv (12 bytes) ‖ tag (16) ‖ AES-256-GCM ciphertext of the value's JSON), authenticated with the
 * subject id and the value's JSON pointer (`<subjectId>\0<pointer>`), so a value cannot be moved to another
 * field or person unnoticed. The iv is synthetic (an HMAC of the event id, the pointer and the value under the
 * key): a retried append seals to the same bytes (and is recognised as the same event), and two different values
 * never share an iv.
 */
export const SEALED_PREFIX = 'pd1:';

/** Where an event holds one subject's personal values (JSON pointers into its data, RFC 6901). */
export interface PersonalValues {
  subjectId: string;
  pointers: string[];
}

const additionalData = (subjectId: string, pointer: string) => Buffer.from(`${subjectId}\u0000${pointer}`, 'utf8');

export function sealValue(key: Buffer, subjectId: string, eventId: string, pointer: string, value: unknown): string {
  const plain = Buffer.from(JSON.stringify(value), 'utf8');
  const iv = createHmac('sha256', key).update(`${eventId}\u0000${pointer}\u0000`).update(plain).digest().subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(subjectId, pointer));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** The value a sealed string holds; throws when it was not sealed under this key for this subject and pointer. */
export function openValue(key: Buffer, subjectId: string, pointer: string, sealed: string): unknown {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new Error(`Not a sealed value at ${pointer}`);
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(additionalData(subjectId, pointer));
  decipher.setAuthTag(bytes.subarray(12, 28));
  // (GCM deciphers as a stream: the text comes from update, and final checks the tag, throwing before it is used.)
  const text = decipher.update(bytes.subarray(28), undefined, 'utf8');
  decipher.final();
  return JSON.parse(text);
}

/** Pointers parsed so far (a domain has few, each read once per event that holds it); forgotten past a bound. */
const parsedPointers = new Map<string, readonly string[]>();
const PARSED_POINTERS = 10_000;

const segments = (pointer: string): readonly string[] => {
  let parsed = parsedPointers.get(pointer);
  if (parsed) return parsed;
  parsed = pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (parsedPointers.size >= PARSED_POINTERS) parsedPointers.clear();
  parsedPointers.set(pointer, parsed);
  return parsed;
};

export function valueAt(data: unknown, pointer: string): unknown {
  let at = data;
  for (const key of segments(pointer)) {
    if (!at || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** A copy of `data` with the value at `pointer` replaced (the objects on the way copied, the rest shared). */
export function withValueAt(data: unknown, pointer: string, value: unknown): unknown {
  return withValueBelow(data, segments(pointer), 0, value);
}

/**
 * What withValueAt returns, made by setting the value in `data` itself (where every key on the way is there): for
 * data of one's own, such as JSON just parsed, where copying the objects on the way would be waste.
 */
export function putValueAt(data: unknown, pointer: string, value: unknown): unknown {
  const keys = segments(pointer);
  if (keys.length === 0) return value;
  let at = data;
  for (let depth = 0; depth < keys.length - 1; depth++) {
    if (!at || typeof at !== 'object' || !Object.hasOwn(at, keys[depth]!)) return data;
    at = (at as Record<string, unknown>)[keys[depth]!];
  }
  const last = keys[keys.length - 1]!;
  if (at && typeof at === 'object' && Object.hasOwn(at, last)) (at as Record<string, unknown>)[last] = value;
  return data;
}

/**
 * `at` with the value at keys[depth..] replaced. A function of its own rather than a closure made per call: under tsx
 * (esbuild keepNames) each closure made also has its name defined, which cost a tenth of a catch-up's opening of values.
 */
function withValueBelow(at: unknown, keys: readonly string[], depth: number, value: unknown): unknown {
  if (depth === keys.length) return value;
  if (!at || typeof at !== 'object') return at;
  const key = keys[depth]!;
  if (!Object.hasOwn(at, key)) return at;
  if (Array.isArray(at)) {
    const copy = [...at];
    copy[Number(key)] = withValueBelow(at[Number(key)], keys, depth + 1, value);
    return copy;
  }
  return merged(at, { [key]: withValueBelow((at as Record<string, unknown>)[key], keys, depth + 1, value) });
}
