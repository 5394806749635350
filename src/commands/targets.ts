import { targetIdFor, type TargetCommand, type TargetFields, type TargetState } from '../domain/target/index.ts';
import { assertAllotmentOwner } from './allotments.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { RecordHandler, type RecordRules } from './record-handler.ts';

const targetRules: RecordRules<TargetCommand, TargetState> = { resource: 'targets' };
const targets = (deps: CommandDeps, actor: Actor, meta: RequestMeta) => new RecordHandler(targetRules, deps, actor, meta);

/** Sets a sales target for an employee or a department, a metric and a month (one per such; 409 target.already_exists). */
export async function setTarget(deps: CommandDeps, fields: TargetFields, actor: Actor, meta: RequestMeta) {
  await assertAllotmentOwner(deps, fields);
  const result = await targets(deps, actor, meta).create(fields, (targetId, all) => ({ type: 'SetTarget', targetId, fields: all as TargetFields }), targetIdFor(fields));
  return { ...result, targetId: result.id };
}

export const changeTarget = (deps: CommandDeps, targetId: string, changes: Record<string, unknown>, actor: Actor, meta: RequestMeta) =>
  targets(deps, actor, meta).change(targetId, changes, (plain) => ({ type: 'ChangeTarget', targetId, changes: plain }));
export const removeTarget = (deps: CommandDeps, targetId: string, actor: Actor, meta: RequestMeta) => targets(deps, actor, meta).run(targetId, { type: 'RemoveTarget', targetId });
