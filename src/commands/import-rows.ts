import { z } from 'zod';
import type { FieldDefinition } from '../domain/customization/fields.ts';
import { specOf } from '../domain/customization/resources.ts';
import { type ImportResource, importTargets } from '../domain/import/mapping.ts';
import { asFields, type CellKind, changesByPolicy, type Policy, type RowError, rowValues, schemaErrors } from '../domain/import/rows.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Table } from '../infra/tabular/index.ts';
import type { CommandDeps } from './context.ts';
import { findEmployeeByUsername } from './employees.ts';
import type { CreateWrite, ImportKind, RowContext } from './import-kinds.ts';
import { loadRecord, stateInScope } from './references.ts';
import { currentHolder } from './reservations.ts';

/** What a dry run or a run is asked: the mapping, the key a row is matched on (none: every row creates), the per-field policy of an update. */
export const ImportRequest = z
  .object({
    mapping: z.record(z.string(), z.string().nullable()).describe('Per column (header), the target it fills (see the upload\'s suggestedMapping); null or absent leaves it out'),
    matchBy: z.enum(['taxNumber', 'name', 'code', 'email', 'phone', 'mobile', 'erpCode']).optional().describe('Update the record this key matches instead of creating one (customers: taxNumber, name, phone, erpCode; contacts: email, mobile; products: code, name; leads: email, phone)'),
    policy: z.record(z.string(), z.enum(['overwrite', 'fillIfEmpty', 'keep'])).default({}).describe('Per field (custom.<key> for a custom one; * for the others) on an update: overwrite, fillIfEmpty (the default) or keep'),
  })
  .strict();
export type ImportRequest = z.infer<typeof ImportRequest>;

export type RowAction = 'create' | 'update' | 'skip' | 'error';
export interface RowResult {
  /** The row's line in the file (the header is line 1). */
  row: number;
  action: RowAction;
  recordId?: string;
  /** The fields an update changes. */
  changes?: string[];
  errors?: RowError[];
  reason?: string;
}

/** A planned row with what its run writes: a create's fields and owner or customer, an update's changes. */
export type PlannedRow = RowResult & { write?: CreateWrite | { update: Record<string, unknown> } };

/** A planned row as a dry run answers it (what it would write stays inside). */
export const rowView = ({ write: _write, ...row }: PlannedRow): RowResult => row;

