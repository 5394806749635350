import { FUNNEL } from '../../src/projections/opportunities.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/api/app.ts';
import { addContact } from '../../src/commands/contacts.ts';
import { saveImportTemplate } from '../../src/commands/import-templates.ts';
import { randomUUID } from 'node:crypto';
import { archiveCustomer, changeCustomer, registerCustomer, releaseCustomer } from '../../src/commands/customers.ts';
import { loadRecord } from '../../src/commands/references.ts';
import { applyInbound } from '../../src/integrations/erp/inbound.ts';
import { erpBridgeActor } from '../../src/integrations/erp/inbound-kinds.ts';
import { hireEmployee, systemActor, unlockLogins } from '../../src/commands/employees.ts';
import { startHandover } from '../../src/commands/handover.ts';
import { runMassChange, startMassChange } from '../../src/commands/mass-change.ts';
import { recordUpload } from '../../src/commands/imports.ts';
import { createRole } from '../../src/commands/org.ts';
import { createLead } from '../../src/commands/leads.ts';
import { createOpportunity, moveOpportunity } from '../../src/commands/opportunities.ts';
import { createProduct } from '../../src/commands/products.ts';
import { issuePublicLink } from '../../src/commands/public-links.ts';
import { notify } from '../../src/commands/notifications.ts';
import { addAttachment } from '../../src/commands/attachments.ts';
import { addCompetitor } from '../../src/commands/competitors.ts';
import { logActivity } from '../../src/commands/activities.ts';
import { createTask } from '../../src/commands/tasks.ts';
import { createPlan } from '../../src/commands/plans.ts';
import { openTicket } from '../../src/commands/tickets.ts';
import { draftExpenseClaim, setBudget } from '../../src/commands/expenses.ts';
import { setTarget } from '../../src/commands/targets.ts';
import { createCampaign } from '../../src/commands/campaigns.ts';
import { createEmailTemplate, smsTemplates } from '../../src/commands/campaign-mail.ts';
import { openApprovalRequest } from '../../src/commands/approvals.ts';
import { DEFAULT_SLA } from '../../src/domain/service/sla.ts';
import { DEFAULT_CALENDAR } from '../../src/domain/service/calendar.ts';
import { multipartFile } from '../support/multipart.ts';
import { confirmOrder, createOrder, createQuote, sendQuote } from '../../src/commands/documents.ts';
import { orderDecider } from '../../src/domain/order/index.ts';
import { fold } from '../../src/domain/shared/decider.ts';
import { defaultStages } from '../../src/domain/opportunity/index.ts';
import { type Action, type Module, roleTemplates } from '../../src/domain/role/index.ts';
import { type ResourceName, resourceNames, specOf } from '../../src/domain/customization/resources.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * The authorization matrix: every route × every built-in role × every relation between the caller and the
 * record's owner (own, same department, sub-department, other department). Each route states the permission it
 * needs and whether it is scoped to a record; the expected status follows from the role templates. A route that
 * forgets its permission or scope check answers 2xx where 403/404 is expected, and a new route without an entry
 * here fails the completeness test.
 */
type Role = 'admin' | 'manager' | 'salesperson' | 'auditor';
type Relation = 'own' | 'department' | 'sub_department' | 'other_department';
const roles: Role[] = ['admin', 'manager', 'salesperson', 'auditor'];
const relations: Relation[] = ['own', 'department', 'sub_department', 'other_department'];

interface Fixture {
  ownerId: string;
  customerId: string;
  contactId: string;
  actorId: string;
  departmentId: string;
  roleId: string;
  handoverId: string;
  leadId: string;
  opportunityId: string;
  productId: string;
  quoteId: string;
  orderId: string;
  orderLineId: string;
  competitorId: string;
  activityId: string;
  taskId: string;
  planId: string;
  ticketId: string;
  /** The owner's draft expense claim, and a budget of theirs. */
  expenseId: string;
  budgetId: string;
  targetId: string;
  campaignId: string;
  /** An email template (its registry name's singular is email_template). */
  email_templateId: string;
  sms_templateId: string;
  /** An approval of the owner's claim, waiting on someone else (the caller is never its approver). */
  approvalId: string;
  /** A public link to the (sent) quote, issued for the routes that need one. */
  linkId?: string;
  linkToken?: string;
  /** A notification to the caller, for the route that marks one read. */
  notificationId?: string;
  /** A file attached to the record the route names. */
  attachmentId?: string;
  /** The caller's report job (a report as of a past instant). */
  jobId?: string;
  /** A completed mass update the record's owner ran on it. */
  batchId?: string;
  /** A file the record's owner uploaded to import. */
  importId?: string;
  /** Another customer of the record's owner (a contact of its customer): a duplicate to merge into the record. */
  victimId?: string;
  conflictId?: string;
}

interface Entry {
  /** Permission the route needs (undefined: any authenticated caller). */
  needs?: [Module, Action];
  /** Whether the record's owner must be in the caller's data scope (else 404). */
  scoped?: boolean;
  /** A ticket's scope: its assignee's, and its queue's members' (the fixture queues it in its owner's department). */
  ticketScoped?: boolean;
  /** Status for an allowed caller. */
  ok: number | ((role: Role, relation: Relation) => number);
  /** Status when the record is out of scope (default 404). */
  outOfScope?: number;
  request(f: Fixture): { path: string; body?: unknown; raw?: Uint8Array; headers?: Record<string, string> };
  anonymous?: number;
}

