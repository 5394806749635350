/* global db */ // mongosh's database handle
// Generated from the record types' registry by `npm run analytics-views`: do not edit (a test compares it).
// `npm run analytics-views -- --roles` writes it with the fields the company's roles hide left out too.
//
// Curated, read-only views of the read models for BI tools (Metabase, Superset) connected to MongoDB directly:
// bi_<read model>, without the read models' bookkeeping, personal fields or custom fields. The role
// crmAnalyticsReader may list the database's collections and read these views, nothing else (reading a view
// needs no right on its source). docker compose runs this once, when MongoDB initialises its data directory;
// after an upgrade that changes it, or to apply a script written with --roles, run it again:
//   docker compose exec mongo sh -c 'mongosh -u "$MONGO_INITDB_ROOT_USERNAME" -p "$MONGO_INITDB_ROOT_PASSWORD" \
//     --authenticationDatabase admin /docker-entrypoint-initdb.d/20-analytics-views.js'
// With MONGO_ANALYTICS_PASSWORD set, it creates (or updates) the user MONGO_ANALYTICS_USER (crm_analytics) too.
const crm = db.getSiblingDB(process.env.CRM_MONGO_DATABASE || 'crm');
const views = {
  "bi_customers": { source: "customers", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom","phone","address","contacts.name","contacts.officePhone","contacts.mobile","contacts.email","contacts.birthday"] },
  "bi_contacts": { source: "contacts", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom","name","officePhone","mobile","email","birthday"] },
  "bi_products": { source: "products", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_leads": { source: "leads", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom","person","phone","email"] },
  "bi_opportunities": { source: "opportunities", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_quotes": { source: "quotes", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_orders": { source: "orders", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_competitors": { source: "competitors", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_activities": { source: "activities", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom","summary","outcome","commitments","checkIn"] },
  "bi_tasks": { source: "tasks", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom","notes"] },
  "bi_plans": { source: "plans", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_tickets": { source: "tickets", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom","description"] },
  "bi_expenses": { source: "expenses", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_budgets": { source: "budgets", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_targets": { source: "targets", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_campaigns": { source: "campaigns", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_email-templates": { source: "email-templates", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
  "bi_sms-templates": { source: "sms-templates", leftOut: ["_search","_phones","_state","_position","_contactBase","_activityDays","_erpVersion","_erpSentAt","_erpAnsweredVersion","_erpAwaiting","custom"] },
};
for (const [name, { source, leftOut }] of Object.entries(views)) {
  const pipeline = [{ $project: Object.fromEntries(leftOut.map((field) => [field, 0])) }];
  if (crm.getCollectionInfos({ name }).length) crm.runCommand({ collMod: name, viewOn: source, pipeline });
  else crm.createView(name, source, pipeline);
}
const privileges = [
  { resource: { db: crm.getName(), collection: '' }, actions: ['listCollections'] },
  ...Object.keys(views).map((name) => ({ resource: { db: crm.getName(), collection: name }, actions: ['find'] })),
];
if (crm.getRole('crmAnalyticsReader')) crm.updateRole('crmAnalyticsReader', { privileges, roles: [] });
else crm.createRole({ role: 'crmAnalyticsReader', privileges, roles: [] });
const password = process.env.MONGO_ANALYTICS_PASSWORD;
if (password) {
  const user = process.env.MONGO_ANALYTICS_USER || 'crm_analytics';
  const roles = [{ role: 'crmAnalyticsReader', db: crm.getName() }];
  if (crm.getUser(user)) crm.updateUser(user, { pwd: password, roles });
  else crm.createUser({ user, pwd: password, roles });
}
