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

export class TokenService {
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
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature || header !== HEADER) return undefined;
    const expected = this.sign(`${header}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
      if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || typeof claims.pwd !== 'string') return undefined;
      return claims.exp * 1000 > now.getTime() ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
