import { z } from 'zod';
import type { Actor, CommandDeps, RequestMeta } from '../../commands/context.ts';
import { assertOwner } from '../../commands/customers.ts';
import { settingWithDefault } from '../../commands/settings.ts';

export const ErpSettings = z
  .object({
    defaultOwnerId: z.string().min(1).max(100).nullable().describe('Who owns the customers the ERP creates (an enabled employee); null: none, and an ERP customer the CRM does not know yet is rejected'),
  })
  .strict()
  .meta({ id: 'ErpSettings' });
export type ErpSettings = z.infer<typeof ErpSettings>;

const erpSetting = settingWithDefault<ErpSettings>('erp', { defaultOwnerId: null });

export const erpSettings = (deps: CommandDeps) => erpSetting.read(deps);

/** Saves the ERP settings; the default owner must be a known employee who is not disabled. */
export async function changeErpSettings(deps: CommandDeps, settings: ErpSettings, actor: Actor, meta: RequestMeta) {
  if (settings.defaultOwnerId !== null) await assertOwner(deps, settings.defaultOwnerId);
  return erpSetting.write(deps, settings, actor, meta);
}
