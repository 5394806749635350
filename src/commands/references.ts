import { contactDecider, contactStream } from '../domain/contact/index.ts';
import { customerDecider, customerStream } from '../domain/customer/index.ts';
import { leadDecider, leadStream } from '../domain/lead/index.ts';
import { opportunityDecider, opportunityStream } from '../domain/opportunity/index.ts';
import { orderDecider, orderStream } from '../domain/order/index.ts';
import { quoteDecider, quoteStream } from '../domain/quote/index.ts';
import type { Decider, DomainEvent } from '../domain/shared/decider.ts';
import { DomainError } from '../domain/shared/errors.ts';
import { ownerInScope } from '../access/scope.ts';
import type { Actor, CommandDeps } from './context.ts';
import { load } from './pipeline.ts';

/**
 * The owner of a scoped record, or undefined when it does not exist; null for a customer in the pool (which
 * nobody may attach records to until they claim it). A contact belongs to its customer's owner.
 */
type OwnerOf = (deps: CommandDeps, id: string) => Promise<Holder | null | undefined>;
/** Who a record belongs to: its owner and the collaborators who share it. */
type Holder = { ownerId: string; collaborators?: readonly string[] };

/** For records whose state carries `ownerId`. */
const ownerFrom =
  (decider: Decider<unknown, DomainEvent, { status: string }>, stream: (id: string) => string): OwnerOf =>
  async (deps, id) => {
    const { state } = await load(deps, decider, stream(id));
    if (state.status === 'none') return undefined;
    const { ownerId, fields } = state as { status: string; ownerId: string | null; fields?: { collaborators?: string[] } };
    return ownerId === null ? null : { ownerId, ...(fields?.collaborators ? { collaborators: fields.collaborators } : {}) };
  };

const customerOwner: OwnerOf = ownerFrom(customerDecider as never, customerStream);

/** A kind of scoped record that a body or a reference custom field may name. */
export interface ScopedKind {
  /** The resource (`customers`); its singular names the error (`customer.not_found`). */
  resource: string;
  singular: string;
  ownerOf: OwnerOf;
}

export const scopedKinds: Record<string, ScopedKind> = {
  customers: { resource: 'customers', singular: 'customer', ownerOf: customerOwner },
  contacts: {
    resource: 'contacts',
    singular: 'contact',
    ownerOf: async (deps, id) => {
      const { state } = await load(deps, contactDecider, contactStream(id));
      return state.status === 'active' ? customerOwner(deps, state.customerId) : undefined;
    },
  },
  leads: { resource: 'leads', singular: 'lead', ownerOf: ownerFrom(leadDecider as never, leadStream) },
  opportunities: { resource: 'opportunities', singular: 'opportunity', ownerOf: ownerFrom(opportunityDecider as never, opportunityStream) },
  quotes: { resource: 'quotes', singular: 'quote', ownerOf: ownerFrom(quoteDecider as never, quoteStream) },
  orders: { resource: 'orders', singular: 'order', ownerOf: ownerFrom(orderDecider as never, orderStream) },
};

/**
 * The body fields that name a scoped record, wherever they appear in a request body. Company-wide reference
 * data (products, stages, campaigns, departments, employees: `productId`, `ownerId`, …) only has to exist and is
 * checked by its command.
 */
export const scopedReferenceFields: Record<string, ScopedKind> = {
  customerId: scopedKinds.customers!,
  contactId: scopedKinds.contacts!,
  leadId: scopedKinds.leads!,
  opportunityId: scopedKinds.opportunities!,
  quoteId: scopedKinds.quotes!,
  orderId: scopedKinds.orders!,
};

/** Whether a scoped record exists and the actor may see it (a customer in the pool counts as not). */
export async function referenceVisible(deps: CommandDeps, actor: Actor, kind: ScopedKind, id: string): Promise<boolean> {
  const holder = await kind.ownerOf(deps, id);
  return typeof holder === 'object' && holder !== null && (await ownerInScope(deps, actor, holder.ownerId, holder.collaborators));
}

/** Whether the actor may read a record (one in the pool included): what a conflict answer may name. */
export async function recordVisible(deps: CommandDeps, actor: Actor, kind: ScopedKind, id: string): Promise<boolean> {
  const holder = await kind.ownerOf(deps, id);
  return holder !== undefined && (await ownerInScope(deps, actor, holder?.ownerId ?? null, holder?.collaborators));
}

/** The same answer for a record that does not exist and one outside the caller's scope: 404 naming the field. */
export const referenceNotFound = (kind: ScopedKind, id: string, path: string) =>
  new DomainError(`${kind.singular}.not_found`, `${path}: ${kind.singular} ${id} does not exist or is outside your data scope`, { errors: [{ path, message: `No ${kind.singular} with this id in your data scope` }] });

/**
 * Every id in a request body that names a scoped record must name one in the actor's data scope; the first
 * that does not answers 404, as if it did not exist. Walks nested objects and arrays (`lines[].quoteId`).
 */
export async function assertReferencesInScope(deps: CommandDeps, actor: Actor, body: unknown, path = ''): Promise<void> {
  if (Array.isArray(body)) {
    for (const [i, item] of body.entries()) await assertReferencesInScope(deps, actor, item, `${path}[${i}]`);
    return;
  }
  if (!body || typeof body !== 'object') return;
  for (const [key, value] of Object.entries(body)) {
    const here = path ? `${path}.${key}` : key;
    const kind = scopedReferenceFields[key];
    if (kind && typeof value === 'string') {
      if (!(await referenceVisible(deps, actor, kind, value))) throw referenceNotFound(kind, value, here);
    } else if (key !== 'custom') await assertReferencesInScope(deps, actor, value, here);
  }
}
