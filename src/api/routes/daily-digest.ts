import { changeDailyDigestSettings, DailyDigestSettings, dailyDigestSettings } from '../../commands/daily-digest.ts';
import { type AnyRoute } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';

/** The daily digest (团队日报) to managers: on or off, and when. */
export const dailyDigestRoutes: AnyRoute[] = settingRoutes({
  path: '/api/v1/settings/daily-digest',
  tags: ['Dashboard 工作台'],
  schema: DailyDigestSettings,
  read: { summary: "The daily digest: each morning, the previous day's team view mailed to every manager (default: on, 08:00)", done: 'The settings' },
  write: {
    summary: 'Turn the daily digest on or off, or change when it is sent',
    description:
      "Sent at `time` in the company time zone to each enabled employee with an e-mail address who may view reports over more people than themselves: the previous day's team view of their scope, through the mail port (SMTP, or the outbox directory embedded).",
    done: 'Saved',
  },
  load: dailyDigestSettings,
  save: ({ body, actor, services, meta }) => changeDailyDigestSettings(services.deps, body, actor, meta),
});
