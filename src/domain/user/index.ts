import { DomainError } from '../shared/errors.ts';

/**
 * A login account. The password arrives here already hashed: hashing is I/O-bound work for the command layer.
 * The organisation issue extends this aggregate with employees, roles and departments.
 */
export type UserEvent =
  | {
      type: 'UserCreated';
      data: {
        userId: string;
        username: string;
        displayName: string;
        passwordHash: string;
        roles: string[];
        departmentPath: string;
      };
    }
  | { type: 'UserPasswordChanged'; data: { userId: string; passwordHash: string } };

export type UserState =
  | { status: 'none' }
  | {
      status: 'active';
      userId: string;
      username: string;
      displayName: string;
      passwordHash: string;
      roles: string[];
      departmentPath: string;
    };

export type UserCommand =
  | {
      type: 'CreateUser';
      userId: string;
      username: string;
      displayName: string;
      passwordHash: string;
      roles: string[];
      departmentPath: string;
    }
  | { type: 'ChangePassword'; userId: string; passwordHash: string };

export const initialState: UserState = { status: 'none' };

export function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserCreated':
      return { status: 'active', ...event.data };
    case 'UserPasswordChanged':
      return state.status === 'none' ? state : { ...state, passwordHash: event.data.passwordHash };
  }
}

export function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'CreateUser': {
      if (state.status !== 'none') throw new DomainError('user.already_exists', `User ${command.userId} already exists`);
      const { type: _type, ...data } = command;
      return [{ type: 'UserCreated', data }];
    }
    case 'ChangePassword':
      if (state.status === 'none') throw new DomainError('user.not_found', `User ${command.userId} does not exist`);
      return [{ type: 'UserPasswordChanged', data: { userId: command.userId, passwordHash: command.passwordHash } }];
  }
}

export const userDecider = { initialState, evolve, decide };
export const userCategory = 'user';
export const userStream = (userId: string): string => `${userCategory}-${userId}`;
export const normalizeUsername = (username: string): string => username.normalize('NFKC').trim().toLowerCase();
