import type { Actor } from './context.ts';

export const modules = ['customers', 'contacts', 'leads', 'opportunities', 'quotes', 'orders', 'tickets', 'campaigns', 'products', 'reports', 'settings'] as const;
export const actions = ['view', 'create', 'edit', 'delete', 'export', 'assign', 'approve'] as const;
export type Module = (typeof modules)[number];
export type Action = (typeof actions)[number];

/** Authenticated, but this action is not among the actor's permissions (HTTP 403). */
export class ForbiddenError extends Error {
  constructor(
    readonly module: Module,
    readonly action: Action,
  ) {
    super(`You are not allowed to ${action} ${module}`);
    this.name = 'ForbiddenError';
  }
}

/**
 * Built-in role templates (the organisation issue turns roles into data an administrator edits):
 * admin may do everything; manager everything but settings; salesperson views, creates and edits.
 */
const templates: Record<string, (module: Module, action: Action) => boolean> = {
  admin: () => true,
  manager: (module) => module !== 'settings',
  salesperson: (module, action) => module !== 'settings' && ['view', 'create', 'edit'].includes(action),
};

export const isAllowed = (actor: Actor, module: Module, action: Action): boolean =>
  actor.roles.some((role) => templates[role]?.(module, action) ?? false);

export function authorize(actor: Actor, module: Module, action: Action): void {
  if (!isAllowed(actor, module, action)) throw new ForbiddenError(module, action);
}
