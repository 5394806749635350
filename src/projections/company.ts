import { COMPANY_SETTING_KEY, type CompanySettings, DEFAULT_COMPANY } from '../domain/company/index.ts';
import { settingsCategory } from '../domain/categories.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import type { Projection } from './projection.ts';

export const COMPANY = 'company_settings';
type CompanyDoc = CompanySettings & { _id: string; _position: number };

/** The company settings, for the projections that bucket by day or month in the company's time zone. */
export const companyProjection: Projection = {
  name: 'company',
  version: 1,
  categories: [settingsCategory],
  collections: [COMPANY],
  async setup() {},
  async apply(event, store) {
    const data = event.data as { key?: string; value?: CompanySettings };
    if (event.type !== 'SettingChanged' || data.key !== COMPANY_SETTING_KEY || !data.value) return;
    await store.collection<CompanyDoc>(COMPANY).replaceOne({ _id: 'company' }, { _id: 'company', ...DEFAULT_COMPANY, ...data.value, _position: Number(event.position) }, { upsert: true });
  },
};

/** The company's settings as the read side knows them (the defaults until they are set). */
export async function companyView(store: ReadStore): Promise<CompanySettings> {
  return { ...DEFAULT_COMPANY, ...(await store.collection<CompanyDoc>(COMPANY).findOne({ _id: 'company' })) };
}

/** The company's time zone as the read side knows it (the default until one is set). */
export async function companyZone(store: ReadStore): Promise<string> {
  return (await store.collection<CompanyDoc>(COMPANY).findOne({ _id: 'company' }))?.timeZone ?? DEFAULT_COMPANY.timeZone;
}
