import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** What a derived key is for; each purpose has its own key, so one can never stand in for another. */
export type KeyPurpose = 'cursor' | 'idempotency' | 'public-link';

/**
 * Keys derived (HKDF-SHA-256) from the server secret: sealed values (AES-256-GCM, so a client can neither read
 * nor alter them: list cursors) and keyed hashes (HMAC-SHA-256: request bodies in the idempotency log).
 */
export class ServerKeys {
  private readonly keys = new Map<KeyPurpose, Buffer>();

  constructor(private readonly secret: string) {}

  private key(purpose: KeyPurpose): Buffer {
    let key = this.keys.get(purpose);
    if (!key) this.keys.set(purpose, (key = Buffer.from(hkdfSync('sha256', this.secret, 'crm-server-keys', purpose, 32))));
    return key;
  }

  /** An opaque, tamper-proof token holding `plain`, valid only with the same `context` (e.g. user and list). */
  seal(purpose: KeyPurpose, context: string, plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(purpose), iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The value `seal` put in, or undefined for a token that was altered, forged or sealed for another context. */
  open(purpose: KeyPurpose, context: string, token: string): string | undefined {
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 12 + 16 || raw.toString('base64url') !== token) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key(purpose), raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** A keyed hash (hex): without the server secret nobody can test guesses against it. */
  hmac(purpose: KeyPurpose, data: string): string {
    return createHmac('sha256', this.key(purpose)).update(data, 'utf8').digest('hex');
  }
}
