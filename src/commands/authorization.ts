import type { Action, Module } from '../domain/role/index.ts';
import type { Actor } from './context.ts';

export type { Action, Module };

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

export const isAllowed = (actor: Actor, module: Module, action: Action): boolean => actor.permissions[module]?.includes(action) ?? false;

export function authorize(actor: Actor, module: Module, action: Action): void {
  if (!isAllowed(actor, module, action)) throw new ForbiddenError(module, action);
}
