import { z } from 'zod';
import { settingWithDefault } from './settings.ts';

/**
 * Whom the sales ranking shows a caller besides the people in their data scope (排行榜): nobody else (`none`, the
 * default: a salesperson sees themselves), the other members of their own department (`department`), or everyone
 * (`company`). Peers appear with their names and figures in the ranking only; their records stay out of scope.
 */
export const RankingSettings = z
  .object({ peers: z.enum(['none', 'department', 'company']).describe('Whom the ranking shows besides your data scope: nobody, your department\'s members, or everyone') })
  .strict()
  .meta({ id: 'RankingSettings', examples: [{ peers: 'department' }] });
export type RankingSettings = z.infer<typeof RankingSettings>;

export const rankingSettings = settingWithDefault<RankingSettings>('ranking', { peers: 'none' });
