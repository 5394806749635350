import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/infra/eventstore/port.ts';
import { campaignMemberEventSchemas } from '../../src/domain/campaign/members.ts';
import { fromMessage, HEADERS, isPublished, PUBLISHED_CATEGORIES, toMessage, topicFor } from '../../src/integrations/kafka/messages.ts';

const event = (streamId: string, type: string, data: unknown): RecordedEvent => ({
  id: '01a219da-97e8-7010-8ac4-f4503c899c4f',
  streamId,
  revision: 7n,
  position: 9_007_199_254_740_993n, // beyond 2^53: must survive as text
  type,
  data,
  metadata: { actor: 'u-1', at: '2026-11-26T00:00:00.000Z', correlationId: 'c-42', schemaVersion: 1 },
});

describe('Kafka message format', () => {
  it('keys by stream id, carries the headers, and reads back to the same event', () => {
    const original = event('customer-abc', 'CustomerRegistered', { name: '华星电子', address: { city: '深圳' } });
    const message = toMessage(original);
    expect(message.key).toBe('customer-abc');
    expect(message.headers).toEqual({
      [HEADERS.eventType]: 'CustomerRegistered',
      [HEADERS.eventId]: original.id,
      [HEADERS.position]: '9007199254740993',
      [HEADERS.correlationId]: 'c-42',
      [HEADERS.contentType]: 'application/json',
    });
    const value = JSON.parse(String(message.value)) as Record<string, unknown>;
    expect(value).toMatchObject({ revision: '7', position: '9007199254740993' });
    expect(fromMessage({ key: Buffer.from('customer-abc'), value: Buffer.from(String(message.value)), offset: '0', timestamp: '0', attributes: 0, headers: {} })).toEqual(original);
  });

  it('never carries a password hash, however deep', () => {
    const message = toMessage(event('employee-1', 'AccountOpened', { employeeId: 'e', username: 'zhang', passwordHash: 'scrypt$…', nested: [{ password: 'x', keep: 1 }] }));
    expect(JSON.parse(String(message.value)).data).toEqual({ employeeId: 'e', username: 'zhang', nested: [{ keep: 1 }] });
  });

  it('publishes business records only, one topic per category', () => {
    expect(isPublished(event('order-1', 'OrderConfirmed', {}))).toBe(true);
    expect(isPublished(event('ticket-1', 'TicketOpened', {}))).toBe(true);
    for (const internal of ['login-zhang', 'idempotency-k', 'reservation-customer.name.x', 'settings-pool', 'role-1', 'customfields-customers', 'ordernumber-2026', 'ticketnumber-2026', 'publiclink-1', 'schedule-ticket-sla'])
      expect(isPublished(event(internal, 'X', {}))).toBe(false);
    expect(PUBLISHED_CATEGORIES.map(topicFor)).toContain('crm.customer');
    expect(PUBLISHED_CATEGORIES.map(topicFor)).toContain('crm.ticket');
    // Expense claims and approvals (the approval issue); budgets are records too. Policies are settings and stay inside.
    expect(isPublished(event('expense-1', 'ExpenseClaimSubmitted', {}))).toBe(true);
    expect(isPublished(event('approval-1', 'ApprovalCompleted', {}))).toBe(true);
    expect(isPublished(event('approvalpolicies-company', 'ApprovalPolicyDefined', {}))).toBe(false);
    expect(PUBLISHED_CATEGORIES.map(topicFor)).toEqual(expect.arrayContaining(['crm.expense', 'crm.approval', 'crm.budget', 'crm.campaign']));
  });

  it('publishes campaign mails\' sends and engagement and the consent ledger, never a mail body; member lists stay inside', () => {
    expect(PUBLISHED_CATEGORIES.map(topicFor)).toEqual(expect.arrayContaining(['crm.campaignMember', 'crm.consent', 'crm.emailTemplate']));
    expect(isPublished(event('campaignMember-c.m', 'CampaignMailDelivered', {}))).toBe(true);
    expect(isPublished(event('campaignAudience-c', 'CampaignMembersListed', {}))).toBe(false);
    // No send or engagement event has a place for a body: what is published is what the schemas allow.
    for (const [type, schema] of Object.entries(campaignMemberEventSchemas)) {
      const keys = Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape);
      expect(keys.filter((key) => ['html', 'text', 'subject', 'body'].includes(key)), type).toEqual([]);
    }
  });
});