/** A mapping that cannot be used: a column that is not in the file, a target the record type lacks, a target named twice, a key not mapped. */
export class MappingError extends Error {
  constructor(readonly errors: { path: string; message: string }[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    this.name = 'MappingError';
  }
}

/** Targets that are no field of the record but say something about it: references by name and match-only keys. */
const REFERENCE_TARGETS = ['ownerUsername', 'customerName', 'erpCode'];
const kinds: Record<ImportResource, Record<string, CellKind>> = {
  customers: { annualRevenue: 'money', creditLimit: 'money' },
  contacts: { birthday: 'date' },
  products: { standardPrice: 'money', taxRate: 'number', active: 'boolean' },
  leads: {},
};
const matchKeys: Record<ImportResource, readonly string[]> = { customers: ['taxNumber', 'name', 'phone', 'erpCode'], contacts: ['email', 'mobile'], products: ['code', 'name'], leads: ['email', 'phone'] };

/** Checks a mapping against the file's columns, the record type's targets and its custom fields. */
export function checkMapping(resource: ImportResource, columns: readonly string[], request: ImportRequest, custom: Readonly<Record<string, FieldDefinition>>): void {
  const errors: { path: string; message: string }[] = [];
  const seen = new Map<string, string>();
  for (const [column, target] of Object.entries(request.mapping)) {
    if (!columns.includes(column)) errors.push({ path: `mapping.${column}`, message: 'No such column in the file' });
    if (!target) continue;
    const known = target.startsWith('custom.') ? custom[target.slice(7)] !== undefined && !custom[target.slice(7)]!.retired : target in importTargets[resource];
    if (!known) errors.push({ path: `mapping.${column}`, message: `${target} is no importable field of ${resource}` });
    if (seen.has(target)) errors.push({ path: `mapping.${column}`, message: `${target} is mapped from ${seen.get(target)} already` });
    seen.set(target, column);
  }
  if (request.matchBy) {
    if (!matchKeys[resource].includes(request.matchBy)) errors.push({ path: 'matchBy', message: `${resource} match by ${matchKeys[resource].join(', ')}` });
    else if (!seen.has(request.matchBy)) errors.push({ path: 'matchBy', message: `No column is mapped to ${request.matchBy}` });
  }
  if (errors.length) throw new MappingError(errors);
}

/** The fields a mapping writes (for the field-level security check). */
export const writtenFields = (request: ImportRequest): string[] => Object.values(request.mapping).filter((t): t is string => !!t && !REFERENCE_TARGETS.includes(t)).map((t) => t);

/**
 * The dry run of an import: what each row would do, nothing written. A row is checked as the run will write it (its
 * cells read, its fields against the record type's schema, its owner or customer found by name, its unique values
 * free); with `matchBy`, a row whose key names a record in the caller's scope updates it by the policy; a row
 * repeating an earlier row's key or unique value is skipped. `rowIdOf` names the record a row's run creates (a resumed
 * run finds what its own rows wrote).
 */
export async function planRows(context: RowContext, kind: ImportKind, table: Table, request: ImportRequest, rowIdOf?: (line: number) => string): Promise<PlannedRow[]> {
  const { deps, actor } = context;
  const spec = specOf(kind.resource);
  const standard = Object.keys(kind.fields.shape);
  const columnOf = (field: string) => Object.entries(request.mapping).find(([, target]) => target === field || (target && field.startsWith(`${target}.`)))?.[0];
  /** A problem with a field, naming the column it came from. */
  const problem = (field: string, message: string): RowError => {
    const column = columnOf(field);
    return { field, ...(column ? { column } : {}), message };
  };
  const owners = new Map<string, string | DomainError>();
  const claimedInFile = new Map<string, number>();
  const results: PlannedRow[] = [];
  for (const [index, row] of table.rows.entries()) {
    const line = index + 2;
    // A resumed run finds the records its own rows created before the stop: they are this row's, not another's.
    const own = rowIdOf?.(line);
    const { values, errors } = rowValues(row, table.header, request.mapping, kinds[kind.resource], context.custom, context.currency);
    if (Object.keys(values).length === 0 && errors.length === 0) {
      results.push({ row: line, action: 'skip', reason: 'empty' });
      continue;
    }
    const fields = asFields(values, standard);
    const key = request.matchBy ? values[request.matchBy] : undefined;
    let matched: string | undefined;
    if (request.matchBy && typeof key === 'string') {
      matched = await matchRecord(context, kind, request.matchBy, key);
      if (matched !== undefined && matched === own) matched = undefined;
      if (matched !== undefined) {
        const { state } = await loadRecord(deps, spec, matched);
        if (state.status === 'none' || !(await stateInScope(deps, actor, spec, state))) {
          results.push({ row: line, action: 'error', errors: [problem(request.matchBy, `A ${kind.singular} with this ${label(request.matchBy)} exists outside your data scope`)] });
          continue;
        }
      }
    }
    const inFile = [
      ...kind.uniqueFields.flatMap((unique) => {
        const value = unique.normalize(fields[unique.field]);
        return value === undefined ? [] : [`${unique.scope}:${value}`];
      }),
      ...(request.matchBy && typeof key === 'string' ? [`key:${request.matchBy}:${key.trim().toLowerCase()}`] : []),
      ...(matched ? [`id:${matched}`] : []),
    ];
    const earlier = inFile.map((k) => claimedInFile.get(k)).find((n) => n !== undefined);
    if (earlier !== undefined) {
      results.push({ row: line, action: 'skip', reason: `Same ${kind.singular} as row ${earlier}` });
      continue;
    }
    if (errors.length) {
      results.push({ row: line, action: 'error', errors });
      continue;
    }
    if (matched) {
      const { state } = await loadRecord(deps, spec, matched);
      const current = (state as unknown as { fields: Record<string, unknown> }).fields;
      const flat = Object.fromEntries(Object.entries(values).filter(([k]) => standard.includes(k) || k.startsWith('custom.')));
      const changes = changesByPolicy(current, flat, request.policy as Record<string, Policy>);
      const patch = kind.fields.partial().safeParse(Object.fromEntries(Object.entries(changes).filter(([k]) => !k.startsWith('custom.'))));
      if (!patch.success) results.push({ row: line, action: 'error', recordId: matched, errors: schemaErrors(patch.error, columnOf) });
      else if (Object.keys(changes).length === 0) results.push({ row: line, action: 'skip', recordId: matched, reason: 'unchanged' });
      else {
        const taken = await uniqueTaken(deps, kind, changes, matched);
        if (taken.length) results.push({ row: line, action: 'error', recordId: matched, errors: taken.map((field) => problem(field, `Another ${kind.singular} has this ${label(field)}`)) });
        else results.push({ row: line, action: 'update', recordId: matched, changes: Object.keys(changes), write: { update: nestCustom(changes) } });
      }
      for (const k of inFile) claimedInFile.set(k, line);
      continue;
    }
    const parsed = kind.fields.safeParse(fields);
    const rowErrors = parsed.success ? [] : schemaErrors(parsed.error, columnOf);
    const write: CreateWrite = { create: parsed.success ? (parsed.data as Record<string, unknown>) : fields };
    const ownerName = values.ownerUsername;
    if (kind.owned && typeof ownerName === 'string') {
      const owner = await ownerOf(deps, owners, ownerName);
      if (owner instanceof DomainError) rowErrors.push(problem('ownerUsername', owner.message));
      else write.ownerId = owner;
    }
    if (kind.parent) {
      const parent = await kind.parent(context, values);
      if ('field' in parent) rowErrors.push(problem(parent.field, parent.message));
      else write.customerId = parent.customerId;
    }
    if (parsed.success)
      for (const field of await uniqueTaken(deps, kind, parsed.data as Record<string, unknown>, own))
        rowErrors.push(problem(field, `A ${kind.singular} with this ${label(field)} exists already${request.matchBy ? '' : ' (match by it to update that one)'}`));
    if (rowErrors.length) results.push({ row: line, action: 'error', errors: rowErrors });
    else {
      results.push({ row: line, action: 'create', write });
      for (const k of inFile) claimedInFile.set(k, line);
    }
  }
  return results;
}

/** A field as a message names it. */
const label = (field: string) => ({ taxNumber: 'tax number', erpCode: 'ERP code' })[field] ?? field;

/** The record a key names: by its reservation for a unique value (a name, a tax number, a code), else as the record type finds it. */
async function matchRecord(context: RowContext, kind: ImportKind, by: string, value: string): Promise<string | undefined> {
  const unique = kind.uniqueFields.find((field) => field.field === by);
  if (!unique) return kind.match(context, by, value);
  const normalized = unique.normalize(value);
  return normalized === undefined ? undefined : currentHolder(context.deps, unique.scope, normalized);
}

/** Changes with custom values (`custom.<key>`) nested under `custom`, as a change command takes them. */
function nestCustom(changes: Record<string, unknown>): Record<string, unknown> {
  const custom = Object.fromEntries(Object.entries(changes).filter(([key]) => key.startsWith('custom.')).map(([key, value]) => [key.slice('custom.'.length), value]));
  const plain = Object.fromEntries(Object.entries(changes).filter(([key]) => !key.startsWith('custom.')));
  return Object.keys(custom).length ? { ...plain, custom } : plain;
}

/** The unique fields (a name, a tax number, a code) among `fields` that another record holds. */
async function uniqueTaken(deps: CommandDeps, kind: ImportKind, fields: Record<string, unknown>, self: string | undefined): Promise<string[]> {
  const taken: string[] = [];
  for (const unique of kind.uniqueFields) {
    const value = unique.normalize(fields[unique.field]);
    if (value === undefined) continue;
    const holder = await currentHolder(deps, unique.scope, value);
    if (holder !== undefined && holder !== self) taken.push(unique.field);
  }
  return taken;
}

async function ownerOf(deps: CommandDeps, cache: Map<string, string | DomainError>, username: string): Promise<string | DomainError> {
  const known = cache.get(username);
  if (known !== undefined) return known;
  const employee = await findEmployeeByUsername(deps, username);
  const owner =
    !employee ? new DomainError('import.owner_unknown', `No employee has the login name ${username}`) : employee.status === 'disabled' ? new DomainError('import.owner_disabled', `${username} is disabled and cannot own records`) : employee.employeeId;
  cache.set(username, owner);
  return owner;
}
