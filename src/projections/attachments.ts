import { attachmentCategory } from '../domain/attachment/index.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { alreadyApplied, type Projection } from './projection.ts';

export const ATTACHMENT_INDEX = 'attachment_index';
/** Which record an attachment belongs to (`_id`: the attachment id), so it can be downloaded by its id alone. */
export type AttachmentIndexDoc = Doc & { resource: string; recordId: string; _position: number };

export const attachmentIndexProjection: Projection = {
  name: 'attachment_index',
  version: 1,
  categories: [attachmentCategory],
  collections: [ATTACHMENT_INDEX],
  async setup() {},
  async apply(event, store) {
    const data = event.data as { attachmentId: string; recordId: string; resource?: string };
    const index = store.collection<AttachmentIndexDoc>(ATTACHMENT_INDEX);
    if (alreadyApplied(await index.findOne({ _id: data.attachmentId }), event)) return;
    if (event.type === 'AttachmentAdded') await index.replaceOne({ _id: data.attachmentId }, { _id: data.attachmentId, resource: data.resource!, recordId: data.recordId, _position: Number(event.position) }, { upsert: true });
    else if (event.type === 'AttachmentRemoved') await index.deleteOne({ _id: data.attachmentId });
  },
};

/** The record an attachment belongs to; undefined for an unknown or removed one. */
export const attachmentOwner = (store: ReadStore, attachmentId: string) => store.collection<AttachmentIndexDoc>(ATTACHMENT_INDEX).findOne({ _id: attachmentId });
