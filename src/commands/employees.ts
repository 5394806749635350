import { loginCategory } from '../domain/categories.ts';
import { hash } from 'node:crypto';
import { type EmployeeCommand, employeeDecider, type EmployeeFields, type EmployeeState, employeeStream, normalizeUsername } from '../domain/employee/index.ts';
import { DomainError } from '../domain/shared/errors.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { assertRolesExist, departmentExists } from './org.ts';
import { WrongExpectedRevisionError } from '../infra/eventstore/port.ts';
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { execute, factEvent, load } from './pipeline.ts';
import { claim, currentHolder, isHeld, releaseQuietly } from './reservations.ts';

export type KnownEmployee = Extract<EmployeeState, { status: 'active' | 'disabled' }>;

export const MIN_PASSWORD_LENGTH = 10;
const USERNAME_SCOPE = 'username';

/** Writes done by the system itself (bootstrap, scheduled jobs). */
export const systemActor: Actor = {
  userId: 'system',
  username: 'system',
  roleIds: [],
  permissions: {},
  dataScope: 'all',
  departmentId: null,
  departmentPath: '/',
  fieldRules: {},
};

/** Changes whenever the password does (a new salt every time); tokens carry it, so a new password revokes them. */
export const passwordStamp = (account: { passwordHash: string }): string => hash('sha256', account.passwordHash, 'base64url').slice(0, 16);

export async function getEmployee(deps: CommandDeps, employeeId: string): Promise<KnownEmployee | undefined> {
  const { state } = await load(deps, employeeDecider, employeeStream(employeeId));
  return state.status === 'none' ? undefined : state;
}

export async function findEmployeeByUsername(deps: CommandDeps, username: string): Promise<KnownEmployee | undefined> {
  const normalized = normalizeUsername(username);
  const holder = await currentHolder(deps, USERNAME_SCOPE, normalized);
  const employee = holder ? await getEmployee(deps, holder) : undefined;
  return employee?.account && normalizeUsername(employee.account.username) === normalized ? employee : undefined;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new DomainError('employee.password_too_short', `A password needs at least ${MIN_PASSWORD_LENGTH} characters`, { minLength: MIN_PASSWORD_LENGTH });
}

export interface NewEmployee {
  fields: EmployeeFields;
  roleIds: string[];
  /** Hired by the ERP bridge for that ERP record. */
  erpCode?: string;
  account?: { username: string; password: string; mustChangePassword: boolean };
}

/** Hires an employee and, when a username is given, opens their login account (username unique company-wide). */
export async function hireEmployee(deps: CommandDeps, input: NewEmployee, actor: Actor, meta: RequestMeta) {
  if (input.fields.departmentId && !(await departmentExists(deps, input.fields.departmentId)))
    throw new DomainError('employee.department_unknown', `Department ${input.fields.departmentId} does not exist`, { departmentId: input.fields.departmentId });
  await assertRolesExist(deps, input.roleIds);
  if (input.account) checkPassword(input.account.password);
  const employeeId = meta.ids.newId();
  const username = input.account ? normalizeUsername(input.account.username) : undefined;
  if (username) {
    const check = {
      holds: async (holderId: string) => (await getEmployee(deps, holderId))?.account?.username === username,
      exists: async (holderId: string) => (await getEmployee(deps, holderId)) !== undefined,
    };
    try {
      await claim(deps, USERNAME_SCOPE, username, employeeId, check, actor, meta);
    } catch (error) {
      if (isHeld(error)) throw new DomainError('employee.username_taken', `The username ${username} is taken`, { username });
      throw error;
    }
  }
  try {
    const at = deps.clock.now().toISOString();
    const passwordHash = input.account ? await hashPassword(input.account.password) : undefined;
    const result = await execute(
      deps,
      employeeDecider,
      employeeStream(employeeId),
      { type: 'HireEmployee', employeeId, fields: input.fields, roleIds: input.roleIds, ...(input.erpCode ? { erpCode: input.erpCode } : {}) },
      actor,
      meta,
    );
    if (username && passwordHash) {
      const opened = await execute(
        deps,
        employeeDecider,
        employeeStream(employeeId),
        { type: 'OpenAccount', employeeId, username, passwordHash, mustChangePassword: input.account!.mustChangePassword, at },
        actor,
        { ...meta, requestId: `${meta.requestId}:account` },
      );
      return { ...opened, employeeId };
    }
    return { ...result, employeeId };
  } catch (error) {
    if (username) await releaseQuietly(deps, USERNAME_SCOPE, username, employeeId, actor, meta);
    throw error;
  }
}

