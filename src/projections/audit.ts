import { auditedCategories } from '../domain/categories.ts';
import type { RecordedEvent } from '../infra/eventstore/port.ts';
import type { Doc } from '../infra/readstore/port.ts';
import type { Projection } from './projection.ts';

export const AUDIT = 'audit';

/** The security-relevant event types: logins, accounts, roles and permissions, handovers, settings. */
export const auditedTypes = [
  'LoginSucceeded',
  'LoginFailed',
  'LoginUnlocked',
  'PasswordRehashed',
  'AccountOpened',
  'PasswordReset',
  'PasswordChanged',
  'EmployeeDisabled',
  'EmployeeEnabled',
  'EmployeeRolesAssigned',
  'EmployeeHired',
  'RoleCreated',
  'RoleChanged',
  'HandoverStarted',
  'HandoverCompleted',
  'SettingChanged',
  'ProjectionEventSkipped',
  'ProjectionRebuildRequested',
] as const;

export type AuditDoc = Doc & { type: string; actor: string; at: string; subject: string | null; data: Record<string, unknown>; position: number; correlationId: string };

const SECRET = /hash|password/i;
const withoutSecrets = (data: Record<string, unknown>) => Object.fromEntries(Object.entries(data).filter(([key]) => !SECRET.test(key)));
const subjectOf = (data: Record<string, unknown>) =>
  (['employeeId', 'roleId', 'handoverId', 'username', 'projection'] as const).map((k) => data[k]).find((v): v is string => typeof v === 'string') ?? null;

/** The security audit trail: one document per audited event (never a password or hash), newest first. */
export const auditProjection: Projection = {
  name: 'audit',
  version: 1,
  categories: auditedCategories,
  collections: [AUDIT],
  async setup(store) {
    await store.collection(AUDIT).createIndex({ type: 1 });
    await store.collection(AUDIT).createIndex({ actor: 1 });
  },
  async apply(event: RecordedEvent, store) {
    if (!(auditedTypes as readonly string[]).includes(event.type)) return;
    // Personal preferences and saved views are not security events.
    if (event.type === 'SettingChanged' && /^(preferences|views)\./.test(String((event.data as { key?: string }).key))) return;
    const data = withoutSecrets(event.data as Record<string, unknown>);
    const doc: AuditDoc = {
      _id: event.id,
      type: event.type,
      actor: event.metadata.actor,
      at: event.metadata.at,
      subject: subjectOf(data),
      data,
      position: Number(event.position),
      correlationId: event.metadata.correlationId,
    };
    await store.collection<AuditDoc>(AUDIT).replaceOne({ _id: event.id }, doc, { upsert: true });
  },
};
