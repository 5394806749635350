import { z } from 'zod';
import { catalogResource } from '../customization/catalog-resource.ts';
import { catalogRecord } from '../shared/catalog.ts';

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

/** Its events (EmailTemplateCreated, …Changed, …Archived, …Restored) and decider: a catalog record's. */
const catalog = catalogRecord({ name: 'EmailTemplate', idField: 'templateId', code: 'email_template', noun: 'Email template', fields: EmailTemplateFields, required: ['name', 'subject', 'html'] });
export const emailTemplateEventSchemas = catalog.schemas;
export type EmailTemplateEvent = typeof catalog.types.event;
export type EmailTemplateState = typeof catalog.types.state;
export type EmailTemplateCommand = typeof catalog.types.command;
export const emailTemplateDecider = catalog.decider;
export const emailTemplateCategory = 'emailTemplate';

/** Email templates as a record type: company-wide, guarded by the campaigns permission. */
export const emailTemplateResource = catalogResource({
  name: 'email-templates',
  singular: 'email_template',
  tag: 'Email templates 邮件模板',
  module: 'campaigns',
  category: emailTemplateCategory,
  decider: emailTemplateDecider,
  referenceField: 'templateId',
  standardFields: ['name', 'subject', 'html', 'text', 'description'],
  events: emailTemplateEventSchemas,
});
