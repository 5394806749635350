import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CURATED_VIEWS_SCRIPT, curatedViewsScript, hiddenByAnyRole } from '../api/bi-views.ts';
import { openServices } from '../app/wiring.ts';
import { loadConfig } from '../infra/config.ts';
import { jsonLogger } from '../infra/logger.ts';
import { ORG, type RoleDoc } from '../projections/org.ts';

/**
 * `npm run analytics-views`: writes the mongosh script of the BI tools' curated views (see src/api/bi-views.ts).
 * With `--roles`, the fields the company's roles hide (read from the configured stores) are left out as well.
 */
async function main(): Promise<void> {
  let hidden = {};
  if (process.argv.includes('--roles')) {
    const config = loadConfig();
    const services = await openServices(config, { logger: jsonLogger(config.LOG_LEVEL), startProjections: false, purpose: 'analytics-views' });
    try {
      hidden = hiddenByAnyRole(await services.readStore.collection<RoleDoc & { fieldSecurity?: Record<string, Record<string, string>> }>(ORG.roles).find({}));
    } finally {
      await services.close();
    }
  }
  mkdirSync(dirname(CURATED_VIEWS_SCRIPT), { recursive: true });
  writeFileSync(CURATED_VIEWS_SCRIPT, curatedViewsScript(hidden));
  console.log(`wrote ${CURATED_VIEWS_SCRIPT}${Object.keys(hidden).length ? `, leaving out what roles hide: ${JSON.stringify(hidden)}` : ''}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
