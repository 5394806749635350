import { CampaignAudienceFrozen, campaignCategory } from '../domain/campaign/index.ts';
import {
  campaignAudienceCategory,
  CampaignMailBounced,
  CampaignMailClicked,
  CampaignMailDelivered,
  CampaignMailFailed,
  CampaignMailOpened,
  CampaignMailSending,
  CampaignMailSkipped,
  campaignMemberCategory,
  CampaignMembersListed,
  CampaignSmsAccepted,
  CampaignSmsFailed,
  CampaignSmsSending,
  consentCategory,
  ConsentWithdrawn,
} from '../domain/campaign/members.ts';
import { categoryOf, type RecordedEvent } from '../infra/eventstore/port.ts';
import { leadCategory } from '../domain/lead/index.ts';
import type { Doc, ReadStore } from '../infra/readstore/port.ts';
import { contactCategory, PersonalDataErased } from '../domain/contact/index.ts';
import { ERASED } from '../domain/shared/personal-data.ts';
import { contactOfMember } from '../domain/campaign/personal.ts';
import { alreadyApplied, type Projection } from './projection.ts';

/** A campaign's members as the member list shows them: one document per member of its frozen list. */
export const CAMPAIGN_MEMBERS = 'campaign_members';

/** Where a member's mail got to: targeted → sent → delivered → opened → clicked (→ responded), or bounced, unsubscribed, failed. */
export const MEMBER_STATUSES = ['targeted', 'sent', 'delivered', 'opened', 'clicked', 'responded', 'bounced', 'unsubscribed', 'failed'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export type CampaignMemberDoc = Doc & {
  campaignId: string;
  memberId: string;
  audienceId: string;
  resource: string;
  recordId: string;
  /** The contact the member is (its own membership, or a customer's contact); absent for a lead. */
  contactId?: string;
  email: string;
  mobile?: string;
  name: string;
  ownerId: string | null;
  departmentPath: string | null;
  status: MemberStatus;
  messageId?: string;
  sentAt?: string;
  deliveredAt?: string;
  failure?: string;
  firstOpenedAt?: string;
  firstClickedAt?: string;
  opens: number;
  clicks: number;
  unsubscribedAt?: string;
  bouncedAt?: string;
  respondedAt?: string;
  lastSoftBounce?: string;
  _position: number;
};

/** How far along each status is: engagement only moves a member forward, never back from an end. */
const RANK: Record<MemberStatus, number> = { targeted: 0, sent: 1, delivered: 2, opened: 3, clicked: 4, responded: 5, bounced: 9, unsubscribed: 9, failed: 9 };
const forward = (current: MemberStatus, next: MemberStatus): MemberStatus => (RANK[next] > RANK[current] && RANK[current] < 9 ? next : current);

const idOf = (campaignId: string, memberId: string) => `${campaignId}.${memberId}`;

async function change(store: ReadStore, event: RecordedEvent, campaignId: string, memberId: string, update: (doc: CampaignMemberDoc) => Partial<CampaignMemberDoc>): Promise<void> {
  const members = store.collection<CampaignMemberDoc>(CAMPAIGN_MEMBERS);
  const doc = await members.findOne({ _id: idOf(campaignId, memberId) });
  if (!doc || alreadyApplied(doc, event)) return;
  await members.updateOne({ _id: doc._id }, { $set: { ...update(doc), _position: Number(event.position) } });
}

/** The events the member lists change with (of the categories they follow, the rest leave them as they are). */
const MEMBER_EVENTS: ReadonlySet<string> = new Set([
  'CampaignMembersListed',
  'CampaignAudienceFrozen',
  'CampaignMailSending',
  'CampaignSmsSending',
  'CampaignSmsAccepted',
  'CampaignSmsFailed',
  'CampaignMailDelivered',
  'CampaignMailFailed',
  'CampaignMailSkipped',
  'CampaignMailOpened',
  'CampaignMailClicked',
  'CampaignMailBounced',
  'LeadCreated',
  'PersonalDataErased',
  'ConsentWithdrawn',
]);

/**
 * The member lists: each frozen list's members (a later list of the same campaign replaces the earlier), and what
 * became of each member's mail, from the members' streams and the consent ledger (an unsubscribe through a
 * member's link marks that member).
 */
export const campaignMembersProjection: Projection = {
  name: 'campaign-members',
  // 3: each member names the contact it is (`contactId`), so an erasure finds its memberships.
  version: 3,
  categories: [campaignCategory, campaignAudienceCategory, campaignMemberCategory, consentCategory, leadCategory, contactCategory],
  collections: [CAMPAIGN_MEMBERS],
  async setup(store) {
    const members = store.collection(CAMPAIGN_MEMBERS);
    await members.createIndex({ campaignId: 1, audienceId: 1 });
    await members.createIndex({ campaignId: 1, status: 1 });
    await members.createIndex({ email: 1 });
    await members.createIndex({ contactId: 1 });
  },
  ignores: (event) => !MEMBER_EVENTS.has(event.type),
  async apply(event, store) {
    // (A case below whose type the set lacks is never reached: its tests fail, rather than the runner skip it.)
    if (!MEMBER_EVENTS.has(event.type)) return;
    const members = store.collection<CampaignMemberDoc>(CAMPAIGN_MEMBERS);
    const position = Number(event.position);
    switch (event.type) {
      case 'CampaignMembersListed': {
        const { campaignId, audienceId, members: listed } = CampaignMembersListed.parse(event.data);
        if (listed.length === 0) return;
        await members.bulkWrite(
          listed.map((member) => ({
            updateOne: {
              filter: { _id: idOf(campaignId, member.memberId) },
              update: {
                $set: { campaignId, memberId: member.memberId, audienceId, resource: member.resource, recordId: member.recordId, ...contactOfMember(member), email: member.email, ...(member.mobile ? { mobile: member.mobile } : {}), name: member.name, ownerId: member.ownerId, departmentPath: member.departmentPath, _position: position },
                $setOnInsert: { status: 'targeted', opens: 0, clicks: 0 },
              },
              upsert: true,
            },
          })),
        );
        return;
      }
      case 'CampaignAudienceFrozen': {
        const { campaignId, audienceId } = CampaignAudienceFrozen.parse(event.data);
        await members.deleteMany({ campaignId, audienceId: { $ne: audienceId } });
        return;
      }
      case 'CampaignMailSending': {
        const { campaignId, memberId, messageId, at } = CampaignMailSending.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'sent'), messageId, sentAt: at }));
      }
      case 'CampaignSmsSending': {
        const { campaignId, memberId, requestId, at } = CampaignSmsSending.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'sent'), messageId: requestId, sentAt: at }));
      }
      case 'CampaignSmsAccepted': {
        const { campaignId, memberId, messageId, at } = CampaignSmsAccepted.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'delivered'), messageId, deliveredAt: at }));
      }
      case 'CampaignSmsFailed': {
        const { campaignId, memberId, reason } = CampaignSmsFailed.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'failed'), failure: reason }));
      }
      case 'CampaignMailDelivered': {
        const { campaignId, memberId, at } = CampaignMailDelivered.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'delivered'), deliveredAt: at }));
      }
      case 'CampaignMailFailed': {
        const { campaignId, memberId, reason } = CampaignMailFailed.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'failed'), failure: reason }));
      }
      case 'CampaignMailSkipped': {
        const { campaignId, memberId, reason } = CampaignMailSkipped.parse(event.data);
        // A member erased since the list was frozen was not mailed: a failure, with the reason.
        if (reason === 'erased') return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'failed'), failure: 'personal data erased' }));
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, reason) }));
      }
      case 'CampaignMailOpened': {
        const { campaignId, memberId, at } = CampaignMailOpened.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'opened'), opens: doc.opens + 1, firstOpenedAt: doc.firstOpenedAt ?? at }));
      }
      case 'CampaignMailClicked': {
        const { campaignId, memberId, at } = CampaignMailClicked.parse(event.data);
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'clicked'), clicks: doc.clicks + 1, firstClickedAt: doc.firstClickedAt ?? at }));
      }
      case 'CampaignMailBounced': {
        const { campaignId, memberId, kind, status, at } = CampaignMailBounced.parse(event.data);
        if (kind === 'soft') return change(store, event, campaignId, memberId, () => ({ lastSoftBounce: `${status} ${at}` }));
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'bounced'), bouncedAt: at, failure: `bounced ${status}` }));
      }
      case 'LeadCreated': {
        // A lead for an address whose mail a person clicked: that member responded.
        const email = (event.data as { fields?: { email?: string } }).fields?.email;
        if (!email) return;
        for (const doc of await members.find({ email: { $in: [email, email.toLowerCase()] }, status: 'clicked' }))
          await change(store, event, doc.campaignId, doc.memberId, () => ({ status: 'responded', respondedAt: event.metadata.at }));
        return;
      }
      case 'PersonalDataErased': {
        // A contact erased: its memberships show [erased] at once (a rebuild reads them so from the sealed lists).
        if (categoryOf(event.streamId) !== contactCategory) return;
        const { contactId } = PersonalDataErased.parse(event.data);
        await members.updateMany({ contactId }, { $set: { email: ERASED, name: ERASED } });
        await members.updateMany({ contactId, mobile: { $exists: true } }, { $set: { mobile: ERASED } });
        return;
      }
      case 'ConsentWithdrawn': {
        if (categoryOf(event.streamId) !== consentCategory) return;
        const { evidence, at } = ConsentWithdrawn.parse(event.data);
        const { campaignId, memberId } = evidence as { campaignId?: unknown; memberId?: unknown };
        if (typeof campaignId !== 'string' || typeof memberId !== 'string') return;
        return change(store, event, campaignId, memberId, (doc) => ({ status: forward(doc.status, 'unsubscribed'), unsubscribedAt: at }));
      }
    }
  },
};
