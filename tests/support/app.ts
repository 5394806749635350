import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientErrors, createApp } from '../../src/api/app.ts';
import type { Actor } from '../../src/commands/context.ts';
import { actorOf } from '../../src/commands/access.ts';
import { changeOwnPassword, findEmployeeByUsername, hireEmployee, systemActor } from '../../src/commands/employees.ts';
import { createDepartment, roleIdByKey } from '../../src/commands/org.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { type OpenOptions, openServices, type Services, SLOW_CLOSE_MS } from '../../src/app/wiring.ts';
import { testDatabaseUrl } from './servers.ts';

export const ADMIN_PASSWORD = 'admin-password-1';
/** What the test apps set CRM_ADMIN_PASSWORD to; the first start's admin changes it to ADMIN_PASSWORD at once. */
export const INITIAL_ADMIN_PASSWORD = 'admin-initial-password';

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface TestApp {
  services: Services;
  baseUrl: string;
  request(method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string | Uint8Array }): Promise<TestResponse>;
  login(username?: string, password?: string): Promise<string>;
  /**
   * The first login of an account someone else gave a password: logs in, changes the password to
   * `<password>-changed` as the service demands, and returns the token that works.
   */
  firstLogin(username: string, password: string): Promise<string>;
  /** An employee with a login, the roles with the given keys (admin, manager, salesperson) and a department. */
  userWithToken(username: string, roleKeys: string[], departmentId?: string | null): Promise<{ userId: string; token: string; actor: Actor }>;
  /** A department (under a parent) and its id. */
  department(name: string, parentId?: string | null): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real Koa app on an ephemeral port, over the embedded adapters (in memory unless a data dir is given).
 * With CRM_TEST_READSTORE=mongo (the integration run), its read models live in a database of their own on
 * the MongoDB-protocol server at MONGO_URL instead, dropped on close.
 */
export async function startTestApp(env: Record<string, string> = {}, options: OpenOptions = {}): Promise<TestApp> {
  // A restart (same data directory) must find the same database; only a throwaway app's database is dropped.
  const mongo = process.env.CRM_TEST_READSTORE === 'mongo' ? testDatabaseUrl(env.CRM_DATA_DIR) : undefined;
  // Tests log in many times from one address: no per-address login limit unless a test sets one.
  const config = loadConfig({ CRM_ADMIN_PASSWORD: INITIAL_ADMIN_PASSWORD, LOG_LEVEL: 'error', CRM_LOGIN_RATE_PER_MINUTE: '0', ...(mongo ? { MONGO_URL: mongo } : {}), ...env });
  const services = await openServices(config, { logger: silentLogger, inMemory: !env.CRM_DATA_DIR, startTimers: false, ...options });
  const server: Server = createApp(services).listen(0, '127.0.0.1');
  answerClientErrors(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let adminToken: { token: string; expiresAt: number } | undefined;
  /** The admin's token, renewed when a test moved the clock past its expiry. */
  const adminTokenNow = async () => {
    if (!adminToken || adminToken.expiresAt - 60_000 < services.clock.now().getTime()) {
      const token = await login();
      adminToken = { token, expiresAt: services.clock.now().getTime() + config.TOKEN_TTL_SECONDS * 1000 };
    }
    return adminToken.token;
  };

  const request: TestApp['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? await adminTokenNow() : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Uint8Array | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    // A live event stream never ends: answer its status and headers, and hang up.
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, headers: response.headers, body: '', text: '' };
    }
    const text = await response.text();
    let parsed: unknown = text;
    if (/json/.test(response.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  async function login(username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
    const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = (await response.json()) as { token: string };
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(body)}`);
    return body.token;
  }

  async function firstLogin(username: string, password: string): Promise<string> {
    const token = await login(username, password);
    const changed = await request('POST', '/api/v1/auth/change-password', { token, body: { currentPassword: password, newPassword: `${password}-changed` } });
    if (changed.status !== 200) throw new Error(`password change failed: ${changed.status} ${changed.text}`);
    return changed.body.token as string;
  }

  // The admin created from CRM_ADMIN_PASSWORD must choose a password of their own first (done through the
  // commands, so the HTTP rate limits a test sets are untouched; a restart on the same data directory finds it done).
  const admin = await findEmployeeByUsername(services.deps, 'admin');
  if (admin?.account?.mustChangePassword) {
    const actor = (await actorOf(services.deps, admin.employeeId))!;
    await changeOwnPassword(services.deps, actor, INITIAL_ADMIN_PASSWORD, ADMIN_PASSWORD, services.requestMeta('test'));
  }

  return {
    services,
    baseUrl,
    request,
    login,
    firstLogin,
    async userWithToken(username, roleKeys, departmentId = null) {
      const password = `${username}-password-1`;
      const roleIds = await Promise.all(roleKeys.map(async (key) => (await roleIdByKey(services.deps, key))!));
      const account = { username, password, mustChangePassword: false };
      const { employeeId } = await hireEmployee(services.deps, { fields: { name: username, departmentId }, roleIds, account }, systemActor, services.requestMeta('test'));
      return { userId: employeeId, token: await login(username, password), actor: (await actorOf(services.deps, employeeId))! };
    },
    async department(name, parentId = null) {
      return (await createDepartment(services.deps, { name, parentId }, systemActor, services.requestMeta('test'))).departmentId;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      // The database goes once the projections have stopped writing to it (dropped under them, a batch fails and
      // is applied again one event at a time against collections that are gone).
      const { readStore } = services;
      const drop = mongo && !env.CRM_DATA_DIR && readStore instanceof MongoReadStore ? { beforeStoresClose: () => readStore.dropDatabase() } : {};
      // The services log nothing here: a slow close says on the test's output what it waited for.
      await services.close({ ...drop, onClosed: ({ totalMs, tookMs }) => totalMs >= SLOW_CLOSE_MS && process.stderr.write(`test app: closing took ${totalMs} ms: ${JSON.stringify(tookMs)}\n`) });
    },
  };
}
