import { expect } from 'vitest';
import type { TestApp } from './app.ts';

type Caller = { token: string };

/**
 * Requests as a user that wait for the read models to catch up after each answer: `as` answers the response,
 * `ok` expects a 2xx and answers its body.
 */
export function acting(app: () => TestApp) {
  const caughtUp = async () => app().services.runner.waitFor(await app().services.eventStore.headPosition(), 5000);
  const as = async (user: Caller, method: string, path: string, body?: unknown) => {
    const response = await app().request(method, path, { token: user.token, ...(body !== undefined ? { body } : {}) });
    await caughtUp();
    return response;
  };
  const ok = async (user: Caller, method: string, path: string, body?: unknown) => {
    const response = await as(user, method, path, body);
    expect(response.status, response.text).toBeLessThan(300);
    return response.body;
  };
  return { caughtUp, as, ok };
}
