import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bearer tokens: compact JWTs signed with HS256. */
export interface TokenClaims {
  sub: string;
  iat: number;
  exp: number;
  /** A stamp of the password the token was issued under; a changed or reset password revokes the token. */
  pwd: string;
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** Tokens whose signature was checked, kept so a client's next requests skip the HMAC. */
const VERIFIED_TOKENS = 10_000;

export class TokenService {
  /** Signature-checked tokens and their claims (insertion order: the oldest is dropped first). */
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
  ) {}

  private sign(input: string): Buffer {
    return createHmac('sha256', this.secret).update(input).digest();
  }

  issue(userId: string, passwordStamp: string, now: Date): { token: string; expiresAt: string } {
    const iat = Math.floor(now.getTime() / 1000);
    const claims: TokenClaims = { sub: userId, iat, exp: iat + this.ttlSeconds, pwd: passwordStamp };
    const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
    return { token: `${body}.${b64(this.sign(body))}`, expiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  /** The claims of a valid, unexpired token; undefined otherwise. */
  verify(token: string, now: Date): TokenClaims | undefined {
    const known = this.verified.get(token);
    if (known) return known.exp * 1000 > now.getTime() ? known : undefined;
    const claims = this.checked(token);
    if (!claims) return undefined;
    if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, Object.freeze(claims));
    return claims.exp * 1000 > now.getTime() ? claims : undefined;
  }

  /** The claims of a well-formed token with a valid signature, expired or not. */
  private checked(token: string): TokenClaims | undefined {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature || header !== HEADER) return undefined;
    const expected = this.sign(`${header}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
      if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || typeof claims.pwd !== 'string') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
