import type { Stage } from '../domain/opportunity/index.ts';
import { monthsTouched } from '../domain/shared/periods.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { sumCountersBy } from './counters.ts';
import { FORECAST } from './opportunities.ts';

type Money = { amount: number; currency: string };
interface Part {
  count: number;
  amount: Money;
  /** The amount weighted by the stage's probability, half-up to the minor unit. */
  weightedAmount: Money;
}
export interface ForecastMonth extends Part {
  month: string;
  byStage: ({ stage: string; name: string; probability: number } & Part)[];
  /** The order amount target of the month (null: none set), and the weighted amount's share of it. */
  target: Money | null;
  coverage: number | null;
}

/**
 * The sales forecast: open opportunities expected to close in [from, to), by month of their expected close date
 * and stage, their amounts weighted by the stage's probability, against each month's order amount target. From
 * the forecast counters (open opportunities as they are now), never a scan of the opportunities.
 */
export async function forecastReport(
  store: ReadStore,
  stages: readonly Stage[],
  owners: string[] | null,
  query: { from: string; to: string; currency: string },
  targetOf: (month: string) => Promise<number | null>,
) {
  const money = (amount: number): Money => ({ amount, currency: query.currency });
  const match = { currency: query.currency, ...(owners === null ? {} : { ownerId: { $in: owners } }) };
  const rows = await sumCountersBy(store, FORECAST, query, match, { period: 'month', keys: ['stage'] }, ['count', 'amount']);
  const ordered = [...stages].sort((a, b) => a.order - b.order);
  const stageOf = (key: string) => ordered.find((stage) => stage.key === key);
  const weigh = (amount: number, probability: number) => Math.round((amount * probability) / 100);
  const sum = (parts: readonly Part[]): Part => ({
    count: parts.reduce((n, part) => n + part.count, 0),
    amount: money(parts.reduce((n, part) => n + part.amount.amount, 0)),
    weightedAmount: money(parts.reduce((n, part) => n + part.weightedAmount.amount, 0)),
  });
  const months: ForecastMonth[] = [];
  for (const month of monthsTouched(query)) {
    const inMonth = rows.filter((row) => row.period === month && row.sums.count !== 0);
    // The stage list's order, then any stage since taken off the list (its probability unknown: 0).
    const keys = [...ordered.map((stage) => stage.key).filter((key) => inMonth.some((row) => row.key.stage === key)), ...inMonth.map((row) => row.key.stage!).filter((key) => !stageOf(key))];
    const byStage = keys.map((key) => {
      const row = inMonth.find((r) => r.key.stage === key)!;
      const stage = stageOf(key);
      const probability = stage?.probability ?? 0;
      return { stage: key, name: stage?.name ?? key, probability, count: row.sums.count!, amount: money(row.sums.amount!), weightedAmount: money(weigh(row.sums.amount!, probability)) };
    });
    const target = await targetOf(month);
    const part = sum(byStage);
    months.push({ month, ...part, byStage, target: target === null ? null : money(target), coverage: target ? Math.round((part.weightedAmount.amount / target) * 10_000) / 10_000 : null });
  }
  const totals = sum(months);
  const targets = months.filter((m) => m.target !== null);
  const target = targets.length ? targets.reduce((n, m) => n + m.target!.amount, 0) : null;
  return { from: query.from, to: query.to, currency: query.currency, months, totals: { ...totals, target: target === null ? null : money(target), coverage: target ? Math.round((totals.weightedAmount.amount / target) * 10_000) / 10_000 : null } };
}
