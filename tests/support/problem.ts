import { expect } from 'vitest';

/** Asserts an application/problem+json answer with the given status and code, and no internals leaked. */
export function expectProblem(response: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, type: expect.stringMatching(/^https:\/\/errors\.crm\.local\//), title: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/);
}
