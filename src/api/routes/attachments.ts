import { z } from 'zod';
import { addAttachment, attachmentsOf, removeAttachment } from '../../commands/attachments.ts';
import { authorize } from '../../commands/authorization.ts';
import { type ResourceName, resourceNames, resourceSpec, specOf } from '../../domain/customization/resources.ts';
import { HttpProblem } from '../problem.ts';
import { notFound } from '../history.ts';
import { recordInScope, recordReadable } from '../records.ts';
import { ATTACHMENT_INDEX, attachmentOwner } from '../../projections/attachments.ts';
import { isAllowed } from '../../commands/authorization.ts';
import { commonErrors, notFoundError, recordWriteErrors } from '../responses.ts';
import { type AnyRoute, defineRoute, Id, type RouteResult, type RouteServices } from '../route.ts';
import { sniffContentType } from '../sniff.ts';
import { readUpload } from '../upload.ts';

const AttachmentView = z
  .object({
    id: z.string(),
    name: z.string(),
    contentType: z.string().describe('Sniffed from the content, not taken from the client'),
    size: z.number().int(),
    sha256: z.string(),
    addedAt: z.string(),
    addedBy: z.string(),
  })
  .meta({ id: 'Attachment' });
const view = (file: { attachmentId: string; name: string; contentType: string; size: number; sha256: string; addedAt: string; addedBy: string }) => ({
  id: file.attachmentId,
  name: file.name,
  contentType: file.contentType,
  size: file.size,
  sha256: file.sha256,
  addedAt: file.addedAt,
  addedBy: file.addedBy,
});

const tooLarge = (maxBytes: number) => new HttpProblem(413, 'attachment.too_large', 'Attachment too large', `An attachment may be at most ${maxBytes} bytes`, { maxBytes });

/** The answer downloading one attachment of a record: its bytes, typed as sniffed, never to be rendered inline. */
async function download(services: RouteServices, recordId: string, attachmentId: string): Promise<RouteResult> {
  const file = (await attachmentsOf(services.deps, recordId)).find((f) => f.attachmentId === attachmentId);
  const bytes = file && (await services.blobs.get(file.sha256));
  if (!file || !bytes) throw notFound('attachment', attachmentId);
  const ascii = file.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return {
    status: 200,
    body: bytes,
    headers: {
      'Content-Type': file.contentType,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      'Cache-Control': 'private, no-cache',
      'X-Content-Type-Options': 'nosniff',
    },
  };
}