const uuid = '01900000-0000-7000-8000-000000000000';
/** A day no plan of the caller's has yet (one plan per person and day). */
let planDays = 0;
const nextPlanDay = () => new Date(Date.UTC(2030, 0, 1) + planDays++ * 86_400_000).toISOString().slice(0, 10);
/** A month no budget of the caller's has yet (one per person, category and month). */
let budgetMonths = 0;
const nextBudgetMonth = () => new Date(Date.UTC(2040, budgetMonths++, 1)).toISOString().slice(0, 7);
const CNY = (amount: number) => ({ amount, currency: 'CNY' });
const range = 'from=2026-01-01&to=2027-01-01';
const matrix: Record<string, Entry> = {
  'POST /api/v1/auth/login': { ok: 200, anonymous: 200, request: () => ({ path: '/api/v1/auth/login', body: 'LOGIN' }) },
  'POST /api/v1/auth/change-password': { ok: 409, request: () => ({ path: '/api/v1/auth/change-password', body: { currentPassword: 'not-the-password', newPassword: 'another-password-1' } }) },
  'GET /api/v1/me': { ok: 200, request: () => ({ path: '/api/v1/me' }) },
  'POST /api/v1/departments': { needs: ['settings', 'create'], ok: 201, request: () => ({ path: '/api/v1/departments', body: { name: 'Matrix dept' } }) },
  'GET /api/v1/departments': { ok: 200, request: () => ({ path: '/api/v1/departments' }) },
  'GET /api/v1/departments/:id': { ok: 200, request: (f) => ({ path: `/api/v1/departments/${f.departmentId}` }) },
  'PATCH /api/v1/departments/:id': { needs: ['settings', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/departments/${f.departmentId}`, body: { name: 'Renamed' } }) },
  'POST /api/v1/employees': { needs: ['settings', 'create'], ok: 201, request: (f) => ({ path: '/api/v1/employees', body: { name: 'New hire', departmentId: f.departmentId } }) },
  'GET /api/v1/employees': { ok: 200, request: () => ({ path: '/api/v1/employees' }) },
  'GET /api/v1/employees/:id': { ok: 200, request: (f) => ({ path: `/api/v1/employees/${f.ownerId}` }) },
  'PATCH /api/v1/employees/:id': { needs: ['settings', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/employees/${f.ownerId}`, body: { title: 'Changed' } }) },
  'POST /api/v1/employees/:id/disable': { needs: ['settings', 'edit'], ok: (_role, relation) => (relation === 'own' ? 409 : 200), request: (f) => ({ path: `/api/v1/employees/${f.ownerId}/disable`, body: {} }) },
  'POST /api/v1/employees/:id/enable': { needs: ['settings', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/employees/${f.ownerId}/enable`, body: {} }) },
  'POST /api/v1/employees/:id/reset-password': {
    needs: ['security', 'edit'],
    ok: () => 409, // one's own password is changed, not reset; fixture owners other than the caller have no login
    request: (f) => ({ path: `/api/v1/employees/${f.ownerId}/reset-password`, body: { newPassword: 'reset-password-1' } }),
  },
  'POST /api/v1/employees/:id/unlock': {
    needs: ['security', 'edit'],
    ok: (_role, relation) => (relation === 'own' ? 200 : 409), // fixture owners other than the caller have no login
    request: (f) => ({ path: `/api/v1/employees/${f.ownerId}/unlock`, body: {} }),
  },
  'POST /api/v1/employees/:id/handover': {
    needs: ['customers', 'assign'],
    scoped: true,
    ok: (_role, relation) => (relation === 'own' ? 409 : 202),
    request: (f) => ({ path: `/api/v1/employees/${f.ownerId}/handover`, body: { toEmployeeId: f.actorId } }),
  },
  'GET /api/v1/batches': { ok: 200, request: () => ({ path: '/api/v1/batches' }) },
  'GET /api/v1/batches/:id': { scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/batches/${f.batchId}` }) },
  'POST /api/v1/batches/:id/undo': { needs: ['customers', 'edit'], scoped: true, ok: 202, request: (f) => ({ path: `/api/v1/batches/${f.batchId}/undo`, body: {} }) },
  'POST /api/v1/imports': { needs: ['imports', 'create'], ok: 201, request: () => ({ path: '/api/v1/imports', ...multipartFile('matrix.csv', '客户名称\nMatrix import\n', 'file', 'text/csv', { resource: 'customers' }) }) },
  'POST /api/v1/imports/:id/dry-run': { needs: ['imports', 'create'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/imports/${f.importId}/dry-run`, body: { mapping: { 客户名称: 'name' } } }) },
  'POST /api/v1/imports/:id/run': { needs: ['imports', 'create'], scoped: true, ok: 202, request: (f) => ({ path: `/api/v1/imports/${f.importId}/run`, body: { mapping: { 客户名称: 'name' } } }) },
  'GET /api/v1/imports/:id/errors': { needs: ['imports', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/imports/${f.importId}/errors` }) },
  'GET /api/v1/imports/:id': { needs: ['imports', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/imports/${f.importId}` }) },
  'GET /api/v1/customers/duplicate-candidates': { needs: ['customers', 'view'], ok: 200, request: () => ({ path: '/api/v1/customers/duplicate-candidates' }) },
  'GET /api/v1/import-templates': { needs: ['imports', 'view'], ok: 200, request: () => ({ path: '/api/v1/import-templates' }) },
  'PUT /api/v1/import-templates/:resource/:name': { needs: ['imports', 'create'], ok: 200, request: () => ({ path: '/api/v1/import-templates/customers/matrix', body: { mapping: { 客户名称: 'name' } } }) },
  'DELETE /api/v1/import-templates/:resource/:name': { needs: ['imports', 'create'], ok: 204, request: () => ({ path: '/api/v1/import-templates/customers/matrix' }) },
  'POST /api/v1/contacts/:survivorId/merge': { needs: ['contacts', 'edit'], scoped: true, ok: 202, request: (f) => ({ path: `/api/v1/contacts/${f.contactId}/merge`, body: { victimIds: [f.victimId] } }) },
  'GET /api/v1/integrations/erp/schema': { needs: ['integrations', 'view'], ok: 200, request: () => ({ path: '/api/v1/integrations/erp/schema' }) },
  'GET /api/v1/settings/erp': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/erp' }) },
  'PUT /api/v1/settings/erp': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/erp', body: { defaultOwnerId: null } }) },
  'POST /api/v1/integrations/erp/inbound': { needs: ['integrations', 'create'], ok: 200, request: () => ({ path: '/api/v1/integrations/erp/inbound', body: { messages: [{ topic: 'erp.product', value: { erpCode: 'MATRIX-1', erpVersion: 1, name: 'Matrix', unit: '台', standardPrice: { amount: 1, currency: 'CNY' }, taxRate: 13 } }] } }) },
  'GET /api/v1/integrations/erp/outbound': { needs: ['integrations', 'export'], ok: 200, request: () => ({ path: '/api/v1/integrations/erp/outbound' }) },
  'GET /api/v1/integrations/erp/reconciliation': { needs: ['integrations', 'view'], ok: 200, request: () => ({ path: '/api/v1/integrations/erp/reconciliation' }) },
  'GET /api/v1/integrations/erp/status': { needs: ['integrations', 'view'], ok: 200, request: () => ({ path: '/api/v1/integrations/erp/status' }) },
  'GET /api/v1/integrations/erp/conflicts': { needs: ['integrations', 'view'], ok: 200, request: () => ({ path: '/api/v1/integrations/erp/conflicts' }) },
  'POST /api/v1/integrations/erp/conflicts/:id/resolve': { needs: ['integrations', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/integrations/erp/conflicts/${f.conflictId}/resolve`, body: { take: 'crm' } }) },
  'POST /api/v1/customers/:survivorId/merge': { needs: ['customers', 'edit'], scoped: true, ok: 202, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/merge`, body: { victimIds: [f.victimId] } }) },
  'POST /api/v1/customers/bulk': { needs: ['customers', 'edit'], ok: 202, request: () => ({ path: '/api/v1/customers/bulk', body: { filter: { industry: 'Nobody has this' }, set: { level: 'B' } } }) },
  'GET /api/v1/handovers/:id': { needs: ['customers', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/handovers/${f.handoverId}` }) },
  'GET /api/v1/admin/status': { needs: ['security', 'view'], ok: 200, request: () => ({ path: '/api/v1/admin/status' }) },
  'GET /api/v1/admin/projections': { needs: ['security', 'view'], ok: 200, request: () => ({ path: '/api/v1/admin/projections' }) },
  // No projection has stopped: there is nothing to skip (409), which only an administrator learns.
  'POST /api/v1/admin/projections/:name/skip-event': { needs: ['security', 'edit'], ok: 409, request: () => ({ path: '/api/v1/admin/projections/orders/skip-event', body: { eventId: uuid } }) },
  'POST /api/v1/admin/projections/:name/rebuild': { needs: ['security', 'edit'], ok: 202, request: () => ({ path: '/api/v1/admin/projections/products/rebuild', body: {} }) },
  'GET /api/v1/audit': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/audit' }) },
  'GET /api/v1/audit/verify': { needs: ['audit', 'view'], ok: 200, request: () => ({ path: '/api/v1/audit/verify' }) },
  'GET /api/v1/customers/:id/dossier': { needs: ['audit', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/dossier` }) },
  'GET /api/v1/audit/access': { needs: ['audit', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/audit/access?recordId=${f.customerId}&at=${encodeURIComponent(new Date().toISOString())}` }) },
  'GET /api/v1/customers/duplicates': { needs: ['customers', 'view'], ok: 200, request: () => ({ path: '/api/v1/customers/duplicates?name=Matrix' }) },
  'GET /api/v1/customer-pool': { needs: ['customers', 'view'], ok: 200, request: () => ({ path: '/api/v1/customer-pool' }) },
  'POST /api/v1/customers/:id/release': { needs: ['customers', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/release`, body: {} }) },
  'POST /api/v1/customers/:id/claim': { needs: ['customers', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/claim`, body: {} }) },
  'GET /api/v1/settings/customer-pool': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/customer-pool' }) },
  'PUT /api/v1/settings/customer-pool': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/customer-pool', body: { autoReturnDays: null } }) },
  'POST /api/v1/settings/customer-pool/run': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/customer-pool/run', body: {} }) },
  'POST /api/v1/customers': { needs: ['customers', 'create'], ok: 201, request: () => ({ path: '/api/v1/customers', body: { name: `Matrix new ${Math.random()}` } }) },
  'PATCH /api/v1/customers/:id': { needs: ['customers', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}`, body: { industry: 'Matrix' } }) },
  'POST /api/v1/customers/:id/assign': { needs: ['customers', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/assign`, body: { ownerId: f.actorId } }) },
  'POST /api/v1/customers/:id/archive': { needs: ['customers', 'delete'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/archive`, body: {} }) },
  'POST /api/v1/customers/:id/restore': { needs: ['customers', 'delete'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/restore`, body: {} }) },
  'POST /api/v1/contacts': { needs: ['contacts', 'create'], scoped: true, ok: 201, request: (f) => ({ path: '/api/v1/contacts', body: { customerId: f.customerId, name: 'Matrix contact' } }) },
  'PATCH /api/v1/contacts/:id': { needs: ['contacts', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/contacts/${f.contactId}`, body: { title: 'Matrix' } }) },
  'DELETE /api/v1/contacts/:id': { needs: ['contacts', 'delete'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/contacts/${f.contactId}` }) },
  'POST /api/v1/contacts/:id/erase': { needs: ['personalData', 'delete'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/contacts/${f.contactId}/erase`, body: {} }) },
  'GET /api/v1/personal-data/keys/:subjectId': { needs: ['personalData', 'export'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/personal-data/keys/contact-${f.contactId}` }) },
  'POST /api/v1/roles': { needs: ['security', 'create'], ok: 201, request: () => ({ path: '/api/v1/roles', body: { name: 'Matrix role', permissions: {}, dataScope: 'own' } }) },
  'GET /api/v1/roles': { ok: 200, request: () => ({ path: '/api/v1/roles' }) },
  'GET /api/v1/roles/:id': { ok: 200, request: (f) => ({ path: `/api/v1/roles/${f.roleId}` }) },
  'POST /api/v1/settings/fields/:resource': {
    needs: ['settings', 'create'],
    ok: 201,
    request: () => ({ path: '/api/v1/settings/fields/customers', body: { key: `m${Math.random().toString(36).slice(2, 10)}`, label: { 'zh-CN': '字段', en: 'Field' }, type: 'text' } }),
  },
  'GET /api/v1/settings/fields/:resource': { ok: 200, request: () => ({ path: '/api/v1/settings/fields/contacts' }) },
  'GET /api/v1/settings/fields/:resource/:key': { ok: 200, request: () => ({ path: '/api/v1/settings/fields/customers/matrixField' }) },
  'PATCH /api/v1/settings/fields/:resource/:key': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/fields/customers/matrixField', body: { label: { 'zh-CN': '矩阵', en: `Matrix ${Math.random()}` } } }) },
  'POST /api/v1/settings/fields/:resource/:key/retire': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/fields/customers/retiredField/retire', body: {} }) },
  'GET /api/v1/settings/layouts/:resource/:kind': { ok: 200, request: () => ({ path: '/api/v1/settings/layouts/customers/edit' }) },
  'PUT /api/v1/settings/layouts/:resource/:kind': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/layouts/customers/view', body: { sections: [{ title: 'Main', fields: ['name'] }] } }) },
  'GET /api/v1/settings/views/:resource': { ok: 200, request: () => ({ path: '/api/v1/settings/views/contacts' }) },
  'PUT /api/v1/settings/views/:resource': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/views/contacts', body: { columns: ['name', 'mobile'] } }) },
  'GET /api/v1/settings/related/:resource': { ok: 200, request: () => ({ path: '/api/v1/settings/related/customers' }) },
  'PUT /api/v1/settings/related/:resource': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/related/customers', body: { panels: [{ key: 'contacts', limit: 5 }] } }) },
  'GET /api/v1/me/views/:resource': { ok: 200, request: () => ({ path: '/api/v1/me/views/customers' }) },
  'POST /api/v1/me/views/:resource': { ok: 201, request: () => ({ path: '/api/v1/me/views/customers', body: { name: `View ${Math.random()}`, filter: { industry: 'X' } } }) },
  'PUT /api/v1/me/views/:resource/:viewId': { ok: 404, request: () => ({ path: `/api/v1/me/views/customers/${uuid}`, body: { name: 'Nope' } }) },
  'DELETE /api/v1/me/views/:resource/:viewId': { ok: 404, request: () => ({ path: `/api/v1/me/views/customers/${uuid}` }) },
  'GET /api/v1/me/preferences': { ok: 200, request: () => ({ path: '/api/v1/me/preferences' }) },
  'PUT /api/v1/me/preferences': { ok: 200, request: () => ({ path: '/api/v1/me/preferences', body: { language: 'en', timezone: 'Europe/Berlin', pageSize: 20, theme: 'dark' } }) },
  'GET /api/v1/customers/:id/related': { needs: ['customers', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/related` }) },
  'POST /api/v1/products': { needs: ['products', 'create'], ok: 201, request: () => ({ path: '/api/v1/products', body: { code: `P${Math.random().toString(36).slice(2, 10)}`, name: 'Pump', unit: '台', standardPrice: { amount: 100, currency: 'CNY' }, taxRate: 13 } }) },
  'PATCH /api/v1/products/:id': { needs: ['products', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/products/${f.productId}`, body: { name: 'Pump 2' } }) },
  'POST /api/v1/leads': { needs: ['leads', 'create'], ok: 201, request: () => ({ path: '/api/v1/leads', body: { company: 'Lead Co', person: 'Lead Person' } }) },
  'PATCH /api/v1/leads/:id': { needs: ['leads', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/leads/${f.leadId}`, body: { notes: 'x' } }) },
  'POST /api/v1/leads/:id/work': { needs: ['leads', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/leads/${f.leadId}/work`, body: {} }) },
  'POST /api/v1/leads/:id/qualify': { needs: ['leads', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/leads/${f.leadId}/qualify`, body: {} }) },
  'POST /api/v1/leads/:id/disqualify': { needs: ['leads', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/leads/${f.leadId}/disqualify`, body: { reason: 'no budget' } }) },
  'POST /api/v1/leads/:id/assign': { needs: ['leads', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/leads/${f.leadId}/assign`, body: { ownerId: f.actorId } }) },
  'POST /api/v1/leads/:id/convert': { needs: ['leads', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/leads/${f.leadId}/convert`, body: {} }) },
  'GET /api/v1/settings/opportunity-stages': { ok: 200, request: () => ({ path: '/api/v1/settings/opportunity-stages' }) },
  'PUT /api/v1/settings/opportunity-stages': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/opportunity-stages', body: { items: defaultStages } }) },
  'POST /api/v1/opportunities': {
    needs: ['opportunities', 'create'],
    scoped: true,
    ok: 201,
    request: (f) => ({ path: '/api/v1/opportunities', body: { name: 'Deal', customerId: f.customerId, amount: { amount: 100000, currency: 'CNY' }, expectedCloseDate: '2026-12-31' } }),
  },
  'PATCH /api/v1/opportunities/:id': { needs: ['opportunities', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}`, body: { notes: 'x' } }) },
  'POST /api/v1/opportunities/:id/stage': { needs: ['opportunities', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}/stage`, body: { stage: 'proposal' } }) },
  'POST /api/v1/opportunities/:id/win': { needs: ['opportunities', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}/win`, body: {} }) },
  'POST /api/v1/opportunities/:id/lose': { needs: ['opportunities', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}/lose`, body: { reason: 'price' } }) },
  'POST /api/v1/opportunities/:id/reopen': { needs: ['opportunities', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}/reopen`, body: {} }) },
  'POST /api/v1/opportunities/:id/assign': { needs: ['opportunities', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}/assign`, body: { ownerId: f.actorId } }) },
  'GET /api/v1/reports/funnel': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/funnel?from=2026-01-01&to=2027-01-01' }) },
  'GET /api/v1/settings/member-levels': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/member-levels' }) },
  'PUT /api/v1/settings/member-levels': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/member-levels', body: { basis: 'orders', windowMonths: 12, levels: [] } }) },
  'GET /api/v1/settings/daily-digest': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/daily-digest' }) },
  'PUT /api/v1/settings/daily-digest': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/daily-digest', body: { enabled: true, time: '07:30' } }) },
  'GET /api/v1/settings/report-mail': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/report-mail' }) },
  'PUT /api/v1/settings/report-mail': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/report-mail', body: { schedules: [] } }) },
  'GET /api/v1/reports/forecast': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/forecast?from=2026-01-01&to=2027-01-01' }) },
  'GET /api/v1/reports/as-of/:jobId': { needs: ['reports', 'view'], ok: 200, request: (f) => ({ path: `/api/v1/reports/as-of/${f.jobId ?? uuid}` }) },
  'GET /api/v1/reports/kpi': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/kpi?from=2026-01-01&to=2027-01-01&groupBy=month' }) },
  'GET /api/v1/dashboard/team': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/dashboard/team?from=2026-01-01&to=2027-01-01' }) },
  'GET /api/v1/reports/time-in-stage': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/time-in-stage?from=2026-01-01&to=2027-01-01' }) },
  'POST /api/v1/quotes': {
    needs: ['quotes', 'create'],
    scoped: true,
    ok: 201,
    request: (f) => ({ path: '/api/v1/quotes', body: { customerId: f.customerId, validUntil: '2099-12-31', lines: [{ productId: f.productId, quantity: 1 }] } }),
  },
  'POST /api/v1/quotes/:id/revise': { needs: ['quotes', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/revise`, body: { validUntil: '2099-12-31', lines: [{ productId: f.productId, quantity: 2 }] } }) },
  // The fixture quote gives no discount: there is nothing to approve (409 quote.approval_not_needed), learnt only in scope.
  'POST /api/v1/quotes/:id/request-approval': { needs: ['quotes', 'edit'], scoped: true, ok: 409, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/request-approval`, body: {} }) },
  'POST /api/v1/quotes/:id/send': { needs: ['quotes', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/send`, body: {} }) },
  'POST /api/v1/quotes/:id/reject': { needs: ['quotes', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/reject`, body: { reason: 'price' } }) },
  'POST /api/v1/quotes/:id/share': { needs: ['quotes', 'edit'], scoped: true, ok: 201, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/share`, body: {} }) },
  'POST /api/v1/public-links/:id/revoke': { needs: ['quotes', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/public-links/${f.linkId ?? uuid}/revoke`, body: { reason: 'sent to the wrong person' } }) },
  // Public: anyone holding an open link reads the quote, with or without a token; a malformed token is a 400.
  'GET /api/v1/public/quotes/:token': { ok: 200, anonymous: 400, request: (f) => ({ path: `/api/v1/public/quotes/${f.linkToken ?? 'not-a-token'}` }) },
  'GET /api/v1/settings/company': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/company' }) },
  'PUT /api/v1/settings/company': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/company', body: { timeZone: 'Asia/Shanghai', currency: 'CNY' } }) },
  'GET /api/v1/me/notifications': { ok: 200, request: () => ({ path: '/api/v1/me/notifications' }) },
  'POST /api/v1/me/notifications/:id/read': { ok: 200, request: (f) => ({ path: `/api/v1/me/notifications/${f.notificationId ?? uuid}/read`, body: {} }) },
  'GET /api/v1/me/notifications/stream': { ok: 200, request: () => ({ path: '/api/v1/me/notifications/stream' }) },
  'POST /api/v1/quotes/:id/accept': { needs: ['orders', 'create'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/accept`, body: {} }) },
  'POST /api/v1/quotes/:id/assign': { needs: ['quotes', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/quotes/${f.quoteId}/assign`, body: { ownerId: f.actorId } }) },
  'POST /api/v1/orders': {
    needs: ['orders', 'create'],
    scoped: true,
    ok: 201,
    request: (f) => ({ path: '/api/v1/orders', body: { customerId: f.customerId, lines: [{ productId: f.productId, quantity: 1 }] } }),
  },
  'POST /api/v1/orders/:id/confirm': { needs: ['orders', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/confirm`, body: {} }) },
  // The fixture's customer has no credit limit: nothing to approve (409 order.approval_not_needed).
  'POST /api/v1/orders/:id/request-approval': { needs: ['orders', 'edit'], scoped: true, ok: 409, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/request-approval`, body: {} }) },
  'POST /api/v1/orders/:id/cancel': { needs: ['orders', 'delete'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/cancel`, body: { reason: 'duplicate' } }) },
  'POST /api/v1/orders/:id/shipments': { needs: ['orders', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/shipments`, body: { shippedAt: '2026-11-20T00:00:00Z', lines: [{ lineId: f.orderLineId, quantity: 1 }] } }) },
  'POST /api/v1/orders/:id/payments': { needs: ['orders', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/payments`, body: { amount: { amount: 1, currency: 'CNY' }, receivedAt: '2026-11-20T00:00:00Z', method: 'cash' } }) },
  'POST /api/v1/orders/:id/assign': { needs: ['orders', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/assign`, body: { ownerId: f.actorId } }) },
  'GET /api/v1/reports/receivables': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/receivables' }) },
  'GET /api/v1/reports/ranking': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/ranking?period=2026-11' }) },
  'POST /api/v1/competitors': { needs: ['opportunities', 'create'], ok: 201, request: () => ({ path: '/api/v1/competitors', body: { name: `Matrix rival ${Math.random()}` } }) },
  'PATCH /api/v1/competitors/:id': { needs: ['opportunities', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/competitors/${f.competitorId}`, body: { strengths: 'Matrix' } }) },
  'POST /api/v1/competitors/:id/archive': { needs: ['opportunities', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/competitors/${f.competitorId}/archive`, body: {} }) },
  'POST /api/v1/competitors/:id/restore': { needs: ['opportunities', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/competitors/${f.competitorId}/restore`, body: {} }) },
  'GET /api/v1/me/agenda': { ok: 200, request: () => ({ path: '/api/v1/me/agenda' }) },
  'POST /api/v1/me/agenda-feed': { ok: 201, request: () => ({ path: '/api/v1/me/agenda-feed', body: {} }) },
  // A token nobody issued: 404 for everyone, with or without a bearer token (the feed's token is its key).
  'GET /api/v1/public/calendar/:feedToken': { ok: 404, anonymous: 404, request: () => ({ path: `/api/v1/public/calendar/${'x'.repeat(48)}` }) },
  'GET /api/v1/contacts/stale': { needs: ['contacts', 'view'], ok: 200, request: () => ({ path: '/api/v1/contacts/stale?days=30' }) },
  'GET /api/v1/activities/kinds': { needs: ['activities', 'view'], ok: 200, request: () => ({ path: '/api/v1/activities/kinds' }) },
  'POST /api/v1/activities': { needs: ['activities', 'create'], scoped: true, ok: 201, request: (f) => ({ path: '/api/v1/activities', body: { kind: 'call', customerId: f.customerId, occurredAt: '2026-11-30T01:00:00Z', summary: 'Matrix call' } }) },
  'PATCH /api/v1/activities/:id': { needs: ['activities', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/activities/${f.activityId}`, body: { outcome: 'Matrix' } }) },
  'DELETE /api/v1/activities/:id': { needs: ['activities', 'delete'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/activities/${f.activityId}` }) },
  'GET /api/v1/customers/:id/activities': { needs: ['activities', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/customers/${f.customerId}/activities` }) },
  'GET /api/v1/contacts/:id/activities': { needs: ['activities', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/contacts/${f.contactId}/activities` }) },
  'GET /api/v1/opportunities/:id/activities': { needs: ['activities', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/opportunities/${f.opportunityId}/activities` }) },
  'GET /api/v1/settings/activity-kinds': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/activity-kinds' }) },
  'PUT /api/v1/settings/activity-kinds': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/activity-kinds', body: { kinds: [] } }) },
  'POST /api/v1/plans': { needs: ['plans', 'create'], ok: 201, request: () => ({ path: '/api/v1/plans', body: { period: 'day', date: nextPlanDay(), items: [{ text: 'Matrix' }] } }) },
  'PATCH /api/v1/plans/:id': { needs: ['plans', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/plans/${f.planId}`, body: { items: [{ text: 'Changed', status: 'done' }] } }) },
  'POST /api/v1/plans/:id/comments': { needs: ['plans', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/plans/${f.planId}/comments`, body: { text: 'Matrix comment' } }) },
  'POST /api/v1/tasks': { needs: ['tasks', 'create'], ok: 201, request: () => ({ path: '/api/v1/tasks', body: { subject: 'Matrix task', dueAt: '2099-01-01T00:00:00Z' } }) },
  'PATCH /api/v1/tasks/:id': { needs: ['tasks', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tasks/${f.taskId}`, body: { priority: 'high' } }) },
  'POST /api/v1/tasks/:id/done': { needs: ['tasks', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tasks/${f.taskId}/done`, body: {} }) },
  'POST /api/v1/tasks/:id/cancel': { needs: ['tasks', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tasks/${f.taskId}/cancel`, body: {} }) },
  'POST /api/v1/tasks/:id/snooze': { needs: ['tasks', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tasks/${f.taskId}/snooze`, body: { until: '2099-01-01T00:00:00Z' } }) },
  'POST /api/v1/tasks/:id/assign': { needs: ['tasks', 'assign'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tasks/${f.taskId}/assign`, body: { assigneeId: f.actorId } }) },
  'GET /api/v1/tickets/types': { needs: ['tickets', 'view'], ok: 200, request: () => ({ path: '/api/v1/tickets/types' }) },
  'POST /api/v1/tickets': {
    needs: ['tickets', 'create'],
    scoped: true,
    ok: 201,
    request: (f) => ({ path: '/api/v1/tickets', body: { type: 'repair', channel: 'phone', priority: 'normal', customerId: f.customerId, subject: 'Matrix ticket', description: 'Matrix' } }),
  },
  'PATCH /api/v1/tickets/:id': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}`, body: { priority: 'high' } }) },
  'POST /api/v1/tickets/:id/assign': { needs: ['tickets', 'assign'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/assign`, body: { departmentId: f.departmentId } }) },
  'POST /api/v1/tickets/:id/start': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/start`, body: {} }) },
  'POST /api/v1/tickets/:id/wait': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/wait`, body: { note: 'Matrix' } }) },
  'POST /api/v1/tickets/:id/resolve': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/resolve`, body: { resolution: 'Matrix' } }) },
  // The fixture's ticket is not resolved: closing and reopening it are refused (409), which only those who may act learn.
  'POST /api/v1/tickets/:id/close': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 409, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/close`, body: {} }) },
  'POST /api/v1/tickets/:id/reopen': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 409, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/reopen`, body: { reason: 'Matrix' } }) },
  'POST /api/v1/tickets/:id/notes': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/notes`, body: { text: 'Matrix', visibility: 'customer' } }) },
  'POST /api/v1/tickets/:id/work': { needs: ['tickets', 'edit'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/work`, body: { minutes: 15, kind: 'remote' } }) },
  'GET /api/v1/tickets/:id/sla': { needs: ['tickets', 'view'], ticketScoped: true, ok: 200, request: (f) => ({ path: `/api/v1/tickets/${f.ticketId}/sla` }) },
  // A survey token nobody issued: 404 for everyone, with or without a bearer token (the link is the key); the
  // sweep without a token sends an empty answer, refused first (400).
  'GET /api/v1/public/surveys/:token': { ok: 404, anonymous: 404, request: () => ({ path: `/api/v1/public/surveys/${'x'.repeat(48)}` }) },
  'POST /api/v1/public/surveys/:token': { ok: 404, anonymous: 400, request: () => ({ path: `/api/v1/public/surveys/${'x'.repeat(48)}`, body: { score: 3 } }) },
  'GET /api/v1/contacts/:id/related': { needs: ['contacts', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/contacts/${f.contactId}/related` }) },
  'GET /api/v1/orders/:id/related': { needs: ['orders', 'view'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/orders/${f.orderId}/related` }) },
  'GET /api/v1/reports/service': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/service?from=2026-01-01&to=2027-01-01&groupBy=customer' }) },
  'POST /api/v1/settings/approval-policies': {
    needs: ['settings', 'create'],
    ok: 201,
    request: () => ({ path: '/api/v1/settings/approval-policies', body: { name: `Matrix policy ${Math.random()}`, kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }] } }),
  },
  'GET /api/v1/settings/approval-policies': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/approval-policies' }) },
  // A policy nobody defined: 404 for those who may look.
  'GET /api/v1/settings/approval-policies/:id': { needs: ['settings', 'view'], ok: 404, request: () => ({ path: `/api/v1/settings/approval-policies/${uuid}` }) },
  'PUT /api/v1/settings/approval-policies/:id': { needs: ['settings', 'edit'], ok: 404, request: () => ({ path: `/api/v1/settings/approval-policies/${uuid}`, body: { name: 'Matrix', kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }] } }) },
  'DELETE /api/v1/settings/approval-policies/:id': { needs: ['settings', 'delete'], ok: 404, request: () => ({ path: `/api/v1/settings/approval-policies/${uuid}` }) },
  'GET /api/v1/me/delegation': { ok: 200, request: () => ({ path: '/api/v1/me/delegation' }) },
  'GET /api/v1/me/approvals': { ok: 200, request: () => ({ path: '/api/v1/me/approvals' }) },
  'GET /api/v1/approvals': { needs: ['approvals', 'view'], ok: 200, request: () => ({ path: '/api/v1/approvals' }) },
  // The submitter, the approvers and whoever's scope covers the submitter see an approval.
  'GET /api/v1/approvals/:id': { scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/approvals/${f.approvalId}` }) },
  // The caller is the submitter (own: approval.own_document) or not the approver (approval.not_approver): 409, learnt only in scope.
  'POST /api/v1/approvals/:id/approve': { scoped: true, ok: 409, request: (f) => ({ path: `/api/v1/approvals/${f.approvalId}/approve`, body: {} }) },
  'POST /api/v1/approvals/:id/reject': { scoped: true, ok: 409, request: (f) => ({ path: `/api/v1/approvals/${f.approvalId}/reject`, body: { comment: 'Matrix' } }) },
  'GET /api/v1/settings/ranking': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/ranking' }) },
  'PUT /api/v1/settings/ranking': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/ranking', body: { peers: 'none' } }) },
  'GET /api/v1/settings/approvals': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/approvals' }) },
  'PUT /api/v1/settings/approvals': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/approvals', body: { reminderBusinessHours: 8 } }) },
  'GET /api/v1/expenses/categories': { needs: ['expenses', 'view'], ok: 200, request: () => ({ path: '/api/v1/expenses/categories' }) },
  'POST /api/v1/expenses': { needs: ['expenses', 'create'], ok: 201, request: () => ({ path: '/api/v1/expenses', body: { lines: [{ category: 'travel', amount: CNY(5000), date: '2026-11-20', description: 'Matrix taxi' }] } }) },
  'PATCH /api/v1/expenses/:id': { needs: ['expenses', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/expenses/${f.expenseId}`, body: { title: 'Matrix trip' } }) },
  // Only the claimant submits (others: 409 expense.not_claimant); the claimant's is refused too, as every expense
  // claim needs its claimant's manager's approval (a policy defined before) and the fixture's departments name none
  // (409 approval.no_approver): both learnt only in scope.
  'POST /api/v1/expenses/:id/submit': { needs: ['expenses', 'edit'], scoped: true, ok: 409, request: (f) => ({ path: `/api/v1/expenses/${f.expenseId}/submit`, body: {} }) },
  'POST /api/v1/expenses/:id/recall': { needs: ['expenses', 'edit'], scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/expenses/${f.expenseId}/recall`, body: {} }) },
  // A draft is not paid (409 expense.not_approved).
  'POST /api/v1/expenses/:id/pay': { needs: ['expenses', 'approve'], scoped: true, ok: 409, request: (f) => ({ path: `/api/v1/expenses/${f.expenseId}/pay`, body: {} }) },
  'GET /api/v1/settings/expense-categories': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/expense-categories' }) },
  'PUT /api/v1/settings/expense-categories': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/expense-categories', body: { categories: [] } }) },
  'GET /api/v1/settings/expenses': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/expenses' }) },
  'PUT /api/v1/settings/expenses': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/expenses', body: { receiptRequiredOver: CNY(20_000) } }) },
  'POST /api/v1/budgets': { needs: ['budgets', 'create'], ok: 201, request: (f) => ({ path: '/api/v1/budgets', body: { employeeId: f.ownerId, category: 'travel', month: nextBudgetMonth(), amount: CNY(100_000) } }) },
  'PATCH /api/v1/budgets/:id': { needs: ['budgets', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/budgets/${f.budgetId}`, body: { amount: CNY(200_000) } }) },
  'DELETE /api/v1/budgets/:id': { needs: ['budgets', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/budgets/${f.budgetId}` }) },
  'GET /api/v1/read-models': { needs: ['analytics', 'query'], ok: 200, request: () => ({ path: '/api/v1/read-models' }) },
  // An analyst's query reads a record type's read model: analytics:query and view on that type's module.
  'POST /api/v1/analytics/query': { needs: ['analytics', 'query'], ok: (role) => (allowed(role, ['customers', 'view']) ? 200 : 403), request: (f) => ({ path: '/api/v1/analytics/query', body: { collection: 'customers', pipeline: [{ $match: { _id: f.customerId } }, { $count: 'n' }] } }) },
  'GET /api/v1/reports/expenses': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: `/api/v1/reports/expenses?${range}&groupBy=category` }) },
  'POST /api/v1/targets': { needs: ['targets', 'create'], ok: 201, request: (f) => ({ path: '/api/v1/targets', body: { employeeId: f.ownerId, metric: 'newCustomers', month: nextBudgetMonth(), value: 12 } }) },
  'PATCH /api/v1/targets/:id': { needs: ['targets', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/targets/${f.targetId}`, body: { value: CNY(200_000) } }) },
  'DELETE /api/v1/targets/:id': { needs: ['targets', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/targets/${f.targetId}` }) },
  'GET /api/v1/reports/budgets': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/budgets?from=2026-01&to=2026-12' }) },
  'GET /api/v1/reports/approval-turnaround': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/approval-turnaround?from=2026-01&to=2026-12' }) },
  // By its id alone: for whoever may read the record it is attached to (here a customer); 404 outside its scope.
  'GET /api/v1/attachments/:id': { scoped: true, ok: 200, request: (f) => ({ path: `/api/v1/attachments/${f.attachmentId ?? uuid}` }) },
  // To the record's owner: on one's own record that is oneself, which is refused (400).
  'PUT /api/v1/me/delegation': { ok: (_role, relation) => (relation === 'own' ? 400 : 200), request: (f) => ({ path: '/api/v1/me/delegation', body: { delegateId: f.ownerId, from: '2026-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z' } }) },
  'DELETE /api/v1/me/delegation': { ok: 200, request: () => ({ path: '/api/v1/me/delegation' }) },
  'GET /api/v1/settings/sla': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/sla' }) },
  'PUT /api/v1/settings/sla': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/sla', body: DEFAULT_SLA }) },
  'GET /api/v1/settings/business-calendar': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/business-calendar' }) },
  'PUT /api/v1/settings/business-calendar': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/business-calendar', body: DEFAULT_CALENDAR }) },
  'GET /api/v1/settings/ticket-types': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/ticket-types' }) },
  'PUT /api/v1/settings/ticket-types': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/ticket-types', body: { types: [] } }) },
  'POST /api/v1/campaigns': { needs: ['campaigns', 'create'], ok: 201, request: () => ({ path: '/api/v1/campaigns', body: { name: 'Matrix campaign', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(100_000) } }) },
  'PATCH /api/v1/campaigns/:id': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}`, body: { name: 'Matrix campaign renamed' } }) },
  'POST /api/v1/campaigns/:id/stage': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/stage`, body: { stage: 'design' } }) },
  'POST /api/v1/campaigns/:id/assign': { needs: ['campaigns', 'assign'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/assign`, body: { ownerId: f.actorId } }) },
  'POST /api/v1/campaigns/:id/archive': { needs: ['campaigns', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/archive`, body: {} }) },
  'POST /api/v1/campaigns/:id/restore': { needs: ['campaigns', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/restore`, body: {} }) },
  'GET /api/v1/settings/campaign-stages': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/campaign-stages' }) },
  'PUT /api/v1/settings/campaign-stages': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/campaign-stages', body: {} }) },
  'POST /api/v1/email-templates': { needs: ['campaigns', 'create'], ok: 201, request: () => ({ path: '/api/v1/email-templates', body: { name: 'Matrix template', subject: { 'zh-CN': '矩阵' }, html: { 'zh-CN': '<p>{{contact.name}}</p>' } } }) },
  'PATCH /api/v1/email-templates/:id': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/email-templates/${f.email_templateId}`, body: { name: 'Matrix template renamed' } }) },
  'POST /api/v1/email-templates/:id/archive': { needs: ['campaigns', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/email-templates/${f.email_templateId}/archive`, body: {} }) },
  'POST /api/v1/email-templates/:id/restore': { needs: ['campaigns', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/email-templates/${f.email_templateId}/restore`, body: {} }) },
  'POST /api/v1/sms-templates': { needs: ['campaigns', 'create'], ok: 201, request: () => ({ path: '/api/v1/sms-templates', body: { name: 'Matrix SMS', templateCode: 'SMS_1', params: { name: '{{contact.name}}' } } }) },
  'PATCH /api/v1/sms-templates/:id': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/sms-templates/${f.sms_templateId}`, body: { name: 'Matrix SMS renamed' } }) },
  'POST /api/v1/sms-templates/:id/archive': { needs: ['campaigns', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/sms-templates/${f.sms_templateId}/archive`, body: {} }) },
  'POST /api/v1/sms-templates/:id/restore': { needs: ['campaigns', 'delete'], ok: 200, request: (f) => ({ path: `/api/v1/sms-templates/${f.sms_templateId}/restore`, body: {} }) },
  'POST /api/v1/campaigns/:id/audience': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/audience`, body: { filter: { resource: 'contacts', query: {} } } }) },
  'GET /api/v1/campaigns/:id/members': { needs: ['campaigns', 'view'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/members` }) },
  'POST /api/v1/campaigns/:id/test-send': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/test-send`, body: { templateId: f.email_templateId, to: ['matrix@example.com'] } }) },
  // The fixture campaign has no audience yet: an allowed caller reaches the business rule.
  'POST /api/v1/campaigns/:id/send': { needs: ['campaigns', 'edit'], ok: 409, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/send`, body: { templateId: f.email_templateId } }) },
  // Bounce reports take the integration token (unset here: 404 to everyone, whatever the body).
  'POST /api/v1/mail/dsn': { ok: 404, anonymous: 404, request: () => ({ path: '/api/v1/mail/dsn', raw: new TextEncoder().encode('Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n'), headers: { 'content-type': 'text/plain' } }) },
  'POST /api/v1/campaigns/:id/costs': { needs: ['campaigns', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/campaigns/${f.campaignId}/costs`, body: { amount: CNY(10_000), description: 'Matrix cost', on: '2027-03-01' } }) },
  'GET /api/v1/reports/campaigns/:id': { needs: ['campaigns', 'view'], ok: 200, request: (f) => ({ path: `/api/v1/reports/campaigns/${f.campaignId}` }) },
  // A report (reports view) of campaigns (campaigns view, checked inside): every matrix role has both or neither.
  'GET /api/v1/reports/campaigns': { needs: ['reports', 'view'], ok: 200, request: () => ({ path: '/api/v1/reports/campaigns?from=2027-01-01&to=2028-01-01' }) },
  'GET /api/v1/settings/campaign-engagement': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/campaign-engagement' }) },
  'PUT /api/v1/settings/campaign-engagement': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/campaign-engagement', body: { minSecondsAfterDelivery: 10 } }) },
  'GET /api/v1/settings/marketing-automation': { needs: ['settings', 'view'], ok: 200, request: () => ({ path: '/api/v1/settings/marketing-automation' }) },
  'PUT /api/v1/settings/marketing-automation': { needs: ['settings', 'edit'], ok: 200, request: () => ({ path: '/api/v1/settings/marketing-automation', body: [] }) },
  'POST /api/v1/consents': { needs: ['campaigns', 'edit'], ok: 200, request: () => ({ path: '/api/v1/consents', body: { email: 'matrix@example.com', given: true, source: 'user', evidence: { note: 'matrix' } } }) },
  'GET /api/v1/consents': { needs: ['campaigns', 'view'], ok: 200, request: () => ({ path: '/api/v1/consents?email=matrix@example.com' }) },
  // Public: a token that is no member's link answers 404 to anyone, with or without a bearer token.
  'GET /api/v1/public/t/open/:token': { ok: 404, anonymous: 404, request: () => ({ path: `/api/v1/public/t/open/${'x'.repeat(48)}` }) },
  'GET /api/v1/public/t/click/:token': { ok: 404, anonymous: 404, request: () => ({ path: `/api/v1/public/t/click/${'x'.repeat(48)}` }) },
  'GET /api/v1/public/unsubscribe/:token': { ok: 404, anonymous: 404, request: () => ({ path: `/api/v1/public/unsubscribe/${'x'.repeat(48)}` }) },
  'POST /api/v1/public/unsubscribe/:token': { ok: 404, anonymous: 404, request: () => ({ path: `/api/v1/public/unsubscribe/${'x'.repeat(48)}`, body: {} }) },
  'PATCH /api/v1/roles/:id': { needs: ['security', 'edit'], ok: 200, request: (f) => ({ path: `/api/v1/roles/${f.roleId}`, body: { name: 'Matrix role renamed' } }) },
};

