import { z } from 'zod';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { invalidField } from './errors.ts';
import { readSetting, writeSetting } from './settings.ts';

export type Label = { 'zh-CN': string; en: string };
export const KindKey = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a key of lower-case letters, digits and _');

/** One kind an administrator added: a key, its labels, and whether it is still offered. */
const AddedKind = z
  .object({
    key: KindKey,
    label: z.object({ 'zh-CN': z.string().trim().min(1).max(40), en: z.string().trim().min(1).max(40) }).strict(),
    active: z.boolean().default(true).describe('false: no longer offered for new records'),
  })
  .strict();
export type AddedKind = z.infer<typeof AddedKind>;

/** The kinds offered for a new record: the built-in ones, then those an administrator added. */
export const OfferedKind = z.object({ key: z.string(), label: z.object({ 'zh-CN': z.string(), en: z.string() }), builtIn: z.boolean() });

/**
 * Kinds as data (activity kinds, ticket types, expense categories): built-in keys every company has, and keys an
 * administrator adds as a company setting (`{ <list>: [{ key, label, active }] }`); a retired key stays on the
 * records that have it. One way to declare, read, change and check them.
 */
export function kindsAsData<const L extends string>(declaration: { settingKey: string; list: L; builtIn: Readonly<Record<string, Label>>; what: string; schemaId: string }) {
  const builtIn = Object.keys(declaration.builtIn);
  const Settings = z
    .object({
      [declaration.list]: z
        .array(AddedKind)
        .max(50)
        .refine((kinds) => new Set(kinds.map((k) => k.key)).size === kinds.length, 'each key once')
        .refine((kinds) => kinds.every((k) => !builtIn.includes(k.key)), `the built-in ones (${builtIn.join(', ')}) are there already`),
    } as unknown as Record<L, z.ZodType<AddedKind[]>>)
    .strict()
    .meta({ id: declaration.schemaId });
  type Settings = Record<L, AddedKind[]>;

  const settings = async (deps: CommandDeps): Promise<{ value: Settings; revision: bigint }> => {
    const { value, revision } = await readSetting<Settings>(deps, declaration.settingKey);
    return { value: value ?? ({ [declaration.list]: [] } as unknown as Settings), revision };
  };
  const offered = async (deps: CommandDeps): Promise<z.infer<typeof OfferedKind>[]> => {
    const { value } = await settings(deps);
    return [...builtIn.map((key) => ({ key, label: declaration.builtIn[key]!, builtIn: true })), ...value[declaration.list].filter((k) => k.active).map((k) => ({ key: k.key, label: k.label, builtIn: false }))];
  };
  return {
    Settings: Settings as unknown as z.ZodType<Settings>,
    settings,
    change: (deps: CommandDeps, value: Settings, actor: Actor, meta: RequestMeta) => writeSetting(deps, declaration.settingKey, value, actor, meta),
    offered,
    /** A new value of `field` must be offered; a retired one may stay on the record that has it (`kept`). */
    async assertOffered(deps: CommandDeps, field: string, value: unknown, kept?: string): Promise<void> {
      if (typeof value !== 'string' || value === kept) return;
      if (!(await offered(deps)).some((k) => k.key === value)) throw invalidField(field, `Unknown ${declaration.what} ${value}: use a built-in one (${builtIn.join(', ')}) or one an administrator added`, value);
    },
  };
}

/** A kinds-as-data declaration, as routes take it. */
export type KindsAsData = ReturnType<typeof kindsAsData<string>>;
