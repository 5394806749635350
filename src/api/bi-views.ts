import { specOf, type ResourceName } from '../domain/customization/resources.ts';
import { leavingOut } from './analytics-pipeline.ts';
import { NESTED_RESOURCES } from './field-security.ts';
import { INTERNAL_FIELDS, queryableCollections } from './routes/analytics.ts';

/** A curated view of a read model for a BI tool connected to MongoDB directly: its name, its source, what it leaves out. */
export interface CuratedView {
  name: string;
  source: string;
  leftOut: string[];
}

/** Where the script is kept (docker compose runs it when MongoDB initialises its data directory). */
export const CURATED_VIEWS_SCRIPT = 'scripts/mongo/analytics-views.js';

/** Per resource, the fields (standard, `custom.<key>`) some role hides: the roles' field security, as stored on them. */
export function hiddenByAnyRole(roles: readonly { fieldSecurity?: Readonly<Record<string, Readonly<Record<string, string>>>> }[]): Record<string, string[]> {
  const hidden: Record<string, Set<string>> = {};
  for (const role of roles)
    for (const [resource, rules] of Object.entries(role.fieldSecurity ?? {}))
      for (const [field, rule] of Object.entries(rules)) if (rule === 'hidden') (hidden[resource] ??= new Set()).add(field);
  return Object.fromEntries(Object.entries(hidden).map(([resource, fields]) => [resource, [...fields].sort()]));
}

/**
 * The views a read-only MongoDB user sees instead of the read models (`bi_<collection>`): every queryable read
 * model less its bookkeeping, its custom fields (which an administrator defines and nothing classifies), its
 * personal fields and the fields some role hides (`hidden`, see hiddenByAnyRole), and those of the records it
 * embeds (a customer's contacts). A database user has no role in the API, so it sees what no role hides.
 */
export function curatedViews(hidden: Readonly<Record<string, readonly string[]>> = {}): CuratedView[] {
  const withheld = (resource: string) => [...specOf(resource as ResourceName).personalFields, ...(hidden[resource] ?? [])];
  return queryableCollections().map((spec) => ({
    name: `bi_${spec.name}`,
    source: spec.name,
    // `custom` goes whole, so a hidden custom field needs no path of its own.
    leftOut: Object.keys(
      leavingOut([
        ...INTERNAL_FIELDS,
        'custom',
        ...withheld(spec.name),
        ...Object.entries(NESTED_RESOURCES[spec.name] ?? {}).flatMap(([key, inner]) => withheld(inner).map((field) => `${key}.${field}`)),
      ]),
    ),
  }));
}

/** The mongosh script that makes the views, the reader role and (given its password) the reader user. */
export function curatedViewsScript(hidden: Readonly<Record<string, readonly string[]>> = {}): string {
  const views = curatedViews(hidden).map((view) => `  ${JSON.stringify(view.name)}: { source: ${JSON.stringify(view.source)}, leftOut: ${JSON.stringify(view.leftOut)} },`);
  return `/* global db */ // mongosh's database handle
// Generated from the record types' registry by \`npm run analytics-views\`: do not edit (a test compares it).
// \`npm run analytics-views -- --roles\` writes it with the fields the company's roles hide left out too.
//
// Curated, read-only views of the read models for BI tools (Metabase, Superset) connected to MongoDB directly:
// bi_<read model>, without the read models' bookkeeping, personal fields or custom fields. The role
// crmAnalyticsReader may list the database's collections and read these views, nothing else (reading a view
// needs no right on its source). docker compose runs this once, when MongoDB initialises its data directory;
// after an upgrade that changes it, or to apply a script written with --roles, run it again:
//   docker compose exec mongo sh -c 'mongosh -u "$MONGO_INITDB_ROOT_USERNAME" -p "$MONGO_INITDB_ROOT_PASSWORD" \\
//     --authenticationDatabase admin /docker-entrypoint-initdb.d/20-analytics-views.js'
// With MONGO_ANALYTICS_PASSWORD set, it creates (or updates) the user MONGO_ANALYTICS_USER (crm_analytics) too.
const crm = db.getSiblingDB(process.env.CRM_MONGO_DATABASE || 'crm');
const views = {
${views.join('\n')}
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
`;
}