// Every registered record type's reads, from the registry: its list (module `view`), one record and its history
// (`view`, and in the caller's scope unless it is company-wide reference data), and its attachments if it takes them.
const PDF = Buffer.from('%PDF-1.7\nmatrix\n%%EOF\n');
const recordId = (f: Fixture, resource: ResourceName) => (f as unknown as Record<string, string>)[`${specOf(resource).singular}Id`]!;
for (const resource of resourceNames) {
  const { module, scope, attachments } = specOf(resource);
  const scoped = scope.by !== 'company';
  matrix[`GET /api/v1/${resource}`] = { needs: [module, 'view'], ok: 200, request: () => ({ path: `/api/v1/${resource}` }) };
  const ticketScoped = scope.by === 'parties';
  matrix[`GET /api/v1/${resource}/:id`] = { needs: [module, 'view'], scoped, ticketScoped, ok: 200, request: (f) => ({ path: `/api/v1/${resource}/${recordId(f, resource)}` }) };
  matrix[`GET /api/v1/${resource}/:id/history`] = { needs: [module, 'view'], scoped, ticketScoped, ok: 200, request: (f) => ({ path: `/api/v1/${resource}/${recordId(f, resource)}/history` }) };
  if (!attachments) continue;
  const base = (f: Fixture) => `/api/v1/${resource}/${recordId(f, resource)}/attachments`;
  matrix[`POST /api/v1/${resource}/:id/attachments`] = { needs: [module, 'edit'], scoped, ticketScoped, ok: 201, request: (f) => ({ path: base(f), ...multipartFile('matrix.pdf', PDF) }) };
  matrix[`GET /api/v1/${resource}/:id/attachments`] = { needs: [module, 'view'], scoped, ticketScoped, ok: 200, request: (f) => ({ path: base(f) }) };
  matrix[`GET /api/v1/${resource}/:id/attachments/:attachmentId`] = { needs: [module, 'view'], scoped, ticketScoped, ok: 200, request: (f) => ({ path: `${base(f)}/${f.attachmentId ?? uuid}` }) };
  matrix[`DELETE /api/v1/${resource}/:id/attachments/:attachmentId`] = { needs: [module, 'edit'], scoped, ticketScoped, ok: 200, request: (f) => ({ path: `${base(f)}/${f.attachmentId ?? uuid}` }) };
}

