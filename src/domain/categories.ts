import { contactCategory } from './contact/events.ts';
import { customerCategory } from './customer/events.ts';
import { departmentCategory } from './department/index.ts';
import { employeeCategory } from './employee/index.ts';
import { leadCategory } from './lead/index.ts';
import { opportunityCategory } from './opportunity/index.ts';
import { orderCategory } from './order/index.ts';
import { productCategory } from './product/index.ts';
import { quoteCategory } from './quote/index.ts';
import { reservationCategory } from './reservation/index.ts';
import { auditAnchorCategory } from './audit/index.ts';
import { roleCategory } from './role/index.ts';
import { resourceNames, specOf } from './customization/resources.ts';
import { approvalCategory } from './approval/index.ts';
import { campaignAudienceCategory, campaignMemberCategory, consentCategory } from './campaign/members.ts';

/**
 * Every event-stream category, named once (a stream is `<category>-<id>`). The aggregates name their own; the
 * streams of facts no aggregate decides are named here. Lists of categories (what Kafka publishes, what the
 * audit log follows) are built from these constants, never retyped.
 */
export { contactCategory, customerCategory, departmentCategory, employeeCategory, leadCategory, opportunityCategory, orderCategory, productCategory, quoteCategory, reservationCategory, roleCategory };
export const loginCategory = 'login';
export const handoverCategory = 'handover';
export const settingsCategory = 'settings';
export const operationsCategory = 'operations';
export const idempotencyCategory = 'idempotency';
export const orderNumberCategory = 'ordernumber';
export const customFieldsCategory = 'customfields';
export { publicLinkCategory } from './public-link/index.ts';
export { campaignAudienceCategory, campaignMemberCategory, consentCategory };
export { notificationCategory } from './notification/index.ts';
export { auditAnchorCategory };
export { scheduleCategory } from './schedule/index.ts';
export { batchCategory } from './batch/index.ts';
export { importCategory } from './import/index.ts';

/**
 * The business records: what the Kafka relay publishes (internal streams such as logins and keys stay inside); approvals go to `crm.approval`, expense claims to `crm.expense`,
 * campaign mails' sends and engagement to `crm.campaignMember` (no mail bodies: they are never in an event), opt-ins and opt-outs to `crm.consent`.
 */
export const recordCategories: readonly string[] = [...resourceNames.map((name) => specOf(name).category), departmentCategory, employeeCategory, approvalCategory, campaignMemberCategory, consentCategory];

/** What Kafka publishes: the business records, and the hash chain's daily anchors (`crm.audit.anchor`) for outside parties to hold. */
export const publishedCategories: readonly string[] = [...recordCategories, auditAnchorCategory];

/** Who may do what and what they did to the system: the streams the audit log follows. */
export const auditedCategories = [loginCategory, employeeCategory, roleCategory, handoverCategory, settingsCategory, operationsCategory] as const;
