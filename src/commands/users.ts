import { DomainError } from '../domain/shared/errors.ts';
import { normalizeUsername, type UserState, userDecider, userStream } from '../domain/user/index.ts';
import type { Actor, CommandDeps, RequestMeta } from './context.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';
import { execute, load } from './pipeline.ts';
import { claim, currentHolder, isHeld, releaseQuietly } from './reservations.ts';

export type ActiveUser = Extract<UserState, { status: 'active' }>;

export const MIN_PASSWORD_LENGTH = 10;
const USERNAME_SCOPE = 'username';

export const systemActor: Actor = { userId: 'system', username: 'system', roles: ['admin'], departmentPath: '/' };

export const toActor = (user: ActiveUser): Actor => ({
  userId: user.userId,
  username: user.username,
  roles: user.roles,
  departmentPath: user.departmentPath,
});

export async function getUser(deps: CommandDeps, userId: string): Promise<ActiveUser | undefined> {
  const { state } = await load(deps, userDecider, userStream(userId));
  return state.status === 'active' ? state : undefined;
}

export async function findUserByUsername(deps: CommandDeps, username: string): Promise<ActiveUser | undefined> {
  const normalized = normalizeUsername(username);
  const holder = await currentHolder(deps, USERNAME_SCOPE, normalized);
  const user = holder ? await getUser(deps, holder) : undefined;
  return user && normalizeUsername(user.username) === normalized ? user : undefined;
}

/** Checks a username and password; the same work and the same answer for an unknown user and a wrong password. */
export async function authenticate(deps: CommandDeps, username: string, password: string): Promise<ActiveUser | undefined> {
  const user = await findUserByUsername(deps, username);
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  return user && valid ? user : undefined;
}

export interface NewUser {
  username: string;
  displayName: string;
  password: string;
  roles: string[];
  departmentPath: string;
}

export async function createUser(deps: CommandDeps, input: NewUser, actor: Actor, meta: RequestMeta): Promise<string> {
  if (input.password.length < MIN_PASSWORD_LENGTH)
    throw new DomainError('user.password_too_short', `A password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  const userId = meta.ids.newId();
  const username = normalizeUsername(input.username);
  const check = {
    holds: async (holderId: string) => (await getUser(deps, holderId))?.username === username,
    exists: async (holderId: string) => (await getUser(deps, holderId)) !== undefined,
  };
  try {
    await claim(deps, USERNAME_SCOPE, username, userId, check, actor, meta);
  } catch (error) {
    if (isHeld(error)) throw new DomainError('user.username_taken', `The username ${username} is taken`);
    throw error;
  }
  try {
    const passwordHash = await hashPassword(input.password);
    await execute(
      deps,
      userDecider,
      userStream(userId),
      { type: 'CreateUser', userId, username, displayName: input.displayName, passwordHash, roles: input.roles, departmentPath: input.departmentPath },
      actor,
      meta,
    );
  } catch (error) {
    await releaseQuietly(deps, USERNAME_SCOPE, username, userId, actor, meta);
    throw error;
  }
  return userId;
}
