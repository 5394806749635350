import { auditProjection } from './audit.ts';
import { companyProjection } from './company.ts';
import { customersProjection } from './customers.ts';
import { notificationsProjection } from './notifications.ts';
import { orgProjection } from './org.ts';
import { leadsProjection } from './leads.ts';
import { opportunitiesProjection } from './opportunities.ts';
import { ordersProjection } from './orders.ts';
import { quotesProjection } from './quotes.ts';
import type { Projection } from './projection.ts';
import { declaredProjections } from './declared.ts';
import { teamProjection } from './team.ts';
import { serviceProjection } from './service.ts';
import { delegationsProjection } from './delegations.ts';
import { batchesProjection } from './batches.ts';
import { attachmentIndexProjection } from './attachments.ts';
import { approvalsProjection } from './approvals.ts';
import { expensesProjection } from './expenses.ts';
import { campaignMembersProjection } from './campaign-members.ts';
import { campaignResultsProjection } from './campaign-results.ts';
import { erpProjection } from './erp.ts';

/** Every read model the service keeps, in the order the runner applies them. */
export const allProjections: readonly Projection[] = [
  companyProjection,
  orgProjection,
  customersProjection,
  auditProjection,
  leadsProjection,
  opportunitiesProjection,
  quotesProjection,
  ordersProjection,
  notificationsProjection,
  teamProjection,
  serviceProjection,
  delegationsProjection,
  batchesProjection,
  attachmentIndexProjection,
  approvalsProjection,
  expensesProjection,
  campaignMembersProjection,
  campaignResultsProjection,
  erpProjection,
  ...declaredProjections,
];
