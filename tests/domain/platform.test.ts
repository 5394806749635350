import { describe, expect, it } from 'vitest';
import { type AttachmentEvent, attachmentDecider, attachmentStream, MAX_ATTACHMENTS } from '../../src/domain/attachment/index.ts';
import { CompanySettings, DEFAULT_COMPANY, localDate } from '../../src/domain/company/index.ts';
import { type NotificationEvent, notificationDecider, notificationStream } from '../../src/domain/notification/index.ts';
import { linkOpen, type PublicLinkEvent, publicLinkDecider, publicLinkStream } from '../../src/domain/public-link/index.ts';
import { specFor } from '../support/spec.ts';

const file = { recordId: 'r', resource: 'customers', attachmentId: 'a1', name: 'offer.pdf', contentType: 'application/pdf', size: 10, sha256: 'a'.repeat(64) };
const added: AttachmentEvent = { type: 'AttachmentAdded', data: file };

describe('attachments of a record', () => {
  const spec = specFor(attachmentDecider);
  it('adds a file; the same file under the same name once; another name or content is another file', () => {
    spec.given([]).when({ type: 'AddAttachment', ...file }).then([added]);
    spec.given([added]).when({ type: 'AddAttachment', ...file, attachmentId: 'a2' }).thenNothing();
    spec.given([added]).when({ type: 'AddAttachment', ...file, attachmentId: 'a2', name: 'other.pdf' }).then([{ type: 'AttachmentAdded', data: { ...file, attachmentId: 'a2', name: 'other.pdf' } }]);
    spec.given([added]).when({ type: 'AddAttachment', ...file, attachmentId: 'a2', sha256: 'b'.repeat(64) }).then([{ type: 'AttachmentAdded', data: { ...file, attachmentId: 'a2', sha256: 'b'.repeat(64) } }]);
  });

  it(`holds at most ${MAX_ATTACHMENTS} files`, () => {
    const many: AttachmentEvent[] = Array.from({ length: MAX_ATTACHMENTS }, (_, i) => ({ type: 'AttachmentAdded', data: { ...file, attachmentId: `f${i}`, name: `f${i}.pdf` } }));
    const refused = spec.given(many).when({ type: 'AddAttachment', ...file, attachmentId: 'last', name: 'last.pdf' }).thenThrows('attachment.too_many');
    expect(refused.details).toEqual({ recordId: 'r' });
    spec.given(many.slice(1)).when({ type: 'AddAttachment', ...file, attachmentId: 'last', name: 'last.pdf' }).then([{ type: 'AttachmentAdded', data: { ...file, attachmentId: 'last', name: 'last.pdf' } }]);
  });

  it('removes a file it has; an unknown one is not found; a removed file is gone', () => {
    const removed: AttachmentEvent = { type: 'AttachmentRemoved', data: { recordId: 'r', attachmentId: 'a1' } };
    spec.given([added]).when({ type: 'RemoveAttachment', recordId: 'r', attachmentId: 'a1' }).then([removed]);
    const missing = spec.given([added, removed]).when({ type: 'RemoveAttachment', recordId: 'r', attachmentId: 'a1' }).thenThrows('attachment.not_found');
    expect(missing.details).toEqual({ attachmentId: 'a1' });
    spec.given([added, removed]).when({ type: 'AddAttachment', ...file }).then([added]);
    expect([added, removed].reduce(attachmentDecider.evolve, attachmentDecider.initialState)).toEqual({ files: {} });
    expect(attachmentStream('r')).toBe('attachment-r');
  });
});

describe('notifications to one person', () => {
  const spec = specFor(notificationDecider);
  const sent: NotificationEvent = { type: 'NotificationSent', data: { notificationId: 'n1', recipientId: 'u', kind: 'task.due', title: { 'zh-CN': '到期', en: 'Due' } } };
  it('sends each notification once, marks it read once', () => {
    spec.given([]).when({ type: 'SendNotification', ...sent.data }).then([sent]);
    spec.given([sent]).when({ type: 'SendNotification', ...sent.data }).thenNothing();
    const read: NotificationEvent = { type: 'NotificationRead', data: { notificationId: 'n1', recipientId: 'u' } };
    spec.given([sent]).when({ type: 'MarkNotificationRead', recipientId: 'u', notificationId: 'n1' }).then([read]);
    spec.given([sent, read]).when({ type: 'MarkNotificationRead', recipientId: 'u', notificationId: 'n1' }).thenNothing();
    const unknown = spec.given([sent]).when({ type: 'MarkNotificationRead', recipientId: 'u', notificationId: 'n2' }).thenThrows('notification.not_found');
    expect(unknown.details).toEqual({ notificationId: 'n2' });
    expect([sent, read].reduce(notificationDecider.evolve, notificationDecider.initialState)).toEqual({ sent: { n1: { read: true } } });
    expect(notificationStream('u')).toBe('notification-u');
  });
});

