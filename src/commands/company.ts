import { COMPANY_SETTING_KEY, type CompanySettings, DEFAULT_COMPANY, localDate } from '../domain/company/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { readSetting, writeSetting } from './settings.ts';

/** The company settings in force (defaults until an administrator sets them), with their revision. */
export async function companySettings(deps: CommandDeps): Promise<{ settings: CompanySettings; revision: bigint }> {
  const { value, revision } = await readSetting<CompanySettings>(deps, COMPANY_SETTING_KEY);
  return { settings: { ...DEFAULT_COMPANY, ...value }, revision };
}

export const putCompanySettings = (deps: CommandDeps, settings: CompanySettings, actor: Actor, meta: RequestMeta) => writeSetting(deps, COMPANY_SETTING_KEY, settings, actor, meta);

/** Today's date in the company's time zone (what a document's "confirmed on" or "sent on" date is). */
export async function companyToday(deps: CommandDeps): Promise<string> {
  return localDate(deps.clock.now(), (await companySettings(deps)).settings.timeZone);
}
