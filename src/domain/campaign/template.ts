import { z } from 'zod';
import type { ResourceSpec } from '../customization/resources.ts';
import type { EventsOf } from '../shared/decider.ts';
import { DomainError } from '../shared/errors.ts';
import { ChangeSet, diffFields, withChanges } from '../shared/normalize.ts';

/** A text in the languages a mail goes out in: Chinese always, English when the template has it. */
const Localized = (max: number) =>
  z
    .object({ 'zh-CN': z.string().trim().min(1).max(max), en: z.string().trim().min(1).max(max).optional() })
    .strict()
    .describe('zh-CN, and en for recipients who read English');

/**
 * An email template (邮件模板): subject and HTML body in zh-CN (and en), with merge fields in Handlebars syntax
 * (`{{contact.name}}`, `{{customer.name}}`, `{{contact.custom.<key>}}`, `{{unsubscribeUrl}}`); the plain-text part
 * is generated from the HTML unless `text` is given.
 */
export const EmailTemplateFields = z.object({
  name: z.string().trim().min(1).max(200),
  subject: Localized(300),
  html: Localized(200_000),
  text: Localized(100_000).optional().describe('The plain-text part; generated from the HTML when absent'),
  description: z.string().trim().min(1).max(2000).optional(),
});
export type EmailTemplateFields = z.infer<typeof EmailTemplateFields>;

export const EmailTemplateCreated = z.object({ templateId: z.string(), fields: EmailTemplateFields });
export const EmailTemplateChanged = z.object({ templateId: z.string(), changes: ChangeSet });
export const EmailTemplateArchived = z.object({ templateId: z.string() });
export const EmailTemplateRestored = z.object({ templateId: z.string() });

export const emailTemplateEventSchemas = { EmailTemplateCreated, EmailTemplateChanged, EmailTemplateArchived, EmailTemplateRestored };
export type EmailTemplateEvent = EventsOf<typeof emailTemplateEventSchemas>;
export type EmailTemplateState = { status: 'none' } | { status: 'active' | 'archived'; templateId: string; fields: EmailTemplateFields };
export type EmailTemplateCommand =
  | { type: 'CreateEmailTemplate'; templateId: string; fields: EmailTemplateFields }
  | { type: 'ChangeEmailTemplate'; templateId: string; changes: Record<string, unknown> }
  | { type: 'ArchiveEmailTemplate'; templateId: string }
  | { type: 'RestoreEmailTemplate'; templateId: string };

export const initialState: EmailTemplateState = { status: 'none' };

export function evolve(state: EmailTemplateState, event: EmailTemplateEvent): EmailTemplateState {
  if (event.type === 'EmailTemplateCreated') return { status: 'active', templateId: event.data.templateId, fields: event.data.fields };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'EmailTemplateChanged':
      return withChanges(state, event.data.changes);
    case 'EmailTemplateArchived':
      return { ...state, status: 'archived' };
    case 'EmailTemplateRestored':
      return { ...state, status: 'active' };
  }
}

export function decide(command: EmailTemplateCommand, state: EmailTemplateState): EmailTemplateEvent[] {
  const { templateId } = command;
  if (command.type === 'CreateEmailTemplate') {
    if (state.status !== 'none') throw new DomainError('email_template.already_exists', `Email template ${templateId} already exists`, { templateId });
    return [{ type: 'EmailTemplateCreated', data: { templateId, fields: command.fields } }];
  }
  if (state.status === 'none') throw new DomainError('email_template.not_found', `Email template ${templateId} does not exist`, { templateId });
  switch (command.type) {
    case 'ChangeEmailTemplate': {
      if (state.status === 'archived') throw new DomainError('email_template.archived', 'An archived template cannot be changed; restore it first', { templateId });
      for (const field of ['name', 'subject', 'html'] as const) if (command.changes[field] === null) throw new DomainError('email_template.field_required', `${field} cannot be cleared`, { field });
      const changes = diffFields(state.fields, command.changes);
      return Object.keys(changes).length ? [{ type: 'EmailTemplateChanged', data: { templateId, changes } }] : [];
    }
    case 'ArchiveEmailTemplate':
      return state.status === 'archived' ? [] : [{ type: 'EmailTemplateArchived', data: { templateId } }];
    case 'RestoreEmailTemplate':
      return state.status === 'active' ? [] : [{ type: 'EmailTemplateRestored', data: { templateId } }];
  }
}

export const emailTemplateDecider = { initialState, evolve, decide };
export const emailTemplateCategory = 'emailTemplate';

const optional = (schema: z.ZodType) => schema.optional();

/** Email templates as a record type: company-wide, guarded by the campaigns permission. */
export const emailTemplateResource = {
  name: 'email-templates',
  singular: 'email_template',
  tag: 'Email templates 邮件模板',
  module: 'campaigns',
  category: emailTemplateCategory,
  decider: emailTemplateDecider,
  scope: { by: 'company' },
  referenceField: 'templateId',
  personalFields: [],
  standardFields: ['name', 'subject', 'html', 'text', 'description', 'status', 'createdAt', 'updatedAt'],
  relatedPanels: [],
  list: {
    filters: { q: optional(z.string().trim().min(1).max(200)), status: optional(z.enum(['active', 'archived'])) },
    sorts: ['name', 'createdAt', 'updatedAt'],
    defaultSort: 'name',
  },
  search: ['name'],
  attachments: false,
  events: emailTemplateEventSchemas,
  readModel: { version: 1, view: (state: Exclude<EmailTemplateState, { status: 'none' }>) => ({ ...state.fields, status: state.status }) },
} as const satisfies ResourceSpec;
