import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACT_DIR, type ContractVersions, ErpCustomer, erpContract, erpTopics, fingerprintOf, jsonSchemaOf, schemaFileOf } from '../../../src/integrations/erp/contract.ts';

const published = JSON.parse(readFileSync(join(CONTRACT_DIR, 'versions.json'), 'utf8')) as ContractVersions;

describe('the ERP contract', () => {
  it.each(erpTopics)('%s: a schema changed without a version bump fails here (npm run erp:schemas records a new version)', (topic) => {
    const version = String(erpContract[topic].version);
    const recorded = published[topic]?.[version];
    expect(recorded, `${topic} v${version} is not recorded in ${CONTRACT_DIR}/versions.json: run npm run erp:schemas`).toBeDefined();
    expect(fingerprintOf(topic), `${topic}'s schema changed but its version is still ${version}: bump its version, then run npm run erp:schemas`).toBe(recorded);
  });

  it.each(erpTopics)('%s: the published JSON Schema file is the one the code checks with', (topic) => {
    expect(JSON.parse(readFileSync(join(CONTRACT_DIR, schemaFileOf(topic)), 'utf8'))).toEqual(jsonSchemaOf(topic));
  });

  it('never takes a version back: every topic is at its highest recorded version', () => {
    for (const topic of erpTopics) expect(Math.max(...Object.keys(published[topic] ?? {}).map(Number))).toBe(erpContract[topic].version);
  });

  it('the fingerprint sees a change of a schema (so the checks above can fail)', () => {
    const before = fingerprintOf('erp.customer');
    const original = erpContract['erp.customer'].schema;
    const changed = ErpCustomer.extend({ fax: ErpCustomer.shape.phone });
    (erpContract['erp.customer'] as { schema: unknown }).schema = changed;
    try {
      expect(fingerprintOf('erp.customer')).not.toBe(before);
    } finally {
      (erpContract['erp.customer'] as { schema: unknown }).schema = original;
    }
    expect(fingerprintOf('erp.customer')).toBe(before);
  });

  it('takes the shapes the issue names: every inbound value has erpCode and erpVersion; products take Money and a tax rate', () => {
    const product = erpContract['erp.product'].schema.safeParse({ erpCode: 'P-001', erpVersion: 3, name: '数控车床', unit: '台', standardPrice: { amount: 12800000, currency: 'CNY' }, taxRate: 13 });
    expect(product.success).toBe(true);
    expect(erpContract['erp.product'].schema.safeParse({ erpCode: 'P-001', erpVersion: 3, name: '数控车床', unit: '台', standardPrice: { amount: 128000.5, currency: 'CNY' }, taxRate: 13 }).success).toBe(false);
    for (const topic of erpTopics.filter((t) => erpContract[t].direction === 'inbound')) {
      const required = (jsonSchemaOf(topic).required as string[]) ?? [];
      expect(required).toEqual(expect.arrayContaining(['erpCode', 'erpVersion']));
    }
  });
});
