import { authorize } from '../../commands/authorization.ts';
import { companySettings, putCompanySettings } from '../../commands/company.ts';
import { CompanySettings } from '../../domain/company/index.ts';
import { COMPANY } from '../../projections/company.ts';
import { commonErrors, conflictError, staleError } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const tags = ['Settings 系统设置'];
/** The read models whose day and month counters follow the company's time zone. */
const BUCKETED_BY_DAY = ['opportunities', 'orders'];

export const companyRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/company',
    reads: [],
    summary: "The company's time zone and currency",
    tags,
    responses: { 200: { description: 'The settings (defaults: Asia/Shanghai, CNY)', schema: CompanySettings }, ...commonErrors },
    async handler({ actor, services }) {
      authorize(actor, 'settings', 'view');
      const { settings, revision } = await companySettings(services.deps);
      return { status: 200, body: settings, headers: { ETag: `"${revision}"` } };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/v1/settings/company',
    summary: "Set the company's time zone and currency; a new time zone re-buckets the day and month report counters",
    description: 'The report counters are rebuilt from the log in the background after a time zone change; reports read them as they catch up (X-Min-Position waits).',
    tags,
    body: CompanySettings,
    conditional: true,
    responses: { 200: { description: 'Saved', schema: CompanySettings }, ...commonErrors, ...conflictError, ...staleError },
    async handler({ body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      const before = (await companySettings(services.deps)).settings;
      const result = await putCompanySettings(services.deps, body, actor, meta);
      if (result.changed && before.timeZone !== body.timeZone) {
        // The counters are rebuilt once the read side knows the new zone.
        await services.runner.waitFor(result.position, 10_000, services.runner.projectionsReading([COMPANY]));
        for (const name of BUCKETED_BY_DAY) await services.runner.rebuildProjection(name);
      }
      return { status: 200, body, headers: { ETag: `"${result.revision}"`, ...(result.changed ? { 'X-Position': String(result.position) } : {}) } };
    },
  }),
];
