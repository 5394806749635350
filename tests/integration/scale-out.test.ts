import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openServices } from '../../src/app/wiring.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { SqliteEventStore } from '../../src/infra/eventstore/sqlite.ts';
import { silentLogger } from '../../src/infra/logger.ts';
import { EmbeddedReadStore } from '../../src/infra/readstore/embedded.ts';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { allProjections } from '../../src/projections/all.ts';
import { readModelDigest } from '../../src/projections/digest.ts';
import { type ChildServer, startChildServer, stopChild } from '../support/child.ts';
import { readTopics, skipToEnds, testKafka } from '../support/kafka.ts';
import { MARKETING_GROUP } from '../../src/integrations/marketing/automation.ts';
import { ERP_OUTBOUND_GROUP } from '../../src/integrations/erp/outbound.ts';
import { ERP_INBOUND_GROUP } from '../../src/integrations/erp/kafka-inbound.ts';
import { inboundTopics } from '../../src/integrations/erp/contract.ts';
import { PUBLISHED_CATEGORIES, topicFor } from '../../src/integrations/kafka/messages.ts';
import { serverUrl, testDatabaseUrl } from '../support/servers.ts';
import { logEntries } from '../support/logs.ts';

const mongo = serverUrl('MONGO_URL');
const kafka = serverUrl('KAFKA_BROKERS');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMIN_PASSWORD = 'scale-out-admin-1';
/** This process's variables without the servers': a CLI run on them uses the embedded stores. */
const embeddedEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !['MONGO_URL', 'KAFKA_BROKERS', 'EVENTSTORE_URL', 'CRM_ROLE'].includes(name)));

/** The JSON log lines a child wrote with this message. */
const logLines = (child: ChildServer, msg: string): Record<string, unknown>[] => logEntries(child.output.join('')).filter((entry) => entry.msg === msg);

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const exited = (child: ChildServer) => child.process.exitCode !== null || child.process.signalCode !== null;

/**
 * The scaled deployment as CI runs it: one SQLite log shared by four processes on this machine, FerretDB as the
 * read store, the real Kafka. Two API processes take a steady stream of writes (below FerretDB's live projection
 * rate); two workers campaign for the lease.
 */
