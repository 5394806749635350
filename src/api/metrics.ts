/** A small Prometheus text-format registry: counters and histograms with labels, plus gauges read on scrape. */
type Labels = Record<string, string>;

const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const render = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}` : '';
};

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  private readonly counters = new Map<string, { help: string; values: Map<string, { labels: Labels; value: number }> }>();
  private readonly histograms = new Map<string, { help: string; values: Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }> }>();
  private readonly gauges = new Map<string, { help: string; read: () => Promise<{ labels: Labels; value: number }[]> }>();

  inc(name: string, help: string, labels: Labels, by = 1): void {
    let counter = this.counters.get(name);
    if (!counter) this.counters.set(name, (counter = { help, values: new Map() }));
    const k = key(labels);
    const entry = counter.values.get(k) ?? { labels, value: 0 };
    entry.value += by;
    counter.values.set(k, entry);
  }

  observe(name: string, help: string, labels: Labels, seconds: number): void {
    let histogram = this.histograms.get(name);
    if (!histogram) this.histograms.set(name, (histogram = { help, values: new Map() }));
    const k = key(labels);
    const entry = histogram.values.get(k) ?? { labels, buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) entry.buckets[i]! += 1;
    });
    entry.sum += seconds;
    entry.count += 1;
    histogram.values.set(k, entry);
  }

  gauge(name: string, help: string, read: () => Promise<{ labels: Labels; value: number }[]>): void {
    this.gauges.set(name, { help, read });
  }

  async text(): Promise<string> {
    const lines: string[] = [];
    for (const [name, counter] of this.counters) {
      lines.push(`# HELP ${name} ${counter.help}`, `# TYPE ${name} counter`);
      for (const { labels, value } of counter.values.values()) lines.push(`${name}${render(labels)} ${value}`);
    }
    for (const [name, histogram] of this.histograms) {
      lines.push(`# HELP ${name} ${histogram.help}`, `# TYPE ${name} histogram`);
      for (const { labels, buckets, sum, count } of histogram.values.values()) {
        BUCKETS.forEach((bound, i) => lines.push(`${name}_bucket${render({ ...labels, le: String(bound) })} ${buckets[i]}`));
        lines.push(`${name}_bucket${render({ ...labels, le: '+Inf' })} ${count}`, `${name}_sum${render(labels)} ${sum}`, `${name}_count${render(labels)} ${count}`);
      }
    }
    for (const [name, gauge] of this.gauges) {
      lines.push(`# HELP ${name} ${gauge.help}`, `# TYPE ${name} gauge`);
      for (const { labels, value } of await gauge.read()) lines.push(`${name}${render(labels)} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
