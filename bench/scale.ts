import { benchDataDir } from './dataset.ts';
import { createLoad, startServer } from './http.ts';

/**
 * How cost grows with the amount of data (`npm run bench -- --full`): for each size a data directory is written,
 * then the real server is started on it (its read models rebuilt from the log at start) and measured from outside.
 */
export interface ScaleRow {
  size: string;
  events: number;
  /** From the server's start to /readyz, less the same for an empty log: the read models rebuilt from the whole log. */
  rebuildSeconds: number;
  rebuildEventsPerSecond: number;
  listP95Ms?: number;
  createsPerSecond?: number;
  createP99Ms?: number;
  rssMb: number;
}

const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The server on a data directory with `customers` (customers alone, or the mixed dataset), measured. */
async function measure(customers: number, customersOnly: boolean, size: string, createSeconds: number, listRuns: number, startupSeconds: number): Promise<ScaleRow> {
  log(`scale ${size}: writing ${customers} customers${customersOnly ? '' : ' with contacts and opportunities'}`);
  const { dir, services, dataset } = await benchDataDir(customers, customersOnly);
  const events = Number(await services.eventStore.headPosition());
  await services.close();
  log(`scale ${size}: ${events} events; starting the server (read models rebuilt from the log)`);
  const started = performance.now();
  const server = await startServer(dir);
  const rebuildSeconds = (performance.now() - started) / 1000 - startupSeconds;
  try {
    const row: ScaleRow = { size, events, rebuildSeconds: round(rebuildSeconds), rebuildEventsPerSecond: Math.round(events / rebuildSeconds), rssMb: server.rssMb() };
    if (!customersOnly) return row;
    // A salesperson's list pages, as a client asks for them: sorted, filtered, the first page of 50.
    const pages = ['sort=-updatedAt&limit=50', 'sort=name&limit=50&region=%E5%8D%8E%E4%B8%9C', 'sort=-updatedAt&limit=50&industry=%E6%9C%BA%E6%A2%B0%E5%88%B6%E9%80%A0&level=A'];
    const timings: number[] = [];
    for (let i = 0; i < listRuns; i++) {
      const t = performance.now();
      const response = await fetch(`${server.url}/api/v1/customers?${pages[i % pages.length]}`, { headers: { authorization: `Bearer ${server.token}` } });
      if (response.status !== 200) throw new Error(`list answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
      timings.push(performance.now() - t);
    }
    timings.sort((a, b) => a - b);
    const creates = await createLoad(server, createSeconds);
    return { ...row, listP95Ms: round(timings[Math.floor(0.95 * timings.length)]!, 2), createsPerSecond: creates.perSecond, createP99Ms: creates.p99Ms, rssMb: server.rssMb() };
  } finally {
    await server.stop();
    log(`scale ${size}: done (${dataset.customers} customers)`);
  }
}

/** Customers at 10k / 100k / 1M (about 3.5 events each); the mixed log at about 100k / 1M / 3M events. */
export async function scaleRuns(createSeconds = 10, listRuns = 200, customerSizes = [10_000, 100_000, 1_000_000], eventSizes = [100_000, 1_000_000, 3_000_000]): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const empty = await benchDataDir(0);
  await empty.services.close();
  // The second start (the first compiled the sources into the cache).
  await (await startServer(empty.dir)).stop();
  const started = performance.now();
  await (await startServer(empty.dir)).stop();
  const startupSeconds = (performance.now() - started) / 1000;
  log(`scale: the server starts on an empty log in ${startupSeconds.toFixed(2)} s`);
  for (const customers of customerSizes) rows.push(await measure(customers, true, `${customers / 1000}k customers`, createSeconds, listRuns, startupSeconds));
  // The mixed dataset has about 9.57 events a customer.
  for (const events of eventSizes) rows.push(await measure(Math.round(events / 9.57), false, `${events >= 1e6 ? `${events / 1e6}M` : `${events / 1e3}k`} events`, createSeconds, listRuns, startupSeconds));
  return rows;
}

/**
 * How a cost grows between the smallest and the largest size, as the exponent k of cost ∝ size^k: about 0 is
 * constant (a logarithm looks the same over two decades), 1 linear.
 */
export function slope(sizes: readonly number[], costs: readonly number[]): string {
  const k = Math.log(costs.at(-1)! / costs[0]!) / Math.log(sizes.at(-1)! / sizes[0]!);
  const kind = k < 0.15 ? 'about constant' : k < 0.85 ? 'sublinear' : k < 1.15 ? 'linear' : 'worse than linear';
  return `size^${k.toFixed(2)} (${kind})`;
}