describe.skipIf(!mongo || !kafka)('scale-out: two API processes and two leader-elected workers over one log', () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    // Their logs, for a failure's post-mortem (CI keeps the directory's listing in its output).
    children.forEach((child, i) => writeFileSync(join(tmpdir(), `crm-scale-out-${i}.log`), child.output.join('')));
    for (const child of children) {
      if (child.process.signalCode === 'SIGSTOP' || !exited(child)) child.process.kill('SIGCONT');
      await stopChild(child, 'SIGKILL').catch(() => {});
    }
  });

  it('takes over after SIGKILL, fences a paused leader, reads its writes across instances, backs up under load and stops gracefully', { timeout: 420_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-scale-'));
    const url = testDatabaseUrl();
    const env = {
      CRM_DATA_DIR: dir,
      MONGO_URL: url,
      KAFKA_BROKERS: kafka!,
      JWT_SECRET: 'scale-out-secret-of-at-least-forty-eight-characters-0123',
      CRM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      CRM_SHUTDOWN_GRACE_MS: '5000',
      // The ERP bridge's consumers too: they move with the lease like the others.
      CRM_ERP_BRIDGE: 'on',
    };
    const start = async (role: 'api' | 'worker') => {
      const child = await startChildServer({ ...env, CRM_ROLE: role });
      children.push(child);
      return child;
    };
    // The workers' groups take this run's messages only (the broker keeps earlier tests' messages: thousands of
    // customers from the ERP sync, which a group would otherwise work through first).
    await skipToEnds(testKafka(kafka!), [MARKETING_GROUP, ERP_OUTBOUND_GROUP], PUBLISHED_CATEGORIES.map(topicFor));
    await skipToEnds(testKafka(kafka!), [ERP_INBOUND_GROUP], inboundTopics);
    const first = await start('worker');
    await until('the first worker to lead', () => logLines(first, 'elected leader').length > 0, 30_000);
    const second = await start('worker');
    const apis = [await start('api'), await start('api')];
    const [api1, api2] = apis as [ChildServer, ChildServer];

    const call = async (base: string, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    // The admin is made by the leading worker and projected before anyone can log in (through either API).
    const token = await until(
      'the admin to log in through an API instance',
      async () => {
        const login = await call(api2.baseUrl, 'POST', '/api/v1/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
        if (login.status !== 200) return undefined;
        const changed = await call(api2.baseUrl, 'POST', '/api/v1/auth/change-password', String(login.body.token), { currentPassword: ADMIN_PASSWORD, newPassword: `${ADMIN_PASSWORD}-changed` });
        expect(changed.status).toBeLessThan(300);
        const again = await call(api1.baseUrl, 'POST', '/api/v1/auth/login', undefined, { username: 'admin', password: `${ADMIN_PASSWORD}-changed` }, {});
        return again.status === 200 ? String(again.body.token) : undefined;
      },
      30_000,
      250,
    );

    // Reminders due across the takeovers: each must fire exactly once.
    const now = Date.now();
    const tasks: string[] = [];
    for (let i = 0; i < 12; i++) {
      const remindAt = new Date(now + 8_000 + i * 5_000).toISOString();
      const made = await call(api1.baseUrl, 'POST', '/api/v1/tasks', token, { subject: `扩容提醒 ${i}`, remindAt, dueAt: new Date(now + 3_600_000).toISOString() });
      expect(made.status).toBe(201);
      tasks.push(String(made.body.id));
    }

    // The steady stream of writes, through both APIs (about 25 a second), each tenth read back through the other
    // instance with X-Min-Position.
    const acknowledged = new Set<string>();
    const staleReads: string[] = [];
    let refused = 0;
    let waitedForLeader = 0;
    let writing = true;
    const live = [api1, api2];
    const load = (async () => {
      for (let i = 0; writing; i++) {
        const via = live[i % live.length]!;
        try {
          const made = await call(via.baseUrl, 'POST', '/api/v1/customers', token, { name: `扩容客户 ${i}` });
          if (made.status === 201) acknowledged.add(String(made.body.id));
          else refused++;
          if (made.status === 201 && i % 10 === 0 && live.length > 1) {
            const other = live[(i + 1) % live.length]!;
            // While no worker leads (a takeover), the read models stand still: the read answers 503 with
            // Retry-After, never an older version; retried, it sees the write.
            const readBack = () => call(other.baseUrl, 'GET', `/api/v1/customers/${String(made.body.id)}`, token, undefined, { 'X-Min-Position': made.headers.get('x-position') ?? '0' });
            let read = await readBack();
            for (let retries = 0; read.status === 503 && read.headers.get('retry-after') && retries < 10; retries++) {
              waitedForLeader++;
              read = await readBack();
            }
            if (read.status !== 200 || read.body.name !== `扩容客户 ${i}`) staleReads.push(`${i}: ${read.status}`);
          }
        } catch {
          // A connection refused by an instance that stopped: not acknowledged, so nothing is owed.
          refused++;
        }
        await sleep(40);
      }
    })();
    await sleep(4_000);

    // 1. The leader is killed outright: the standby takes over within the documented 15 s.
    const leaderOf = (a: ChildServer, b: ChildServer) => (logLines(a, 'elected leader').length > logLines(b, 'elected leader').length ? [a, b] : [b, a]);
    const [killed, standby] = leaderOf(first, second) as [ChildServer, ChildServer];
    const killedAt = Date.now();
    await stopChild(killed, 'SIGKILL');
    const takeover = await until('the standby to take over', () => logLines(standby, 'elected leader')[0], 20_000, 50);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000);
    const standbyToken = Number(takeover.fencingToken);
    expect(standbyToken).toBeGreaterThan(1);

    // 2. A third worker joins as the standby; the leader is paused (SIGSTOP) until the newcomer has taken over,
    // then resumed: it must write nothing, and exit.
    const third = await start('worker');
    await sleep(2_000);
    standby.process.kill('SIGSTOP');
    const paused = { at: Date.now() };
    const newLeader = await until('the newcomer to take over from the paused leader', () => logLines(third, 'elected leader')[0], 30_000, 50);
    const electedAt = Date.parse(String(newLeader.time));
    expect(electedAt - paused.at).toBeLessThan(15_000);
    standby.process.kill('SIGCONT');
    const exitCode = await new Promise<number | null>((resolve) => (exited(standby) ? resolve(standby.process.exitCode) : standby.process.once('exit', (code) => resolve(code))));
    expect(exitCode).toBe(3);

    // Operators see who leads in each process's metrics.
    await until('the new leader\'s metrics to say it leads', async () => /crm_background_leader\{role="worker"\} 1/.test(await (await fetch(`${third.baseUrl}/metrics`)).text()) || undefined, 15_000, 250);
    expect((await (await fetch(`${api1.baseUrl}/metrics`)).text())).toMatch(/crm_background_leader\{role="api"\} 0/);

    // 3. A backup while the APIs write.
    const backup = join(mkdtempSync(join(tmpdir(), 'crm-scale-backup-')), 'crm.backup');
    const backedUp = JSON.parse((await run(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', backup], { env: { ...process.env, ...env, CRM_ROLE: 'all', LOG_LEVEL: 'warn' } })).stdout) as { head: number; integrity: string; chain: { ok: boolean } };
    expect(backedUp).toMatchObject({ integrity: 'ok', chain: { ok: true } });

    // 4. One API instance stops gracefully under load: what it acknowledged is kept.
    await sleep(1_000);
    live.splice(live.indexOf(api2), 1);
    await stopChild(api2, 'SIGTERM');
    expect(api2.process.exitCode).toBe(0);
    // 5. The leading worker stops gracefully: it flushes, releases its lease, and a standby takes over at its
    // next try, well before the lease would have expired.
    const fourth = await start('worker');
    await sleep(1_500);
    const stoppingAt = Date.now();
    await stopChild(third, 'SIGTERM');
    expect(third.process.exitCode).toBe(0);
    const handedOver = await until('the standby to take the released lease', () => logLines(fourth, 'elected leader')[0], 15_000, 50);
    const handoverMs = Date.now() - stoppingAt;
    // Taken at the standby's next try after the release (one renewal interval), not when the lease would expire.
    const releasedAt = Date.parse(String(logLines(third, 'stopped')[0]!.time));
    expect(Date.parse(String(handedOver.time)) - releasedAt).toBeLessThan(2_000 + 1_000);
    await sleep(2_000);
    writing = false;
    await load;
    // The consumers' lag is in the leader's metrics (the marketing automation's Kafka group).
    await until('the leader to report its consumers', async () => /crm_consumer_lag_events\{group="crm-marketing-automation"\} \d+/.test(await (await fetch(`${fourth.baseUrl}/metrics`)).text()) || undefined, 20_000, 500);

    // Every reminder due by now has fired, once; the leader has caught up.
    await until('the last reminder to be due', () => Date.now() > now + 8_000 + 11 * 5_000 + 3_000 || undefined, 120_000, 500);
    const log = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
    const head = await log.headPosition();
    await until('the leader to apply the whole log', async () => (await call(api1.baseUrl, 'GET', '/api/v1/customers?limit=1', token, undefined, { 'X-Min-Position': String(head) })).status === 200 || undefined, 60_000, 500);
    const reminded = await log.readAll({ filter: { eventTypes: ['ReminderDue'] } });
    expect(tasks.map((id) => reminded.filter((event) => event.streamId.endsWith(id)).length)).toEqual(tasks.map(() => 1));
    // Each fired by a leader, under its fencing token.
    expect(reminded.filter((event) => tasks.some((id) => event.streamId.endsWith(id))).every((event) => typeof event.metadata.fence === 'number')).toBe(true);

    // The paused leader wrote nothing after it was replaced: no event under its token after the takeover, and
    // every checkpoint carries the new leader's token.
    const afterTakeover = (await log.readAll({})).filter((event) => event.metadata.fence === standbyToken && Date.parse(event.metadata.at) >= electedAt);
    expect(afterTakeover).toEqual([]);
    const reads = await MongoReadStore.connect(url);
    try {
      const newToken = Number(newLeader.fencingToken);
      const fences = [...(await reads.collection<{ _id: string; fence?: number }>('_projections').find({})), ...(await reads.collection<{ _id: string; fence?: number }>('_relay').find({}))].map((doc) => doc.fence);
      expect(fences.every((fence) => fence !== undefined && fence >= newToken)).toBe(true);

      // Nothing acknowledged was lost; every write was read back through the other instance.
      expect(acknowledged.size).toBeGreaterThan(100);
      const stored = new Set((await reads.collection<{ _id: string }>('customers').find({ _id: { $in: [...acknowledged] } }, { projection: { _id: 1 } })).map((doc) => doc._id));
      expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([]);
      expect(staleReads).toEqual([]);

      // Each customer event reached Kafka (at least once) across the takeovers.
      const customerEvents = new Set((await log.readAll({ filter: { categories: ['customer'] } })).map((event) => event.id));
      const seen = new Set<string>();
      await readTopics(testKafka(kafka!), ['crm.customer'], () => true, (messages) => {
        for (const { message } of messages.slice(seen.size ? -1 : 0)) seen.add(message.headers?.['event-id']?.toString() ?? '');
        return [...customerEvents].every((id) => seen.has(id));
      }, 90_000);

      // ...and a consumer (the marketing automation's group, on the leading worker) applied each of them once:
      // its inbox holds one entry per event id it acted on, however often Kafka delivered it.
      let missing = customerEvents.size;
      const consumedFrom = Date.now();
      await until(
        `the marketing consumer to apply every customer event (${missing} to go)`,
        async () => {
          const applied = new Set((await reads.collection<{ _id: string; eventId: string }>('_inbox').find({ consumer: 'crm-marketing-automation' })).map((doc) => doc.eventId));
          missing = [...customerEvents].filter((id) => !applied.has(id)).length;
          if (missing > 0) process.stderr.write(`marketing consumer: ${missing} customer events to go after ${Date.now() - consumedFrom} ms\n`);
          return missing === 0 || undefined;
        },
        150_000,
        5_000,
      );

      // Every event projected once: the live read models equal a rebuild from the log.
      await log.close();
      const rebuilt = await openServices(loadConfig({ CRM_DATA_DIR: dir, JWT_SECRET: env.JWT_SECRET, LOG_LEVEL: 'error' }), { logger: silentLogger, startTimers: false, purpose: 'scale-out check' });
      try {
        await rebuilt.runner.waitFor(head, 60_000);
        expect(await readModelDigest(reads, allProjections)).toBe(await readModelDigest(rebuilt.readStore, allProjections));
        // The backup restores to the read models of the log up to its head.
        const restoredDir = join(mkdtempSync(join(tmpdir(), 'crm-scale-restore-')), 'data');
        const restored = JSON.parse((await run(process.execPath, ['--import', 'tsx', 'src/cli/restore.ts', backup], { env: { ...embeddedEnv(), CRM_DATA_DIR: restoredDir, LOG_LEVEL: 'warn' } })).stdout) as { head: number; chain: { ok: boolean } };
        expect(restored).toMatchObject({ head: backedUp.head, chain: { ok: true } });
        const cut = new EmbeddedReadStore();
        await rebuilt.runner.replayCut(allProjections, cut, (event) => event.position <= BigInt(backedUp.head));
        const restoredReads = new EmbeddedReadStore({ snapshotPath: join(restoredDir, 'read-models.snapshot') });
        expect(await readModelDigest(restoredReads, allProjections)).toBe(await readModelDigest(cut, allProjections));
      } finally {
        await rebuilt.close();
      }
    } finally {
      await reads.close();
    }
    console.info(JSON.stringify({ waitedForLeader, handoverMs, takeoverMs, pausedTakeoverMs: electedAt - paused.at, acknowledged: acknowledged.size, refused, head: Number(head) }));
  });
});
