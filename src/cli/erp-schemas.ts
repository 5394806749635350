import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT_DIR, type ContractVersions, erpContract, erpTopics, fingerprintOf, jsonSchemaOf, schemaFileOf } from '../integrations/erp/contract.ts';

/**
 * `npm run erp:schemas`: writes the ERP contract's JSON Schema files (docs/erp-contract) and records each topic's
 * fingerprint under its version in versions.json. It refuses to record a changed schema under a version already
 * published: bump the topic's version in src/integrations/erp/contract.ts first.
 */
function main(): void {
  mkdirSync(CONTRACT_DIR, { recursive: true });
  const versionsFile = join(CONTRACT_DIR, 'versions.json');
  const versions: ContractVersions = existsSync(versionsFile) ? (JSON.parse(readFileSync(versionsFile, 'utf8')) as ContractVersions) : {};
  const refused: string[] = [];
  for (const topic of erpTopics) {
    const version = String(erpContract[topic].version);
    const fingerprint = fingerprintOf(topic);
    const published = versions[topic]?.[version];
    if (published && published !== fingerprint) {
      refused.push(`${topic}: its schema changed but its version is still ${version}; bump the version`);
      continue;
    }
    versions[topic] = { ...versions[topic], [version]: fingerprint };
    writeFileSync(join(CONTRACT_DIR, schemaFileOf(topic)), `${JSON.stringify(jsonSchemaOf(topic), null, 2)}\n`);
  }
  writeFileSync(versionsFile, `${JSON.stringify(versions, null, 2)}\n`);
  if (refused.length) {
    console.error(refused.join('\n'));
    process.exitCode = 1;
  } else console.log(`wrote ${erpTopics.length} schemas and versions.json to ${CONTRACT_DIR}`);
}

main();