const template = (role: Role) => roleTemplates.find((t) => t.key === role)!;
const allowed = (role: Role, [module, action]: [Module, Action]) => template(role).permissions[module]?.includes(action) ?? false;
const inScope = (role: Role, relation: Relation) =>
  relation === 'own' || template(role).dataScope === 'all' || (template(role).dataScope === 'department_tree' && relation !== 'other_department');

/** An open sync conflict about the customer: linked to a new ERP record, edited in the CRM, then changed differently by the ERP. */
async function erpConflictOn(app: TestApp, customerId: string): Promise<string> {
  const { deps } = app.services;
  const context = { deps, readStore: app.services.readStore, actor: erpBridgeActor, meta: app.services.requestMeta('matrix'), defaultOwnerId: null };
  const erpCode = `M-${randomUUID().slice(0, 8)}`;
  const { state } = await loadRecord(deps, specOf('customers'), customerId);
  const name = (state as unknown as { fields: { name: string } }).fields.name;
  await applyInbound(context, 'erp.customer', { erpCode, erpVersion: 1, name, phone: '010-1111' });
  await changeCustomer(deps, customerId, { phone: '010-2222' }, systemActor, app.services.requestMeta('matrix'));
  const result = await applyInbound(context, 'erp.customer', { erpCode, erpVersion: 2, name, phone: '010-3333' });
  if (!result.conflictId) throw new Error(`expected a conflict: ${JSON.stringify(result)}`);
  return result.conflictId;
}

