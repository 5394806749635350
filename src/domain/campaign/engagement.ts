import { z } from 'zod';

/**
 * Agents of mail security scanners and link checkers, which open pixels and follow links before (or instead of) a
 * person: an engagement from one of them is automated whatever its timing. Matched case-insensitively as
 * substrings. A change here changes the results projection's version, which replays the raw events.
 */
export const SCANNER_AGENTS = ['barracuda', 'mimecast', 'proofpoint', 'symantec', 'messagelabs', 'trend micro', 'trendmicro', 'fortinet', 'forcepoint', 'sophos', 'cisco', 'ironport', 'zscaler', 'safelinks', 'microsoft office protection', 'headlesschrome', 'python-requests', 'python-urllib', 'go-http-client', 'curl/', 'wget/', 'java/', 'okhttp', 'libwww', 'bot', 'spider', 'crawler', 'scanner'] as const;

export const isScannerAgent = (userAgent: string): boolean => {
  const agent = userAgent.toLowerCase();
  return agent.trim() === '' || SCANNER_AGENTS.some((scanner) => agent.includes(scanner));
};

/**
 * Seconds after delivery, in buckets: the results keep, per campaign, how many members' latest person-like open (or
 * click) came how long after delivery, so the threshold below which an engagement counts as a scanner's can be
 * changed and the rates recomputed without replaying anything.
 */
export const DELAY_BUCKETS = [0, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600, 1800, 3600] as const;
export const bucketOf = (seconds: number): number => [...DELAY_BUCKETS].reverse().find((bucket) => seconds >= bucket) ?? 0;

/** The rule that tells people from scanners (data: settings `campaign-engagement`). */
export const EngagementRule = z
  .object({
    minSecondsAfterDelivery: z
      .number()
      .int()
      .refine((value) => (DELAY_BUCKETS as readonly number[]).includes(value), `One of ${DELAY_BUCKETS.join(', ')}`)
      .describe('An open or click sooner than this after delivery looks automated (a scanner fetching the mail as it arrives)'),
  })
  .strict();
export type EngagementRule = z.infer<typeof EngagementRule>;
export const DEFAULT_ENGAGEMENT_RULE: EngagementRule = { minSecondsAfterDelivery: 10 };

/** Whether an engagement may be a person's, whatever its timing: a GET from an agent that is no known scanner. */
export const personLike = (engagement: { method: string; userAgent: string }): boolean => engagement.method === 'GET' && !isScannerAgent(engagement.userAgent);
