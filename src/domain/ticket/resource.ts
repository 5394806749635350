import { z } from 'zod';
import type { ResourceSpec } from '../customization/resources.ts';
import type { SlaState } from '../service/sla.ts';
import { moveByChange, revertible } from '../shared/revert.ts';
import { type OpenTicket, TicketChannel, TicketPriority, TicketStatus, ticketCategory, ticketDecider, ticketEventSchemas } from './index.ts';

/**
 * A ticket's SLA as every reader sees it, from the facts in its history: the last targets recorded, and the
 * warnings and breaches recorded on time. `breached` once a clock passed its target; `met` when both clocks
 * stopped within theirs; `paused` while waiting for the customer; `at_risk` once a running clock passed its
 * warning share; `on_track` otherwise.
 */
export function slaView(state: OpenTicket) {
  const targets = state.sla;
  if (!targets) return null;
  const clocks = [
    { name: 'first_response' as const, ...targets.firstResponse },
    { name: 'resolution' as const, ...targets.resolution },
  ];
  const slaState: SlaState =
    state.breached.length > 0
      ? 'breached'
      : clocks.every((clock) => clock.state === 'stopped')
        ? 'met'
        : clocks.some((clock) => clock.state === 'paused')
          ? 'paused'
          : clocks.some((clock) => clock.state !== 'stopped' && state.warned.includes(clock.name))
            ? 'at_risk'
            : 'on_track';
  const minutes = (ms: number) => Math.ceil(ms / 60_000);
  return {
    state: slaState,
    firstResponseDueAt: targets.firstResponse.dueAt,
    resolutionDueAt: targets.resolution.dueAt,
    // While paused the remaining business time stands still; while running, the due times say it.
    ...(targets.firstResponse.state === 'paused' ? { firstResponseRemainingMinutes: minutes(targets.firstResponse.remainingMs) } : {}),
    ...(targets.resolution.state === 'paused' ? { resolutionRemainingMinutes: minutes(targets.resolution.remainingMs) } : {}),
    firstResponseHours: targets.target.firstResponseHours,
    resolutionHours: targets.target.resolutionHours,
    breached: state.breached,
    policyVersion: targets.policyVersion,
    calendarVersion: targets.calendarVersion,
    timeZone: targets.timeZone,
  };
}

/** A ticket as its read model and `asOf` show it. */
export const ticketView = (state: OpenTicket) => ({
  ...state.fields,
  number: state.number,
  status: state.status,
  assigneeId: state.ownerId,
  queueId: state.queueId,
  createdBy: state.createdBy,
  openedAt: state.openedAt,
  respondedAt: state.respondedAt,
  resolution: state.resolution,
  resolvedAt: state.resolvedAt,
  closedAt: state.closedAt,
  reopenCount: state.reopenCount,
  workMinutes: state.workMinutes,
  notes: state.notes,
  sla: slaView(state),
});

const optional = (schema: z.ZodType) => schema.optional();
const id = () => optional(z.string().max(100));

/** Service tickets as a record type (服务工单): in scope for the assignee, the queue's members and the customer's owner. */
export const ticketResource = {
  name: 'tickets',
  singular: 'ticket',
  tag: 'Tickets 服务工单',
  module: 'tickets',
  category: ticketCategory,
  decider: ticketDecider,
  scope: { by: 'parties', parties: (state: OpenTicket) => ({ ownerId: state.ownerId, queueId: state.queueId, customerId: state.fields.customerId }) },
  referenceField: 'ticketId',
  personalFields: ['description'],
  customerReference: 'customerId',
  standardFields: ['number', 'type', 'channel', 'priority', 'customerId', 'contactId', 'productId', 'orderId', 'subject', 'description', 'status', 'assigneeId', 'queueId', 'resolution', 'reopenCount', 'workMinutes', 'notes', 'sla', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: {
      q: optional(z.string().trim().min(1).max(200)),
      status: optional(TicketStatus),
      priority: optional(TicketPriority),
      type: optional(z.string().max(40)),
      channel: optional(TicketChannel),
      assigneeId: id(),
      queueId: id(),
      customerId: id(),
      contactId: id(),
      orderId: id(),
      productId: id(),
      'sla.state': optional(z.enum(['on_track', 'at_risk', 'breached', 'met', 'paused'])).describe('on_track, at_risk, breached, met or paused'),
    },
    sorts: ['number', 'createdAt', 'updatedAt', 'sla.resolutionDueAt'],
    defaultSort: '-number',
  },
  search: ['number', 'subject', 'description'],
  attachments: true,
  references: { contactId: 'contacts', productId: 'products', orderId: 'orders' },
  events: ticketEventSchemas,
  ...revertible(ticketDecider, 'ticketId', { moves: { customerId: moveByChange('TicketChanged', 'ticketId'), contactId: moveByChange('TicketChanged', 'ticketId', 'contactId') } }),
  readModel: { version: 1, view: ticketView },
} as const satisfies ResourceSpec;
