export * from './events.ts';
export * from './decider.ts';
export * from './revert.ts';