function expected(entry: Entry, role: Role, relation: Relation): number {
  if (entry.needs && !allowed(role, entry.needs)) return 403;
  if (entry.ticketScoped) {
    if (!(inScope(role, relation) || relation === 'department')) return 404;
  } else if (entry.scoped && !inScope(role, relation)) return entry.outOfScope ?? 404;
  return typeof entry.ok === 'function' ? entry.ok(role, relation) : entry.ok;
}

describe('authorization matrix', () => {
  let app: TestApp;
  let departments: Record<Exclude<Relation, 'own'>, string>;
  const callers: Partial<Record<Role, { userId: string; token: string; username: string }>> = {};

  beforeAll(async () => {
    // Every request comes from one address: no limit on public links here (their limit has its own tests).
    app = await startTestApp({ CRM_PUBLIC_RATE_LIMIT_PER_MINUTE: '0' });
    const home = await app.department('Matrix home');
    departments = { department: home, sub_department: await app.department('Matrix sub', home), other_department: await app.department('Matrix other') };
    for (const role of roles) callers[role] = { ...(await app.userWithToken(`matrix.${role}`, [role], home)), username: `matrix.${role}` };
    await app.request('POST', '/api/v1/settings/approval-policies', { body: { name: 'Matrix: every claim', kind: 'expense', conditions: {}, steps: [{ approver: 'manager' }] } });
    for (const key of ['matrixField', 'retiredField'])
      await app.request('POST', '/api/v1/settings/fields/customers', { body: { key, label: { 'zh-CN': '矩阵', en: 'Matrix' }, type: 'text' } });
  });
  afterAll(async () => app.close());

  it('has an entry for every route, so a new route cannot skip the matrix', () => {
    const routes = apiRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(Object.keys(matrix).sort()).toEqual(routes);
  });

  it("a route that declares its permission (every record type's, settings, reports) has it as its row's", () => {
    const declared = apiRoutes.filter((r) => r.permission).map((r) => [`${r.method.toUpperCase()} ${r.path}`, r.permission]);
    expect(declared.length).toBeGreaterThan(40);
    expect(declared.map(([key]) => [key, matrix[key as string]?.needs])).toEqual(declared);
  });

  /**
   * The records a case needs, made for it alone: the caller's relation to their owner is the case's. Only what the
   * route's request and its set-up read is made (a fixture of every record type for each of the ~5,600 cases took
   * most of this suite's minutes, and grew every list the later cases read).
   */
  async function fixture(role: Role, relation: Relation, wanted: ReadonlySet<string>): Promise<Fixture> {
    const { deps } = app.services;
    const meta = () => app.services.requestMeta('matrix');
    const caller = callers[role]!;
    const made = new Map<string, Promise<unknown>>();
    const once = <T,>(name: string, make: () => Promise<T>): Promise<T> => {
      if (!made.has(name)) made.set(name, make());
      return made.get(name) as Promise<T>;
    };
    const owner = () =>
      once('owner', async () =>
        relation === 'own'
          ? caller.userId
          : (await hireEmployee(deps, { fields: { name: `Owner ${relation}`, departmentId: departments[relation] }, roleIds: [] }, systemActor, meta())).employeeId,
      );
    const asOwner = async () => ({ ...systemActor, userId: await owner() });
    const receiver = () =>
      once('receiver', async () => (await hireEmployee(deps, { fields: { name: 'Receiver', departmentId: departments.other_department }, roleIds: [] }, systemActor, meta())).employeeId);
    const customer = () => once('customer', async () => (await registerCustomer(deps, { fields: { name: `Matrix ${Math.random()}` }, ownerId: await owner() }, systemActor, meta())).customerId);
    const contact = () => once('contact', async () => (await addContact(deps, { customerId: await customer(), fields: { name: 'Matrix person' } }, systemActor, meta())).contactId);
    const opportunity = () =>
      once('opportunity', async () =>
        (await createOpportunity(deps, { fields: { name: 'Fixture deal', customerId: await customer(), amount: { amount: 5000, currency: 'CNY' }, expectedCloseDate: '2026-12-31' }, ownerId: await owner() }, systemActor, meta())).opportunityId,
      );
    const product = () =>
      once('product', async () => (await createProduct(deps, { code: `F${Math.random().toString(36).slice(2, 10)}`, name: 'Fixture', unit: '件', standardPrice: { amount: 1, currency: 'CNY' }, taxRate: 13, active: true }, systemActor, meta())).productId);
    const order = () =>
      once('order', async () => {
        const { orderId } = await createOrder(deps, { customerId: await customer(), currency: 'CNY', lines: [{ productId: await product(), quantity: 2, discountPercent: 0 }], paymentTermsDays: 30, ownerId: await owner() }, systemActor, meta());
        const state = fold(orderDecider, (await deps.eventStore.readStream(`order-${orderId}`)).map((e) => ({ type: e.type, data: e.data }) as never)) as { lines: { id: string }[] };
        return { orderId, orderLineId: state.lines[0]!.id };
      });
    const expense = () =>
      once('expense', async () => (await draftExpenseClaim(deps, { lines: [{ category: 'travel', amount: CNY(5000), date: '2026-11-20', description: 'Fixture taxi' }] }, await asOwner(), meta())).id);
    const makers: Record<keyof Fixture, (() => Promise<string>) | undefined> = {
      ownerId: owner,
      actorId: async () => caller.userId,
      customerId: customer,
      contactId: contact,
      handoverId: async () => {
        const [from, to] = (await owner()) === caller.userId ? [await receiver(), await owner()] : [await owner(), await receiver()];
        return (await startHandover(deps, from, to, systemActor, meta())).handoverId;
      },
      roleId: async () => (await createRole(deps, { name: 'Fixture role', permissions: {}, dataScope: 'own' }, systemActor, meta())).roleId,
      departmentId: async () => (await app.department('Fixture dept')) as string,
      leadId: async () => (await createLead(deps, { fields: { company: `Lead ${Math.random()}`, person: 'P' }, ownerId: await owner() }, systemActor, meta())).leadId,
      opportunityId: opportunity,
      productId: product,
      quoteId: async () =>
        (await createQuote(deps, { customerId: await customer(), currency: 'CNY', validUntil: '2099-12-31', lines: [{ productId: await product(), quantity: 1, discountPercent: 0 }], ownerId: await owner() }, systemActor, meta())).quoteId,
      orderId: async () => (await order()).orderId,
      orderLineId: async () => (await order()).orderLineId,
      competitorId: async () => (await addCompetitor(deps, { name: `Fixture rival ${Math.random()}` }, systemActor, meta())).id,
      activityId: async () =>
        (await logActivity(deps, { kind: 'visit', customerId: await customer(), contactId: await contact(), opportunityId: await opportunity(), occurredAt: '2026-11-30T01:00:00.000Z', summary: 'Fixture visit' }, await asOwner(), meta())).id,
      taskId: async () => (await createTask(deps, { subject: 'Fixture task', dueAt: '2099-01-01T00:00:00.000Z', remindAt: '2098-12-31T00:00:00.000Z', priority: 'normal', customerId: await customer() }, await asOwner(), meta())).id,
      planId: async () => (await createPlan(deps, { period: 'day', date: nextPlanDay(), items: [{ id: 'fixture-item', text: 'Fixture', status: 'planned' }] }, await asOwner(), meta())).id,
      // Assigned to the owner, so queued in the owner's department (whose members see it).
      ticketId: async () =>
        (await openTicket(deps, { type: 'repair', channel: 'phone', priority: 'normal', customerId: await customer(), subject: 'Fixture ticket', description: 'Fixture', assigneeId: await owner() }, await asOwner(), meta())).id,
      expenseId: expense,
      budgetId: async () => (await setBudget(deps, { employeeId: await owner(), category: 'travel', month: nextBudgetMonth(), amount: CNY(100_000) }, systemActor, meta())).id,
      targetId: async () => (await setTarget(deps, { employeeId: await owner(), metric: 'orderAmount', month: nextBudgetMonth(), value: CNY(100_000) }, systemActor, meta())).id,
      campaignId: async () =>
        (await createCampaign(deps, { fields: { name: 'Fixture campaign', type: 'email', startsOn: '2027-03-01', endsOn: '2027-03-31', budget: CNY(100_000) }, ownerId: await owner() }, systemActor, meta())).campaignId,
      email_templateId: async () => (await createEmailTemplate(deps, { name: 'Fixture template', subject: { 'zh-CN': '夹具' }, html: { 'zh-CN': '<p>{{contact.name}}</p>' } }, systemActor, meta())).id,
      sms_templateId: async () => (await smsTemplates.create(deps, { name: 'Fixture SMS', templateCode: 'SMS_0', params: {} }, systemActor, meta())).id,
      approvalId: async () => {
        const approvalId = meta().ids.newId();
        const request = { approvalId, policyId: uuid, policyVersion: 1, steps: [{ approverId: await receiver(), rule: 'manager' as const }] };
        await openApprovalRequest(deps, { kind: 'expense', documentId: await expense(), documentVersion: 1, submittedBy: await owner(), at: new Date().toISOString(), request, supersedes: null }, systemActor, meta());
        return approvalId;
      },
      // Made by a case's set-up, not here.
      linkId: undefined,
      linkToken: undefined,
      notificationId: undefined,
      attachmentId: undefined,
      jobId: undefined,
      batchId: undefined,
      importId: undefined,
      victimId: undefined,
      conflictId: undefined,
    };
    const f: Record<string, string> = { ownerId: await owner(), actorId: caller.userId };
    for (const name of wanted) {
      const make = makers[name as keyof Fixture];
      if (make) f[name] = await make();
    }
    return f as unknown as Fixture;
  }

  /** The fixture's fields a case reads: those its request reads, and those its set-up (below) reads. */
  function wantedBy(key: string, entry: Entry): Set<string> {
    const wanted = new Set<string>();
    const probe = new Proxy({} as Fixture, { get: (_target, name) => (wanted.add(String(name)), uuid) });
    entry.request(probe);
    if (/\/restore|\/merge|\/batches\/:id|\/erp\/conflicts\/:id\/resolve|\/claim|GET \/api\/v1\/attachments\/:id/.test(key)) wanted.add('customerId');
    if (key.includes('/opportunities/:id/reopen')) wanted.add('opportunityId');
    if (/quotes\/:id\/(accept|reject|share)|public/.test(key)) wanted.add('quoteId');
    if (/orders\/:id\/(shipments|payments)/.test(key)) wanted.add('orderId');
    return wanted;
  }

  const cases = Object.entries(matrix).flatMap(([key, entry]) => roles.flatMap((role) => relations.map((relation) => ({ key, entry, role, relation }))));

  // One test per part of the API (the path's first segment after /api/v1): each answers within its own time limit,
  // and a failure names its part.
  const parts = [...new Set(cases.map((c) => c.key.split(' ')[1]!.split('/')[3]!))].map((part) => [part, cases.filter((c) => c.key.split(' ')[1]!.split('/')[3] === part)] as const);
  it('covers every route of the matrix', () => {
    expect(parts.reduce((n, [, chunk]) => n + chunk.length, 0)).toBe(Object.keys(matrix).length * roles.length * relations.length);
  });

  it.each(parts)(`answers as expected for the %s routes × ${roles.length} roles × ${relations.length} relations`, async (_part, chunk) => {
    const failures: string[] = [];
    for (const { key, entry, role, relation } of chunk) {
      const [method, template] = key.split(' ') as [string, string];
      const f = await fixture(role, relation, wantedBy(key, entry));
      if (key.includes('/restore')) await archiveCustomer(app.services.deps, f.customerId, undefined, systemActor, app.services.requestMeta('matrix'));
      if (key.includes('/opportunities/:id/reopen')) await moveOpportunity(app.services.deps, f.opportunityId, { type: 'WinOpportunity' }, systemActor, app.services.requestMeta('matrix'));
      if (/quotes\/:id\/(accept|reject|share)|public/.test(key)) await sendQuote(app.services.deps, f.quoteId, systemActor, app.services.requestMeta('matrix'));
      if (key.includes('/attachments/:attachmentId') || key === 'GET /api/v1/attachments/:id') {
        const resource = (key === 'GET /api/v1/attachments/:id' ? 'customers' : key.split('/')[3]) as ResourceName;
        const sha256 = await app.services.blobs.put(PDF);
        f.attachmentId = (await addAttachment(app.services.deps, { resource, recordId: recordId(f, resource), name: 'matrix.pdf', contentType: 'application/pdf', size: PDF.length, sha256 }, systemActor, app.services.requestMeta('matrix'))).attachment.attachmentId;
      }
      if (key.includes('notifications/:id/read'))
        f.notificationId = (await notify(app.services.deps, { recipientId: f.actorId, kind: 'matrix', title: { 'zh-CN': '矩阵', en: 'Matrix' } }, systemActor, app.services.requestMeta('matrix'))).notificationId;
      if (/public/.test(key)) {
        const link = await issuePublicLink({ ...app.services.deps, keys: app.services.keys, publicUrl: 'http://localhost' }, { purpose: 'quote', path: '/api/v1/public/quotes', subjectId: f.quoteId, validForMs: 86_400_000 }, systemActor, app.services.requestMeta('matrix'));
        Object.assign(f, { linkId: link.linkId, linkToken: link.token });
      }
      if (/orders\/:id\/(shipments|payments)/.test(key)) await confirmOrder(app.services.deps, f.orderId, systemActor, app.services.requestMeta('matrix'));
      if (key.includes('/batches/:id')) {
        const owner = { ...systemActor, userId: f.ownerId };
        f.batchId = (await startMassChange(app.services.deps, [f.customerId], { set: { industry: 'Matrix batch' } }, {}, owner, app.services.requestMeta('matrix'))).batchId;
        await runMassChange(app.services.deps, f.batchId, owner, app.services.requestMeta('matrix'));
      }
      if (key.includes('/imports/:id'))
      {
        const file = Buffer.from('客户名称\nMatrix dry run\n');
        const sha256 = await app.services.blobs.put(file);
        f.importId = (await recordUpload(app.services.deps, { resource: 'customers', fileName: 'm.csv', sha256, size: file.length, format: 'csv', columns: ['客户名称'], rows: 1 }, { ...systemActor, userId: f.ownerId }, app.services.requestMeta('matrix'))).importId;
      }
      if (key.startsWith('DELETE /api/v1/import-templates')) await saveImportTemplate(app.services.deps, 'customers', 'matrix', { mapping: { 客户名称: 'name' }, policy: {} }, systemActor, app.services.requestMeta('matrix'));
      if (key.includes('/contacts/:survivorId/merge'))
        f.victimId = (await addContact(app.services.deps, { customerId: f.customerId, fields: { name: 'Matrix duplicate' } }, systemActor, app.services.requestMeta('matrix'))).contactId;
      else if (key.includes('/merge'))
        f.victimId = (await registerCustomer(app.services.deps, { fields: { name: `Matrix duplicate ${Math.random()}` }, ownerId: f.ownerId }, systemActor, app.services.requestMeta('matrix'))).customerId;
      if (key.includes('/erp/conflicts/:id/resolve')) f.conflictId = await erpConflictOn(app, f.customerId);
      if (key.includes('/claim')) await releaseCustomer(app.services.deps, f.customerId, 'matrix', systemActor, app.services.requestMeta('matrix'));
      const caller = callers[role]!;
      if (key.includes('/reports/as-of/')) {
        // The caller's own job, over a read model already built (so it answers the report, not 202).
        const instant = new Date('2026-01-01T00:00:00.000Z');
        f.jobId = app.services.asOf.startJob(caller.userId, instant, [FUNNEL], async () => ({ status: 200, body: {} }));
        await app.services.asOf.model(instant, [FUNNEL]).ready;
      }
      // Wrong current passwords count towards the account's login throttle: each case starts unthrottled.
      if (key.includes('/auth/change-password')) await unlockLogins(app.services.deps, caller.userId, systemActor, app.services.requestMeta('matrix'));
      await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 5000);
      const { path, body, raw, headers } = entry.request(f);
      const login = body === 'LOGIN' ? { username: caller.username, password: `${caller.username}-password-1` } : body;
      const response = await app.request(method, path, { token: caller.token, ...(login !== undefined ? { body: login } : {}), ...(raw ? { raw, headers } : {}) });
      const want = expected(entry, role, relation);
      if (response.status !== want) failures.push(`${key} as ${role} on ${relation}'s record: expected ${want}, got ${response.status} ${JSON.stringify(response.body).slice(0, 160)}`);
      void template;
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('answers 401 to every route but login without a token', async () => {
    const failures: string[] = [];
    for (const [key, entry] of Object.entries(matrix)) {
      const [method] = key.split(' ') as [string];
      const path = entry.request({ ownerId: uuid, customerId: uuid, contactId: uuid, actorId: uuid, departmentId: uuid, roleId: uuid, handoverId: uuid, leadId: uuid, opportunityId: uuid, productId: uuid, quoteId: uuid, orderId: uuid, orderLineId: uuid, competitorId: uuid, activityId: uuid, taskId: uuid, planId: uuid, ticketId: uuid, expenseId: uuid, budgetId: uuid, targetId: uuid, campaignId: uuid, email_templateId: uuid, sms_templateId: uuid, approvalId: uuid }).path;
      const response = await app.request(method, path, { token: null, ...(method === 'GET' ? {} : { body: {} }) });
      const want = entry.anonymous ?? 401;
      if (key !== 'POST /api/v1/auth/login' && response.status !== want) failures.push(`${key}: expected ${want}, got ${response.status}`);
    }
    expect(failures).toEqual([]);
  });
});
