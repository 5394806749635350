import { z } from 'zod';
import { type EngagementRule, personLike } from './engagement.ts';
import { stableUuid } from '../shared/stable-id.ts';

/** What decides an A/B test: the share of each variant's delivered members who opened, clicked, or became a lead. */
export const AB_METRICS = ['opens', 'clicks', 'leads'] as const;
export type AbMetric = (typeof AB_METRICS)[number];

/**
 * An A/B test asked for with a send: `share` of the audience (0.2 = 20 %) gets the mail first, half the template
 * (A), half the variant (B); `decideAfterHours` later the variant with the better rate of `metric` wins and goes to
 * the rest. A tie keeps A.
 */
export const AbTestRequest = z
  .object({
    variantTemplateId: z.uuid(),
    share: z.number().gt(0).lt(1).describe('The part of the audience in the test, as a fraction (0.2 = 20 %), split evenly between the two templates'),
    metric: z.enum(AB_METRICS),
    decideAfterHours: z.number().positive().max(720),
  })
  .strict();
export type AbTestRequest = z.infer<typeof AbTestRequest>;

export type AbGroup = 'A' | 'B' | 'rest';

/**
 * The members' groups, deterministic for a send: members ordered by a hash of the send and member, the first
 * `round(share × members)` are the test, alternately A and B. The same send always draws the same groups, so a
 * resumed or audited send sees what the first run saw.
 */
export function abGroups(memberIds: readonly string[], sendId: string, share: number): Map<string, AbGroup> {
  const size = Math.min(memberIds.length, Math.round(share * memberIds.length));
  const ordered = memberIds.map((id) => ({ id, rank: stableUuid(`ab:${sendId}:${id}`) })).sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  return new Map(ordered.map(({ id }, i) => [id, i >= size ? 'rest' : i % 2 === 0 ? 'A' : 'B']));
}

/** How many members a test of `share` puts in each variant. */
export const abTestSize = (members: number, share: number): { A: number; B: number; rest: number } => {
  const size = Math.min(members, Math.round(share * members));
  return { A: Math.ceil(size / 2), B: Math.floor(size / 2), rest: members - size };
};

/** One test member's mail as the decision reads it: delivered when, opens and clicks raw, and whether a lead came for the address after delivery. */
export interface AbMemberOutcome {
  deliveredAt?: string;
  opens: { at: string; method: string; userAgent: string }[];
  clicks: { at: string; method: string; userAgent: string }[];
  lead: boolean;
}

export interface AbVariantResult {
  /** Members in the variant. */
  members: number;
  delivered: number;
  /** Delivered members who did what the metric counts (a person's open or click, or a lead). */
  converted: number;
  /** `converted / delivered` in parts per million (0 with nothing delivered). */
  ratePpm: number;
}

/** Whether an engagement counts as a person's: person-like, and not sooner after delivery than the rule allows. */
const byPerson = (engagement: { at: string; method: string; userAgent: string }, deliveredAt: string, rule: EngagementRule) =>
  personLike(engagement) && (Date.parse(engagement.at) - Date.parse(deliveredAt)) / 1000 >= rule.minSecondsAfterDelivery;

/** A variant's result by the metric, from its members' outcomes (the scanners' opens and clicks left out, as the rates do). */
export function abVariantResult(outcomes: readonly AbMemberOutcome[], metric: AbMetric, rule: EngagementRule): AbVariantResult {
  let delivered = 0;
  let converted = 0;
  for (const outcome of outcomes) {
    if (!outcome.deliveredAt) continue;
    delivered += 1;
    const deliveredAt = outcome.deliveredAt;
    const did = metric === 'leads' ? outcome.lead : (metric === 'opens' ? [...outcome.opens, ...outcome.clicks] : outcome.clicks).some((e) => byPerson(e, deliveredAt, rule));
    if (did) converted += 1;
  }
  return { members: outcomes.length, delivered, converted, ratePpm: delivered ? Math.round((converted * 1_000_000) / delivered) : 0 };
}

/** The winner: the better rate; a tie keeps the template (A). */
export const abWinner = (results: { A: AbVariantResult; B: AbVariantResult }): 'A' | 'B' => (results.B.ratePpm > results.A.ratePpm ? 'B' : 'A');
