import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CURATED_VIEWS_SCRIPT, curatedViews, curatedViewsScript, hiddenByAnyRole } from '../../src/api/bi-views.ts';
import { queryableCollections } from '../../src/api/routes/analytics.ts';
import { specOf } from '../../src/domain/customization/resources.ts';

const file = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The curated views a BI tool reads from MongoDB directly, with a read-only user (issue 18: analysts' access). */
describe('BI views', () => {
  it('the committed script is the one the registry generates (npm run analytics-views)', () => {
    expect(file(CURATED_VIEWS_SCRIPT)).toBe(curatedViewsScript());
  });

  it('one view per queryable read model, without bookkeeping, custom fields or personal fields, embedded ones too', () => {
    const views = curatedViews();
    expect(views.map((view) => view.source)).toEqual(queryableCollections().map((spec) => spec.name));
    for (const view of views) {
      expect(view.name).toBe(`bi_${view.source}`);
      expect(view.leftOut).toEqual(expect.arrayContaining(['_search', '_state', '_position', 'custom', ...specOf(view.source as never).personalFields]));
    }
    const customers = views.find((view) => view.source === 'customers')!;
    expect(customers.leftOut).toEqual(expect.arrayContaining(['phone', 'contacts.mobile', 'contacts.email', 'contacts.name']));
  });

  it('with the roles read, what any role hides is left out as well (custom fields are out already)', () => {
    const hidden = hiddenByAnyRole([
      { fieldSecurity: { customers: { annualRevenue: 'hidden', industry: 'readonly', 'custom.creditScore': 'hidden' } } },
      { fieldSecurity: { contacts: { department: 'hidden' }, opportunities: { amount: 'hidden' } } },
      {},
    ]);
    expect(hidden).toEqual({ customers: ['annualRevenue', 'custom.creditScore'], contacts: ['department'], opportunities: ['amount'] });
    const views = curatedViews(hidden);
    const of = (source: string) => views.find((view) => view.source === source)!.leftOut;
    expect(of('customers')).toEqual(expect.arrayContaining(['annualRevenue', 'contacts.department']));
    expect(of('customers')).not.toContain('industry');
    expect(of('customers')).not.toContain('custom.creditScore');
    expect(of('opportunities')).toContain('amount');
    expect(curatedViewsScript(hidden)).toContain('"annualRevenue"');
  });

  it('the reader role lists collections and reads the views, nothing else; compose runs the script at MongoDB\'s first start', () => {
    const script = curatedViewsScript();
    // It parses as JavaScript (mongosh runs it; db and process are its globals).
    expect(() => new Function('db', 'process', script)).not.toThrow();
    expect(script).toMatch(/actions: \['listCollections'\]/);
    expect(script).toMatch(/collection: name \}, actions: \['find'\]/);
    expect(script).not.toMatch(/readWrite|dbOwner|'insert'|'update'|'remove'/);
    const compose = file('docker-compose.yml');
    expect(compose).toContain(`./${CURATED_VIEWS_SCRIPT}:/docker-entrypoint-initdb.d/`);
    expect(compose).toMatch(/MONGO_ANALYTICS_PASSWORD: \$\{MONGO_ANALYTICS_PASSWORD:-\}/);
  });
});
