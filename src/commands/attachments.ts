import { type Attachment, attachmentDecider, attachmentStream } from '../domain/attachment/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { execute, load } from './pipeline.ts';

/** The files attached to a record, oldest first, with who added each and when. */
export async function attachmentsOf(deps: CommandDeps, recordId: string): Promise<Attachment[]> {
  const { events, state } = await load(deps, attachmentDecider, attachmentStream(recordId));
  const added = new Map(events.filter((e) => e.type === 'AttachmentAdded').map((e) => [(e.data as { attachmentId: string }).attachmentId, e.metadata]));
  return Object.values(state.files).map((file) => ({ ...file, addedAt: added.get(file.attachmentId)!.at, addedBy: added.get(file.attachmentId)!.actor }));
}

export async function addAttachment(
  deps: CommandDeps,
  input: { resource: string; recordId: string; name: string; contentType: string; size: number; sha256: string },
  actor: Actor,
  meta: RequestMeta,
): Promise<{ attachment: Attachment; position: bigint }> {
  const attachmentId = meta.ids.newId();
  const result = await execute(deps, attachmentDecider, attachmentStream(input.recordId), { type: 'AddAttachment', attachmentId, ...input }, actor, meta);
  // The same file under the same name was there already: answer that one.
  const attachment = (await attachmentsOf(deps, input.recordId)).find((file) => file.sha256 === input.sha256 && file.name === input.name)!;
  return { attachment, position: result.position };
}

export const removeAttachment = (deps: CommandDeps, recordId: string, attachmentId: string, actor: Actor, meta: RequestMeta) =>
  execute(deps, attachmentDecider, attachmentStream(recordId), { type: 'RemoveAttachment', recordId, attachmentId }, actor, meta);
