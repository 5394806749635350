import { describe, expect, it } from 'vitest';
import { defaultStages, firstOpenStage, lostStage, type Stage, StageList, sortedStages, wonStage } from '../../src/domain/opportunity/stages.ts';

const messages = (stages: unknown) => {
  const result = StageList.safeParse(stages);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};
const open = (key: string, order: number): Stage => ({ key, name: key, probability: 50, isClosed: false, isWon: false, order });
const won: Stage = { key: 'won', name: 'Won', probability: 100, isClosed: true, isWon: true, order: 90 };
const lost: Stage = { key: 'lost', name: 'Lost', probability: 0, isClosed: true, isWon: false, order: 99 };

describe('opportunity stages', () => {
  it('accepts the default list and a minimal one', () => {
    expect(messages(defaultStages)).toEqual([]);
    expect(messages([open('a', 1), won, lost])).toEqual([]);
  });

  it('needs 3 to 30 stages, unique keys, one won (closed), one lost, at least one open', () => {
    expect(messages([won, lost])).not.toEqual([]);
    expect(messages(Array.from({ length: 29 }, (_, i) => open(`s${i}`, i)).concat([won, lost]))).not.toEqual([]);
    expect(messages(Array.from({ length: 28 }, (_, i) => open(`s${i}`, i)).concat([won, lost]))).toEqual([]);
    expect(messages([open('a', 1), open('a', 2), won, lost])).toEqual(['1.key: Stage a appears twice']);
    expect(messages([open('a', 1), { ...won, isClosed: false }, lost])).toEqual(['1.isClosed: A won stage is closed']);
    expect(messages([open('a', 1), lost, { ...lost, key: 'lost2' }])).toEqual([': Exactly one stage is the won stage', ': Exactly one stage is the lost stage']);
    expect(messages([open('a', 1), won, { ...won, key: 'won2' }])).toEqual([': Exactly one stage is the won stage', ': Exactly one stage is the lost stage']);
    expect(messages([won, lost, { ...won, key: 'w2', isWon: false }])).toEqual([': Exactly one stage is the lost stage', ': At least one stage is open']);
    expect(messages([won, lost, { ...lost, key: 'l2' }].map((s, i) => (i === 2 ? { ...s, isClosed: true, isWon: false } : s)))).toContain(': At least one stage is open');
    expect(messages([{ ...open('A', 1) }, won, lost])).not.toEqual([]);
  });

  it('finds the won, lost and first open stage, in order', () => {
    const stages = [lost, open('late', 20), won, open('early', 10)];
    expect(sortedStages(stages).map((s) => s.key)).toEqual(['early', 'late', 'won', 'lost']);
    expect(stages.map((s) => s.key)).toEqual(['lost', 'late', 'won', 'early']);
    expect(wonStage(stages).key).toBe('won');
    expect(lostStage(stages).key).toBe('lost');
    expect(firstOpenStage(stages).key).toBe('early');
  });
});