/** Upload, list, download and removal for one record type that declares attachments. */
function attachmentRoutesFor(resource: ResourceName): AnyRoute[] {
  const base = `/api/v1/${resource}/:id/attachments`;
  const { module, singular, tag, attachmentTypes: allowed } = specOf(resource);
  const tags = [tag];
  return [
    defineRoute({
      method: 'post',
      path: base,
      upload: true,
      idempotent: false,
      summary: `Attach a file to a ${singular} (multipart/form-data, field file)`,
      description: `The type is sniffed from the content: ${allowed ? allowed.join(', ') : 'PDF, PNG, JPEG, GIF, WebP, Office documents, plain text and CSV'} ${allowed ? 'only' : ''} (415 attachment.type_not_allowed otherwise, whatever the file is called); at most CRM_ATTACHMENT_MAX_BYTES (413, read no further). The same file under the same name is attached once.`,
      tags,
      params: z.object({ id: Id }),
      responses: { 201: { description: 'Attached', schema: AttachmentView }, ...recordWriteErrors },
      async handler({ params, actor, services, meta, koa }) {
        authorize(actor, module, 'edit');
        await recordInScope(services, actor, resource, params.id);
        const { name, bytes } = await readUpload(koa, services.config.CRM_ATTACHMENT_MAX_BYTES, tooLarge);
        const contentType = sniffContentType(bytes, name);
        if (!contentType) throw new HttpProblem(415, 'attachment.type_not_allowed', 'File type not allowed', 'Attach PDF, images (PNG, JPEG, GIF, WebP), Office documents, plain text or CSV', { name });
        if (allowed && !allowed.includes(contentType)) throw new HttpProblem(415, 'attachment.type_not_allowed', 'File type not allowed', `A ${singular} takes ${allowed.join(', ')} only; this file is ${contentType}`, { name, contentType, allowed });
        const sha256 = await services.blobs.put(bytes);
        const { attachment, position } = await addAttachment(services.deps, { resource, recordId: params.id, name, contentType, size: bytes.length, sha256 }, actor, meta);
        return { status: 201, body: view(attachment), headers: { 'X-Position': String(position), Location: `/api/v1/${resource}/${params.id}/attachments/${attachment.attachmentId}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: base,
      reads: [],
      summary: `The files attached to a ${singular}`,
      tags,
      params: z.object({ id: Id }),
      responses: { 200: { description: 'Attachments, oldest first', schema: z.object({ items: z.array(AttachmentView) }) }, ...commonErrors, ...notFoundError },
      async handler({ params, actor, services }) {
        authorize(actor, module, 'view');
        await recordReadable(services, actor, resource, params.id);
        return { status: 200, body: { items: (await attachmentsOf(services.deps, params.id)).map(view) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:attachmentId`,
      reads: [],
      summary: `Download a file attached to a ${singular}`,
      tags,
      params: z.object({ id: Id, attachmentId: Id }),
      responses: { 200: { description: 'The file, with the type sniffed when it was attached' }, ...commonErrors, ...notFoundError },
      async handler({ params, actor, services }) {
        authorize(actor, module, 'view');
        await recordReadable(services, actor, resource, params.id);
        return download(services, params.id, params.attachmentId);
      },
    }),
    defineRoute({
      method: 'delete',
      path: `${base}/:attachmentId`,
      summary: `Remove a file from a ${singular} (the record's history keeps that it was there)`,
      tags,
      params: z.object({ id: Id, attachmentId: Id }),
      responses: { 200: { description: 'Removed', schema: z.object({ id: z.string(), removed: z.literal(true) }) }, ...recordWriteErrors },
      async handler({ params, actor, services, meta }) {
        authorize(actor, module, 'edit');
        await recordInScope(services, actor, resource, params.id);
        const result = await removeAttachment(services.deps, params.id, params.attachmentId, actor, meta);
        return { status: 200, body: { id: params.attachmentId, removed: true as const }, headers: { 'X-Position': String(result.position) } };
      },
    }),
  ];
}

/**
 * Any attachment by its id alone: for whoever may read the record it belongs to (its module's view and its data
 * scope, or an approver the record waits on); 404 otherwise, as for an id that does not exist.
 */
const downloadById = defineRoute({
  method: 'get',
  path: '/api/v1/attachments/:id',
  reads: [ATTACHMENT_INDEX],
  summary: 'Download an attachment by its id (for whoever may read the record it is attached to)',
  tags: ['Attachments 附件'],
  params: z.object({ id: Id }),
  responses: { 200: { description: 'The file, with the type sniffed when it was attached' }, ...commonErrors, ...notFoundError },
  async handler({ params, actor, services }) {
    const owner = await attachmentOwner(services.readStore, params.id);
    const spec = owner && resourceSpec(owner.resource);
    if (!owner || !spec || !isAllowed(actor, spec.module, 'view')) throw notFound('attachment', params.id);
    try {
      await recordReadable(services, actor, spec.name as ResourceName, owner.recordId);
    } catch {
      throw notFound('attachment', params.id);
    }
    return download(services, owner.recordId, params.id);
  },
});

/** Every record type whose resource declares attachments gets these routes; any attachment downloads by its id. */
export const attachmentRoutes: AnyRoute[] = [downloadById, ...resourceNames.filter((name) => specOf(name).attachments).flatMap(attachmentRoutesFor)];
