import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard page (经营看板) at `/app`, served by the service itself with no CDN: its HTML, script and style from
 * src/api/app-page, ECharts from node_modules. The page holds no data; it logs in and calls the API like any client.
 */
const here = join(dirname(fileURLToPath(import.meta.url)), 'app-page');
const echarts = join(dirname(createRequire(import.meta.url).resolve('echarts/package.json')), 'dist', 'echarts.min.js');

const ASSETS: Record<string, { file: string; type: string }> = {
  'app.js': { file: join(here, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { file: join(here, 'app.css'), type: 'text/css; charset=utf-8' },
  'echarts.min.js': { file: echarts, type: 'text/javascript; charset=utf-8' },
};

/** The page and its assets, read once and kept. */
export function appPage(): { html: Buffer; asset(name: string): { body: Buffer; type: string } | undefined } {
  const html = readFileSync(join(here, 'index.html'));
  const cache = new Map<string, Buffer>();
  return {
    html,
    asset(name) {
      const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!asset) return undefined;
      let body = cache.get(name);
      if (!body) cache.set(name, (body = readFileSync(asset.file)));
      return { body, type: asset.type };
    },
  };
}
