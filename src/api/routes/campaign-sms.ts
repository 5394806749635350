import { z } from 'zod';
import { smsTemplates } from '../../commands/campaign-mail.ts';
import { smsParamProblems } from '../../domain/campaign/render.ts';
import { SmsTemplateFields, type SmsTemplateState } from '../../domain/campaign/sms-template.ts';
import { fieldColumns } from '../csv.ts';
import { HttpProblem } from '../problem.ts';
import { recordAction, recordRoutes } from '../records.ts';
import { type AnyRoute, EmptyBody } from '../route.ts';

/** Parameters that do not compile are refused with the parameter and Handlebars' message. */
function assertParamsCompile(fields: Partial<SmsTemplateFields>): void {
  const problems = smsParamProblems(fields.params ?? {});
  if (problems.length) throw new HttpProblem(400, 'validation', 'Invalid request', `${problems.length} parameter${problems.length === 1 ? '' : 's'} of the template do not compile`, { errors: problems });
}

const SmsTemplateView = SmsTemplateFields.extend({ id: z.string(), revision: z.number().int(), status: z.enum(['active', 'archived']), createdAt: z.string(), updatedAt: z.string() }).meta({ id: 'SmsTemplate' });
const SmsTemplateInput = SmsTemplateFields.strict().meta({
  id: 'SmsTemplateInput',
  examples: [{ name: '春季新品短信', templateCode: 'SMS_123456789', params: { name: '{{contact.name}}', company: '{{customer.name}}' }, content: '${name}您好，${company}的春季新品 8 折，详询您的客户经理。' }],
});

/** SMS templates (短信模板): what an SMS campaign sends, a template approved at the gateway with its parameters filled per member. */
export const campaignSmsRoutes: AnyRoute[] = [
  ...recordRoutes<SmsTemplateState>({
    resource: 'sms-templates',
    view: SmsTemplateView,
    pageSchemaId: 'SmsTemplatePage',
    columns: fieldColumns('id', 'name', 'templateCode', 'status', 'createdAt', 'updatedAt'),
    asOfView: (state) => (state.status === 'none' ? {} : { ...state.fields, status: state.status }),
    create: {
      summary: "Create an SMS template: the gateway's approved template code and each parameter's value, with merge fields in Handlebars syntax ({{contact.name}}, {{customer.name}}, {{campaign.name}})",
      description: 'A parameter that does not compile is refused (400, naming `params.<name>`).',
      body: SmsTemplateInput,
      run: ({ body, actor, services, meta }) => {
        assertParamsCompile(body as SmsTemplateFields);
        return smsTemplates.create(services.deps, body as SmsTemplateFields, actor, meta);
      },
    },
    patch: {
      summary: 'Change an SMS template (a send fills the template as it was when the send started)',
      fields: SmsTemplateFields,
      schemaId: 'SmsTemplatePatch',
      run: ({ params, body, actor, services, meta }) => {
        assertParamsCompile(body as Partial<SmsTemplateFields>);
        return smsTemplates.change(services.deps, params.id, body, actor, meta);
      },
    },
    actions: [
      recordAction({ action: 'archive', summary: 'Archive an SMS template', body: EmptyBody, permission: 'delete', done: 'Archived', run: ({ params, actor, services, meta }) => smsTemplates.archive(services.deps, params.id, actor, meta) }),
      recordAction({ action: 'restore', summary: 'Restore an archived SMS template', body: EmptyBody, permission: 'delete', done: 'Restored', run: ({ params, actor, services, meta }) => smsTemplates.restore(services.deps, params.id, actor, meta) }),
    ],
  }),
];
