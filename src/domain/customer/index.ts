export * from './events.ts';
export * from './decider.ts';