const run = (deps: CommandDeps, employeeId: string, command: EmployeeCommand, actor: Actor, meta: RequestMeta) =>
  execute(deps, employeeDecider, employeeStream(employeeId), command, actor, meta);

export async function changeEmployee(
  deps: CommandDeps,
  employeeId: string,
  input: { changes: Partial<Record<keyof EmployeeFields, unknown>>; roleIds?: string[] },
  actor: Actor,
  meta: RequestMeta,
) {
  const departmentId = input.changes.departmentId;
  if (typeof departmentId === 'string' && !(await departmentExists(deps, departmentId)))
    throw new DomainError('employee.department_unknown', `Department ${departmentId} does not exist`, { departmentId });
  let result = await run(deps, employeeId, { type: 'ChangeEmployee', employeeId, changes: input.changes }, actor, meta);
  if (input.roleIds) {
    await assertRolesExist(deps, input.roleIds);
    const assigned = await run(deps, employeeId, { type: 'AssignRoles', employeeId, roleIds: input.roleIds }, actor, { ...meta, requestId: `${meta.requestId}:roles` });
    if (assigned.changed || !result.changed) result = assigned;
  }
  return result;
}

export const disableEmployee = (deps: CommandDeps, employeeId: string, reason: string | undefined, actor: Actor, meta: RequestMeta) =>
  run(deps, employeeId, { type: 'DisableEmployee', employeeId, ...(reason ? { reason } : {}) }, actor, meta);

export const enableEmployee = (deps: CommandDeps, employeeId: string, actor: Actor, meta: RequestMeta) =>
  run(deps, employeeId, { type: 'EnableEmployee', employeeId }, actor, meta);

/** An administrator sets a new password; the employee must change it at the next login. */
export async function resetPassword(deps: CommandDeps, employeeId: string, newPassword: string, actor: Actor, meta: RequestMeta) {
  checkPassword(newPassword);
  const passwordHash = await hashPassword(newPassword);
  return run(deps, employeeId, { type: 'ResetPassword', employeeId, passwordHash, at: deps.clock.now().toISOString() }, actor, meta);
}

/** The employee changes their own password, proving the current one. */
export async function changeOwnPassword(deps: CommandDeps, actor: Actor, currentPassword: string, newPassword: string, meta: RequestMeta) {
  const employee = await getEmployee(deps, actor.userId);
  if (!employee?.account) throw new DomainError('auth.wrong_password', 'The current password is wrong');
  // A wrong current password counts as a failed login for the account: the same throttle and lock.
  const account = employee.account;
  const proven = await throttledCheck(
    deps,
    account.username,
    meta,
    () => verifyPassword(currentPassword, account.passwordHash),
    (ok) => (ok ? undefined : { type: 'LoginFailed', data: { username: normalizeUsername(account.username), reason: 'wrong_current_password', employeeId: employee.employeeId }, actor: employee.employeeId }),
  );
  if (!proven) throw new DomainError('auth.wrong_password', 'The current password is wrong');
  checkPassword(newPassword);
  if (await verifyPassword(newPassword, employee.account.passwordHash)) throw new DomainError('auth.password_unchanged', 'The new password must differ from the current one');
  const passwordHash = await hashPassword(newPassword);
  return run(deps, actor.userId, { type: 'ChangePassword', employeeId: actor.userId, passwordHash, at: deps.clock.now().toISOString() }, actor, meta);
}

// ---- Login: throttled, and every attempt on a real account is a security audit event ----

/** Consecutive failures before logins slow down, and before they lock; how long a lock lasts. */
export const THROTTLE = { slowAfter: 3, lockAfter: 10, lockMs: 15 * 60_000, windowMs: 15 * 60_000 };

