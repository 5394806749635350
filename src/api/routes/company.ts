import { companySettings, putCompanySettings } from '../../commands/company.ts';
import { CompanySettings } from '../../domain/company/index.ts';
import { COMPANY } from '../../projections/company.ts';
import { type AnyRoute } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';

/** The read models whose day and month counters follow the company's time zone. */
const BUCKETED_BY_DAY = ['opportunities', 'orders'];

export const companyRoutes: AnyRoute[] = settingRoutes({
  path: '/api/v1/settings/company',
  tags: ['Settings 系统设置'],
  schema: CompanySettings,
  read: { summary: "The company's time zone and currency", done: 'The settings (defaults: Asia/Shanghai, CNY)' },
  write: {
    summary: "Set the company's time zone and currency; a new time zone re-buckets the day and month report counters",
    description: 'The report counters are rebuilt from the log in the background after a time zone change; reports read them as they catch up (X-Min-Position waits).',
    done: 'Saved',
    conditional: true,
  },
  load: async (deps) => {
    const { settings, revision } = await companySettings(deps);
    return { value: settings, revision };
  },
  async save({ body, actor, services, meta }) {
    const before = (await companySettings(services.deps)).settings;
    const result = await putCompanySettings(services.deps, body, actor, meta);
    if (result.changed && before.timeZone !== body.timeZone) {
      // The counters are rebuilt once the read side knows the new zone.
      await services.runner.waitFor(result.position, 10_000, services.runner.projectionsReading([COMPANY]));
      for (const name of BUCKETED_BY_DAY) await services.runner.rebuildProjection(name);
    }
    return result;
  },
});
