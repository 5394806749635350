import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** Request durations' buckets (seconds): from a cached read to a slow export. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The service's Prometheus metrics, through prom-client: its default process metrics (CPU, resident memory, heap,
 * garbage collection, event-loop lag), counters and histograms made on first use (their label names from the
 * first labels given), and gauges read on each scrape. One registry per app, so several apps in one process
 * (the tests) keep theirs apart.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  inc(name: string, help: string, labels: Labels, by = 1): void {
    let counter = this.counters.get(name);
    if (!counter) this.counters.set(name, (counter = new Counter({ name, help, labelNames: Object.keys(labels), registers: [this.registry] })));
    counter.inc(labels, by);
  }

  observe(name: string, help: string, labels: Labels, seconds: number): void {
    let histogram = this.histograms.get(name);
    if (!histogram) this.histograms.set(name, (histogram = new Histogram({ name, help, labelNames: Object.keys(labels), buckets: BUCKETS, registers: [this.registry] })));
    histogram.observe(labels, seconds);
  }

  /** A gauge whose values (one per label set) are read when Prometheus scrapes. */
  gauge(name: string, help: string, labelNames: readonly string[], read: () => Promise<{ labels: Labels; value: number }[]>): void {
    new Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { labels, value } of await read()) this.set(labels, value);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
