import { z } from 'zod';
import { DomainError } from '../shared/errors.ts';

/** A file attached to a record (附件): its name, sniffed type, size and the SHA-256 its bytes are stored under. */
export const AttachmentAdded = z.object({
  recordId: z.string(),
  resource: z.string(),
  attachmentId: z.string(),
  name: z.string().min(1).max(255),
  contentType: z.string().min(3).max(100),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export const AttachmentRemoved = z.object({ recordId: z.string(), attachmentId: z.string() });
export type Attachment = z.infer<typeof AttachmentAdded> & { addedAt: string; addedBy: string };

export type AttachmentEvent = { type: 'AttachmentAdded'; data: z.infer<typeof AttachmentAdded> } | { type: 'AttachmentRemoved'; data: z.infer<typeof AttachmentRemoved> };
export type AttachmentState = { files: Record<string, z.infer<typeof AttachmentAdded>> };
export type AttachmentCommand = ({ type: 'AddAttachment' } & z.infer<typeof AttachmentAdded>) | { type: 'RemoveAttachment'; recordId: string; attachmentId: string };

/** At most this many files on one record. */
export const MAX_ATTACHMENTS = 200;

export const initialState: AttachmentState = { files: {} };

export function evolve(state: AttachmentState, event: AttachmentEvent): AttachmentState {
  if (event.type === 'AttachmentAdded') return { files: { ...state.files, [event.data.attachmentId]: event.data } };
  const { [event.data.attachmentId]: _removed, ...files } = state.files;
  return { files };
}

export function decide(command: AttachmentCommand, state: AttachmentState): AttachmentEvent[] {
  if (command.type === 'AddAttachment') {
    const { type: _type, ...data } = command;
    // The same file under the same name is attached once (a retried upload adds nothing).
    if (Object.values(state.files).some((file) => file.sha256 === data.sha256 && file.name === data.name)) return [];
    if (Object.keys(state.files).length >= MAX_ATTACHMENTS) throw new DomainError('attachment.too_many', `A record holds at most ${MAX_ATTACHMENTS} attachments`, { recordId: data.recordId });
    return [{ type: 'AttachmentAdded', data }];
  }
  if (!state.files[command.attachmentId]) throw new DomainError('attachment.not_found', `Attachment ${command.attachmentId} does not exist`, { attachmentId: command.attachmentId });
  return [{ type: 'AttachmentRemoved', data: { recordId: command.recordId, attachmentId: command.attachmentId } }];
}

export const attachmentDecider = { initialState, evolve, decide };
export const attachmentCategory = 'attachment';
/** One stream per record holds its attachments (record ids are unique across record types). */
export const attachmentStream = (recordId: string) => `${attachmentCategory}-${recordId}`;
