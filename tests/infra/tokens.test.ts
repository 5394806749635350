import { describe, expect, it } from 'vitest';
import { TokenService } from '../../src/infra/tokens.ts';

describe('bearer tokens', () => {
  const at = (iso: string) => new Date(iso);

  it('a token checked once is still refused once it has expired, and a forged one is never accepted', () => {
    const tokens = new TokenService('a-secret-of-enough-length-for-tests', 60);
    const { token } = tokens.issue('employee-1', 'stamp', at('2026-11-30T00:00:00Z'));
    expect(tokens.verify(token, at('2026-11-30T00:00:30Z'))?.sub).toBe('employee-1');
    expect(tokens.verify(token, at('2026-11-30T00:00:59Z'))?.sub).toBe('employee-1');
    expect(tokens.verify(token, at('2026-11-30T00:01:00Z'))).toBeUndefined();
    const [header, payload] = token.split('.');
    const other = new TokenService('another-secret-of-enough-length-too', 60).issue('employee-1', 'stamp', at('2026-11-30T00:00:00Z')).token;
    expect(tokens.verify(`${header}.${payload}.${other.split('.')[2]}`, at('2026-11-30T00:00:30Z'))).toBeUndefined();
    expect(tokens.verify(`${header}.${payload}x.${token.split('.')[2]}`, at('2026-11-30T00:00:30Z'))).toBeUndefined();
  });

  it('a token never checked before is checked, however many were', () => {
    const tokens = new TokenService('a-secret-of-enough-length-for-tests', 60);
    for (let i = 0; i < 10_050; i++) expect(tokens.verify(tokens.issue(`employee-${i}`, 'stamp', at('2026-11-30T00:00:00Z')).token, at('2026-11-30T00:00:10Z'))?.sub).toBe(`employee-${i}`);
    const { token } = tokens.issue('employee-1', 'stamp', at('2026-11-30T00:00:00Z'));
    expect(tokens.verify(token.slice(0, -2), at('2026-11-30T00:00:10Z'))).toBeUndefined();
  });
});
