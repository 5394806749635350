import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/** Starts a node script as a child and waits for it to print `listening <url>` (or our JSON log line). */
export async function child(args: string[], env: Record<string, string>): Promise<{ url: string; process: ChildProcess }> {
  const process_ = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), 30_000);
    process_.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /(http:\/\/(?:localhost|127\.0\.0\.1):\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace('localhost', '127.0.0.1'));
      }
    });
    process_.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  });
  return { url, process: process_ };
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

export const stop = (p: ChildProcess) => new Promise((resolve) => (p.once('exit', resolve), p.kill('SIGTERM')));

export function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));
}

export const BARE_KOA = `
import Koa from 'koa';
const app = new Koa();
app.use(async (ctx) => { ctx.status = 201; ctx.body = { id: 'x', revision: 0 }; });
const server = app.listen(0, '127.0.0.1', () => console.log('listening http://127.0.0.1:' + server.address().port));
`;

/** The admin's token: the first login must replace the password CRM_ADMIN_PASSWORD set (`<initial>-changed`). */
export async function adminToken(url: string, initial: string): Promise<string> {
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const again = await post('/api/v1/auth/login', { username: 'admin', password: `${initial}-changed` });
  if (again.status === 200) return ((await again.json()) as { token: string }).token;
  const { token } = (await (await post('/api/v1/auth/login', { username: 'admin', password: initial })).json()) as { token: string };
  return ((await (await post('/api/v1/auth/change-password', { currentPassword: initial, newPassword: `${initial}-changed` }, token)).json()) as { token: string }).token;
}

/**
 * How long GET /healthz takes while a client exports every customer as CSV (the server in its own process, on
 * the data directory `dataDir`, just started on its read-model snapshot): p99 of probes sent every 10 ms for as
 * long as the export runs; then the memory that restarted server settles at.
 */
export async function exportBench(dataDir: string): Promise<{ p99Ms: number; p50Ms: number; rows: number; exportMs: number; probes: number; restarted: RestartedMemory }> {
  const startedAt = performance.now();
  const server = await startServer(dataDir);
  const { url, token } = server;
  const readyMs = performance.now() - startedAt;
  try {
    const prober = await probeFromAnotherProcess(`${url}/healthz`, 10);
    const started = performance.now();
    const response = await fetch(`${url}/api/v1/customers`, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } });
    if (response.status !== 200) throw new Error(`export answered ${response.status}: ${await response.text()}`);
    const text = await response.text();
    const exportMs = performance.now() - started;
    const timings = await prober.stop();
    // Then the memory the restarted server settles at (the export's garbage is part of a day's work).
    const restarted = await restartedMemory(server, readyMs);
    const sorted = [...timings].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    return { p99Ms: Math.round(at(99) * 10) / 10, p50Ms: Math.round(at(50) * 10) / 10, rows: text.trim().split('\r\n').length - 1, exportMs: Math.round(exportMs), probes: timings.length, restarted };
  } finally {
    await server.stop();
  }
}

/**
 * Probes a URL every `everyMs` from a process of its own until stopped, and gives the response times. From this
 * process, the probes also timed its own pauses: it holds the benchmark's data (gigabytes) and reads the whole
 * export meanwhile, and its collector added 100–160 ms to probes the server answered in 15.
 */
