import { describe, expect, it } from 'vitest';
import { jsonLogger } from '../../src/infra/logger.ts';

describe('the JSON logger', () => {
  it("a child writes its bindings on the lines its level lets through, and nothing below it", () => {
    const lines: string[] = [];
    const child = jsonLogger('warn', (line) => lines.push(line)).child({ correlationId: 'c-1', token: 'a-secret' });
    child.debug('quiet');
    child.info('quiet too');
    expect(lines).toEqual([]);
    child.warn('loud', { n: 1 });
    child.child({ traceId: 't-9' }).error('louder');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toMatchObject([
      { level: 'warn', msg: 'loud', correlationId: 'c-1', n: 1, token: '[redacted]' },
      { level: 'error', msg: 'louder', correlationId: 'c-1', traceId: 't-9', token: '[redacted]' },
    ]);
    expect(lines.join('\n')).not.toContain('a-secret');
  });
});
