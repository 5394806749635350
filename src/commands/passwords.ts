import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt at OWASP's minimum (Password Storage Cheat Sheet: N=2^14, r=8, p=5 is one of its equivalent settings;
 * it takes 16 MiB per hash, where N=2^17, r=8, p=1 would take 128 MiB, too much memory for parallel logins).
 * Hashes made with other parameters are still verified, and replaced at the next successful login.
 */
const N = 16384;
const r = 8;
const p = 5;
const KEY_LENGTH = 64;

const derive = (password: string, salt: Buffer, n: number, rr: number, pp: number): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N: n, r: rr, p: pp, maxmem: 256 * n * rr }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );

/** scrypt with a per-user random salt; the parameters are stored with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, rr, pp, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !rr || !pp || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(rr), Number(pp));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Whether a stored hash was made with other parameters than today's (so a login should replace it). */
export const needsRehash = (stored: string): boolean => !stored.startsWith(`scrypt$${N}$${r}$${p}$`);

/** A password that is never checked against anything real, so an unknown user costs as much as a wrong password. */
export const DUMMY_HASH = `scrypt$${N}$${r}$${p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEY_LENGTH).toString('base64url')}`;