export class LoginThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many failed logins for this username; try again in ${retryAfterSeconds} s`);
    this.name = 'LoginThrottledError';
  }
}

const loginStream = (username: string) => `${loginCategory}-${hash('sha256', normalizeUsername(username), 'hex').slice(0, 40)}`;

/**
 * When the next attempt for a username is allowed, from its recent failures (1 s, 2 s, 4 s … then a lock); a
 * success or an administrator's unlock starts the count again.
 */
async function nextAttemptAt(deps: CommandDeps, username: string): Promise<{ streamId: string; notBefore: number; revision: bigint }> {
  const streamId = loginStream(username);
  const events = await deps.eventStore.readStream(streamId);
  const revision = events.length ? events[events.length - 1]!.revision : -1n;
  const now = deps.clock.now().getTime();
  let failures = 0;
  let lastFailure = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    const at = new Date(event.metadata.at).getTime();
    if (event.type !== 'LoginFailed' || now - at > THROTTLE.windowMs) break;
    failures += 1;
    lastFailure = Math.max(lastFailure, at);
  }
  if (failures >= THROTTLE.lockAfter) return { streamId, notBefore: lastFailure + THROTTLE.lockMs, revision };
  if (failures >= THROTTLE.slowAfter) return { streamId, notBefore: lastFailure + 1000 * 2 ** (failures - THROTTLE.slowAfter), revision };
  return { streamId, notBefore: 0, revision };
}

/** How many times an attempt re-reads its username's stream after a concurrent attempt before giving up (429). */
const MAX_ATTEMPT_RACES = 50;

/**
 * One credential check for an account under its username's throttle, free of races: its outcome is recorded
 * with the stream revision the throttle was read at, and answered only then. An attempt that lost a race
 * re-reads the stream and is refused (429, its result untold) if the attempts recorded meanwhile locked it, so
 * N parallel wrong guesses count as N. `outcome` names the event to record; a success that records nothing
 * is still refused if the account was locked meanwhile.
 */
async function throttledCheck(
  deps: CommandDeps,
  username: string,
  meta: RequestMeta,
  check: () => Promise<boolean>,
  outcome: (ok: boolean) => { type: 'LoginSucceeded' | 'LoginFailed'; data: Record<string, unknown>; actor: string } | undefined,
): Promise<boolean> {
  let ok: boolean | undefined;
  for (let race = 0; race < MAX_ATTEMPT_RACES; race++) {
    const { streamId, notBefore, revision } = await nextAttemptAt(deps, username);
    const now = deps.clock.now().getTime();
    if (notBefore > now) throw new LoginThrottledError(Math.ceil((notBefore - now) / 1000));
    ok ??= await check();
    const event = outcome(ok);
    if (!event) return ok;
    try {
      await deps.eventStore.append(
        streamId,
        [factEvent(deps, meta, event.actor, event)],
        revision < 0n ? 'no_stream' : revision,
      );
      return ok;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
    }
  }
  throw new LoginThrottledError(1);
}

/**
 * Checks a username and password. The same work and the same answer for an unknown user, a wrong password
 * and a disabled account; repeated failures on an account slow down and then lock (LoginThrottledError → 429).
 * An unknown username writes no event (`unknownUser` counts it instead), so random usernames cannot grow the
 * log; a password hash written with older parameters is replaced by one with today's (`PasswordRehashed`).
 */
export async function login(deps: CommandDeps, username: string, password: string, meta: RequestMeta, unknownUser: () => Promise<void>): Promise<KnownEmployee | undefined> {
  const employee = await findEmployeeByUsername(deps, username);
  if (!employee?.account) {
    await verifyPassword(password, DUMMY_HASH);
    await unknownUser();
    return undefined;
  }
  const account = employee.account;
  const normalized = normalizeUsername(username);
  let valid = false;
  const ok = await throttledCheck(
    deps,
    username,
    meta,
    async () => (valid = await verifyPassword(password, account.passwordHash)) && employee.status === 'active',
    (ok) =>
      ok
        ? { type: 'LoginSucceeded', data: { employeeId: employee.employeeId, username: normalized }, actor: employee.employeeId }
        : { type: 'LoginFailed', data: { username: normalized, reason: valid ? 'disabled' : 'wrong_password', employeeId: employee.employeeId }, actor: 'anonymous' },
  );
  if (!ok) return undefined;
  if (needsRehash(account.passwordHash)) {
    const passwordHash = await hashPassword(password);
    await run(deps, employee.employeeId, { type: 'RehashPassword', employeeId: employee.employeeId, passwordHash }, systemActor, meta);
    return getEmployee(deps, employee.employeeId);
  }
  return employee;
}

/** An administrator lifts a lock on an account's logins at once (the failures before it stop counting). */
export async function unlockLogins(deps: CommandDeps, employeeId: string, actor: Actor, meta: RequestMeta): Promise<{ position: bigint; revision: bigint }> {
  const employee = await getEmployee(deps, employeeId);
  if (!employee) throw new DomainError('employee.not_found', `Employee ${employeeId} does not exist`, { employeeId });
  if (!employee.account) throw new DomainError('employee.no_account', 'This employee has no login account');
  const result = await deps.eventStore.append(
    loginStream(employee.account.username),
    [factEvent(deps, meta, actor.userId, { type: 'LoginUnlocked', data: { employeeId, username: normalizeUsername(employee.account.username) } })],
    'any',
  );
  return { position: result.position, revision: result.nextExpectedRevision };
}
