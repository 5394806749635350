import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The modules a module loads when it starts (its static imports but `import type`, followed), relative to the repository. */
function loadedAtStart(entry: string): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    const name = relative(process.cwd(), file);
    if (modules.has(name)) return;
    modules.add(name);
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)) {
      if (specifier!.startsWith('.')) visit(resolve(dirname(file), specifier!));
      else packages.add(specifier!);
    }
  };
  visit(join(process.cwd(), entry));
  return { modules, packages };
}

describe("a replay's reading thread starts light", () => {
  it('loads no schemas, commands or projections when it starts (they cost it 0.3 s): only the store, the personal data layer and the upcasters', () => {
    const { modules, packages } = loadedAtStart('src/app/log-reader-worker.ts');
    expect(modules).toContain('src/app/reading-log.ts');
    expect(modules).toContain('src/domain/upcasters.ts');
    expect(packages).not.toContain('zod');
    expect([...modules].filter((name) => /^src\/(commands|projections|api)\//.test(name) || name === 'src/domain/event-schemas.ts' || name === 'src/app/event-log.ts')).toEqual([]);
  });
});
