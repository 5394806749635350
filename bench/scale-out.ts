import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BARE_KOA, type BenchServer, cannon, child, startServer, stop } from './http.ts';

let created = 0;

/** POST /api/v1/customers for `seconds` at 32 connections in all, split evenly over the servers: creates per second in all. */
async function createsAcross(servers: readonly Pick<BenchServer, 'url' | 'token'>[], seconds: number): Promise<number> {
  const results = await Promise.all(
    servers.map((server) =>
      cannon({
        url: server.url,
        connections: 32 / servers.length,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/customers',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
            setupRequest: (request) => ({ ...request, body: JSON.stringify({ name: `Scale-out customer ${created++} ${process.pid} ${Date.now()}`, industry: '机械制造' }) }),
          },
        ],
      }),
    ),
  );
  return Math.round(results.reduce((sum, result) => sum + result.requests.average, 0));
}

/** The same, against bare Koa processes answering 201: what the machine's HTTP stack gains from a second process. */
async function bareAcross(urls: readonly string[], seconds: number): Promise<number> {
  const results = await Promise.all(urls.map((url) => cannon({ url: `${url}/`, method: 'POST', connections: 32 / urls.length, duration: seconds, body: '{}', headers: { 'content-type': 'application/json' } })));
  return Math.round(results.reduce((sum, result) => sum + result.requests.average, 0));
}

export interface ScaleOutResults {
  /** Creates per second through one API process, then two (a worker leading beside them), and the factor. */
  crm: { oneApi: number; twoApis: number; factor: number };
  /** Bare Koa: one process, then two, and the factor: the same-run baseline. */
  bareKoa: { oneProcess: number; twoProcesses: number; factor: number };
  /** crm.factor / bareKoa.factor; the target is at least 0.8. */
  ofBaseline: number;
  met: boolean;
  seconds: number;
}

/**
 * `http_create_customer_per_s` with one and with two API processes (CRM_ROLE=api) on one SQLite log and the
 * MongoDB-speaking read store at `mongoUrl`, a worker (CRM_ROLE=worker) projecting beside them; against two bare
 * Koa processes doing the same in the same run.
 */
export async function scaleOutBench(mongoUrl: string, kafkaBrokers: string | undefined, seconds: number): Promise<ScaleOutResults> {
  const bare = [await child(['--input-type=module', '-e', BARE_KOA], {}), await child(['--input-type=module', '-e', BARE_KOA], {})];
  const oneProcess = await bareAcross([bare[0]!.url], seconds);
  const twoProcesses = await bareAcross(bare.map((b) => b.url), seconds);
  for (const b of bare) await stop(b.process);

  const dataDir = mkdtempSync(join(tmpdir(), 'crm-bench-scale-'));
  const env = {
    MONGO_URL: mongoUrl,
    ...(kafkaBrokers ? { KAFKA_BROKERS: kafkaBrokers } : {}),
    JWT_SECRET: 'bench-scale-out-secret-of-at-least-forty-eight-characters',
  };
  const worker = await startServer(dataDir, { ...env, CRM_ROLE: 'worker' });
  const apis = [await startServer(dataDir, { ...env, CRM_ROLE: 'api' }), await startServer(dataDir, { ...env, CRM_ROLE: 'api' })];
  try {
    const oneApi = await createsAcross([apis[0]!], seconds);
    const twoApis = await createsAcross(apis, seconds);
    const crmFactor = twoApis / oneApi;
    const bareFactor = twoProcesses / oneProcess;
    const ofBaseline = Math.round((crmFactor / bareFactor) * 100) / 100;
    return {
      crm: { oneApi, twoApis, factor: Math.round(crmFactor * 100) / 100 },
      bareKoa: { oneProcess, twoProcesses, factor: Math.round(bareFactor * 100) / 100 },
      ofBaseline,
      met: ofBaseline >= 0.8,
      seconds,
    };
  } finally {
    for (const api of apis) await api.stop();
    await worker.stop();
  }
}