describe('public links', () => {
  const spec = specFor(publicLinkDecider);
  const issued: PublicLinkEvent = { type: 'PublicLinkIssued', data: { linkId: 'l', purpose: 'quote', subjectId: 'q', expiresAt: '2026-12-01T00:00:00.000Z' } };
  const revoked: PublicLinkEvent = { type: 'PublicLinkRevoked', data: { linkId: 'l', reason: 'wrong person' } };
  it('issues once, revokes once; an unknown link is not found', () => {
    spec.given([]).when({ type: 'IssuePublicLink', ...issued.data }).then([issued]);
    spec.given([issued]).when({ type: 'IssuePublicLink', ...issued.data }).thenThrows('public_link.already_exists');
    spec.given([issued]).when({ type: 'RevokePublicLink', linkId: 'l', reason: 'wrong person' }).then([revoked]);
    spec.given([issued, revoked]).when({ type: 'RevokePublicLink', linkId: 'l', reason: 'again' }).thenNothing();
    expect(spec.given([]).when({ type: 'RevokePublicLink', linkId: 'l', reason: 'x' }).thenThrows('public_link.not_found').details).toEqual({ linkId: 'l' });
    expect(publicLinkDecider.evolve(publicLinkDecider.initialState, revoked)).toEqual({ status: 'none' });
    expect(publicLinkStream('l')).toBe('publiclink-l');
  });

  it('is open while issued, unrevoked and before it expires (the expiry instant itself is closed)', () => {
    const active = publicLinkDecider.evolve(publicLinkDecider.initialState, issued);
    expect(linkOpen(active, new Date('2026-11-30T23:59:59.999Z'))).toBe(true);
    expect(linkOpen(active, new Date('2026-12-01T00:00:00.000Z'))).toBe(false);
    expect(linkOpen(publicLinkDecider.evolve(active, revoked), new Date('2026-11-01T00:00:00.000Z'))).toBe(false);
    expect(linkOpen(publicLinkDecider.initialState, new Date('2026-11-01T00:00:00.000Z'))).toBe(false);
  });
});

describe('company settings', () => {
  it('take an IANA zone and an ISO 4217 currency, nothing else', () => {
    expect(CompanySettings.safeParse(DEFAULT_COMPANY).success).toBe(true);
    expect(CompanySettings.safeParse({ timeZone: 'Europe/Berlin', currency: 'EUR' }).success).toBe(true);
    expect(CompanySettings.safeParse({ timeZone: 'Mars/Olympus', currency: 'CNY' }).success).toBe(false);
    expect(CompanySettings.safeParse({ timeZone: 'Asia/Shanghai', currency: 'cny' }).success).toBe(false);
    expect(CompanySettings.safeParse({ ...DEFAULT_COMPANY, extra: 1 }).success).toBe(false);
  });

  it('a day is the calendar date in the company zone', () => {
    expect(localDate('2026-11-30T16:30:00.000Z', 'Asia/Shanghai')).toBe('2026-12-01');
    expect(localDate(new Date('2026-11-30T16:30:00.000Z'), 'UTC')).toBe('2026-11-30');
    expect(localDate('2026-11-30T16:30:00.000Z', 'America/Los_Angeles')).toBe('2026-11-30');
    expect(localDate('2026-12-01T07:30:00.000Z', 'America/Los_Angeles')).toBe('2026-11-30');
  });

  it('a day agrees with formatting each instant, across offsets of half and quarter hours and their changes', () => {
    const formats = new Map<string, Intl.DateTimeFormat>();
    const formatted = (ms: number, timeZone: string) => {
      if (!formats.has(timeZone)) formats.set(timeZone, new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }));
      return formats.get(timeZone)!.format(ms);
    };
    // Half- and quarter-hour offsets; Lord Howe moves its clocks by 30 minutes, so a UTC hour can hold a change of offset.
    const zones = ['Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'Australia/Lord_Howe', 'Europe/London', 'America/New_York', 'Asia/Shanghai'];
    const instants: number[] = [];
    // Every 37 minutes through 2026 (each minute of the hour in turn), and every minute of the days the clocks change.
    for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 37 * 60_000) instants.push(ms + 59_999 * (instants.length % 2));
    for (const day of [Date.UTC(2026, 3, 4, 12), Date.UTC(2026, 9, 3, 12), Date.UTC(2026, 2, 8), Date.UTC(2026, 10, 1), Date.UTC(2026, 2, 29)])
      for (let ms = day; ms < day + 30 * 3_600_000; ms += 60_000) instants.push(ms, ms + 59_999);
    for (const zone of zones) {
      const wrong = instants.filter((ms) => localDate(new Date(ms).toISOString(), zone) !== formatted(ms, zone)).slice(0, 3);
      expect(wrong.map((ms) => `${zone} ${new Date(ms).toISOString()}`)).toEqual([]);
    }
  });
});