async function probeFromAnotherProcess(url: string, everyMs: number): Promise<{ stop(): Promise<number[]> }> {
  const script = `
    let probing = true;
    process.on('message', () => (probing = false));
    (async () => {
      const timings = [];
      // (The first fetch of a process sets up its client: not timed.)
      await (await fetch(process.argv[1])).arrayBuffer();
      process.send('started');
      while (probing) {
        const started = performance.now();
        await (await fetch(process.argv[1])).arrayBuffer();
        timings.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2])));
      }
      process.send(timings, () => process.exit(0));
    })();`;
  const child = spawn(process.execPath, ['-e', script, url, String(everyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: unknown[] = [];
  let exited: number | null | undefined;
  let delivered: (() => void) | undefined;
  child.on('message', (message) => {
    messages.push(message);
    delivered?.();
  });
  child.on('exit', (code) => {
    exited = code;
    delivered?.();
  });
  const next = async () => {
    while (messages.length === 0) {
      if (exited !== undefined) throw new Error(`the prober exited (code ${exited})`);
      await new Promise<void>((resolve) => (delivered = resolve));
    }
    return messages.shift();
  };
  await next();
  return {
    async stop() {
      child.send('stop');
      return (await next()) as number[];
    },
  };
}

export interface RestartedMemory {
  /** From the process's start until /readyz answered 200 (the snapshot read, the log's tail applied). */
  readyMs: number;
  /** Until its integration consumers had caught up with the log too (the bench's log was written without them). */
  caughtUpMs: number;
  /** The highest RSS seen meanwhile, and the RSS after a minute with nothing to do. */
  peakMb: number;
  atRestMb: number;
}

/**
 * The memory of the server restarted on its read-model snapshot, as an installation runs most of the time: once
 * its consumers have caught up with the log (no consumer lags by more than a few events that are not theirs),
 * after a minute with nothing to do, so V8's memory reducer has had its turn; and the highest seen on the way.
 */
async function restartedMemory(server: BenchServer, readyMs: number): Promise<RestartedMemory> {
  const started = performance.now();
  let peakMb = server.rssMb();
  const lags = async () => [...(await (await fetch(`${server.url}/metrics`)).text()).matchAll(/^crm_consumer_lag_events\{[^}]*\} (\d+)$/gm)].map((match) => Number(match[1]));
  for (;;) {
    peakMb = Math.max(peakMb, server.rssMb());
    if ((await lags()).every((lag) => lag <= 10)) break;
    if (performance.now() - started > 30 * 60_000) throw new Error('the consumers did not catch up within 30 minutes');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const caughtUpMs = readyMs + performance.now() - started;
  for (let second = 0; second < 60; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    peakMb = Math.max(peakMb, server.rssMb());
  }
  return { readyMs: Math.round(readyMs), caughtUpMs: Math.round(caughtUpMs), peakMb, atRestMb: server.rssMb() };
}

export interface HttpResults {
  createsPerSecond: number;
  p99Ms: number;
  baselinePerSecond: number;
  lagP99Ms: number;
  lagP50Ms: number;
}

/**
 * POST /api/v1/customers at 32 connections for `seconds` against the real server (its own process, embedded
 * default), against a bare Koa route as the same-run baseline; and, during the load, how long a client waits
 * from a command's acknowledgement until it can read it through X-Min-Position.
 */
export async function httpBench(seconds: number, lagSamples: number): Promise<HttpResults> {
  const baseline = await child(['--input-type=module', '-e', BARE_KOA], {});
  const bare = await afterWarmUp((duration) => cannon({ url: `${baseline.url}/`, method: 'POST', connections: 32, duration, body: '{}', headers: { 'content-type': 'application/json' } }), Math.max(3, Math.round(seconds / 2)));
  await stop(baseline.process);

  const server = await startServer(mkdtempSync(join(tmpdir(), 'crm-bench-http-')));
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.token}` };
    const lag: number[] = [];
    let loading = true;
    const sampler = (async () => {
      await new Promise((r) => setTimeout(r, WARM_UP_SECONDS * 1000 + 500)); // under the measured load
      while (loading && lag.length < lagSamples) {
        const created = await fetch(`${server.url}/api/v1/customers`, { method: 'POST', headers, body: JSON.stringify({ name: `lag probe ${lag.length} ${Math.random()}` }) });
        const position = created.headers.get('x-position')!;
        const id = ((await created.json()) as { id: string }).id;
        const started = performance.now();
        const read = await fetch(`${server.url}/api/v1/customers/${id}`, { headers: { ...headers, 'x-min-position': position } });
        await read.arrayBuffer();
        if (read.status === 200) lag.push(performance.now() - started);
      }
    })();
    const result = await createLoad(server, seconds);
    loading = false;
    await sampler;
    lag.sort((a, b) => a - b);
    const at = (p: number) => lag[Math.min(lag.length - 1, Math.floor((p / 100) * lag.length))] ?? NaN;
    return {
      createsPerSecond: result.perSecond,
      p99Ms: result.p99Ms,
      baselinePerSecond: Math.round(bare.requests.average),
      lagP99Ms: Math.round(at(99) * 10) / 10,
      lagP50Ms: Math.round(at(50) * 10) / 10,
    };
  } finally {
    await server.stop();
  }
}

export interface BenchServer {
  url: string;
  token: string;
  /** The server process's resident set size now, in MB. */
  rssMb(): number;
  stop(): Promise<unknown>;
}

/**
 * The real server in its own process on `dataDir` (embedded default; request logs off, LOG_LEVEL=warn, as a busy
 * installation would run), once /readyz says its read models have caught up with the log; and the admin's token.
 */
export async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const serverProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CRM_DATA_DIR: dataDir, CRM_ADMIN_PASSWORD: 'bench-password-1', LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/readyz`).then((r) => r.status).catch(() => 0)) === 200) break;
    if (i > 36_000) throw new Error('the server did not get ready within an hour');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    token: await adminToken(url, 'bench-password-1'),
    rssMb: () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${serverProcess.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024),
    stop: () => stop(serverProcess),
  };
}

let created = 0;
/**
 * Seconds of load before a measured one, not counted: a server's first seconds under load compile its code (the
 * JIT's optimising tiers), which a server that has run for a while has done. The bare Koa baseline gets the same.
 */
export const WARM_UP_SECONDS = 3;

/** The load of `seconds` measured after WARM_UP_SECONDS of the same load not counted. */
async function afterWarmUp<T>(load: (seconds: number) => Promise<T>, seconds: number): Promise<T> {
  await load(WARM_UP_SECONDS);
  return load(seconds);
}

/**
 * POST /api/v1/customers at 32 connections for `seconds`, after WARM_UP_SECONDS of the same load not counted:
 * creates per second and the p99 latency.
 */
export async function createLoad(server: BenchServer, seconds: number): Promise<{ perSecond: number; p99Ms: number }> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.token}` };
  const result = await afterWarmUp(
    (duration) =>
      cannon({
        url: server.url,
        connections: 32,
        duration,
        requests: [{ method: 'POST', path: '/api/v1/customers', headers, setupRequest: (request) => ({ ...request, body: JSON.stringify({ name: `Bench customer ${created++} ${process.pid} ${Date.now()}`, industry: '机械制造' }) }) }],
      }),
    seconds,
  );
  return { perSecond: Math.round(result.requests.average), p99Ms: result.latency.p99 };
}
