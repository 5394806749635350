import { z } from 'zod';
import { catalogResource } from '../customization/catalog-resource.ts';
import { catalogRecord } from '../shared/catalog.ts';

/**
 * An SMS template (短信模板) as Chinese SMS gateways take one: not free text but a template approved at the gateway
 * (`templateCode`), whose parameters the service fills per member from merge fields in Handlebars syntax
 * (`{"name": "{{contact.name}}"}`); `content` is the approved wording, for people reading the template here.
 */
export const SmsTemplateFields = z.object({
  name: z.string().trim().min(1).max(200),
  templateCode: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,64}$/, "The gateway's code of the approved template, e.g. SMS_123456789"),
  params: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,29}$/, 'A parameter name: letters, digits and _'), z.string().max(200))
    .refine((params) => Object.keys(params).length <= 20, 'At most 20 parameters')
    .default({})
    .describe('Each of the approved template\'s parameters, with its value: text with merge fields ({{contact.name}}, {{customer.name}}, {{campaign.name}})'),
  content: z.string().trim().min(1).max(500).optional().describe('The approved wording as the gateway shows it, e.g. "${name}您好，春季新品 8 折"'),
  signName: z.string().trim().min(1).max(20).optional().describe('The approved signature (签名); default SMS_SIGN_NAME'),
  description: z.string().trim().min(1).max(2000).optional(),
});
export type SmsTemplateFields = z.infer<typeof SmsTemplateFields>;

/** Its events (SmsTemplateCreated, …Changed, …Archived, …Restored) and decider: a catalog record's. */
const catalog = catalogRecord({ name: 'SmsTemplate', idField: 'templateId', code: 'sms_template', noun: 'SMS template', fields: SmsTemplateFields, required: ['name', 'templateCode'] });
export const smsTemplateEventSchemas = catalog.schemas;
export type SmsTemplateEvent = typeof catalog.types.event;
export type SmsTemplateState = typeof catalog.types.state;
export type SmsTemplateCommand = typeof catalog.types.command;
export const smsTemplateDecider = catalog.decider;
export const smsTemplateCategory = 'smsTemplate';

/** SMS templates as a record type: company-wide, guarded by the campaigns permission. */
export const smsTemplateResource = catalogResource({
  name: 'sms-templates',
  singular: 'sms_template',
  tag: 'SMS templates 短信模板',
  module: 'campaigns',
  category: smsTemplateCategory,
  decider: smsTemplateDecider,
  referenceField: 'smsTemplateId',
  standardFields: ['name', 'templateCode', 'params', 'content', 'signName', 'description'],
  events: smsTemplateEventSchemas,
});
