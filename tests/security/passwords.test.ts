import { scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEmployee } from '../../src/commands/employees.ts';
import { hashPassword, needsRehash, verifyPassword } from '../../src/commands/passwords.ts';
import { employeeStream } from '../../src/domain/employee/index.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** A hash as the previous version wrote it: scrypt N=2^14, r=8, p=1. */
function legacyHash(password: string): string {
  const salt = Buffer.alloc(16, 7);
  const key = scryptSync(password.normalize('NFKC'), salt, 64, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

describe('password hashing', () => {
  it('uses at least OWASP\'s scrypt minimum (N=2^14, r=8, p=5 or equivalent) and still verifies older hashes', async () => {
    const hash = await hashPassword('a-long-password');
    const [, n, r, p] = hash.split('$').map(Number);
    // OWASP's equivalent settings trade memory (N·r) for parallel work (p): N·r·p must reach 2^14·8·5.
    expect(n! * r! * p!).toBeGreaterThanOrEqual(16384 * 8 * 5);
    expect(needsRehash(hash)).toBe(false);
    const legacy = legacyHash('a-long-password');
    expect(await verifyPassword('a-long-password', legacy)).toBe(true);
    expect(needsRehash(legacy)).toBe(true);
  });

  describe('a hash with older parameters', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(async () => app.close());

    it('is replaced at the next successful login, and the token issued with it works', async () => {
      const user = await app.userWithToken('legacy.user', ['salesperson']);
      const stream = employeeStream(user.userId);
      const revision = (await app.services.eventStore.readStream(stream)).at(-1)!.revision;
      await app.services.eventStore.append(
        stream,
        [{ id: crypto.randomUUID(), type: 'PasswordChanged', data: { employeeId: user.userId, passwordHash: legacyHash('legacy-password-1'), at: '2026-01-01T00:00:00.000Z' }, metadata: { actor: user.userId, at: '2026-01-01T00:00:00.000Z', correlationId: 'test', requestId: 'test', schemaVersion: 1 } }],
        revision,
      );
      const token = await app.login('legacy.user', 'legacy-password-1');
      const after = await getEmployee(app.services.deps, user.userId);
      expect(needsRehash(after!.account!.passwordHash)).toBe(false);
      expect(await verifyPassword('legacy-password-1', after!.account!.passwordHash)).toBe(true);
      expect((await app.services.eventStore.readStream(stream)).at(-1)!.type).toBe('PasswordRehashed');
      expect((await app.request('GET', '/api/v1/me', { token })).status).toBe(200);
    });
  });
});
