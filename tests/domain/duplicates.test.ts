import { describe, expect, it } from 'vitest';
import { coreName, duplicateCandidates, nameSimilarity } from '../../src/domain/customer/duplicates.ts';

describe('likely duplicate customers', () => {
  it('compares names without their legal forms, brackets and punctuation', () => {
    expect(coreName('上海华东机械有限公司')).toBe('上海华东机械');
    expect(coreName('华东机械（上海）有限公司')).toBe('华东机械上海');
    expect(coreName('Acme Co., Ltd.')).toBe(coreName('ACME Company'));
    expect(nameSimilarity(coreName('上海华东机械有限公司'), coreName('华东机械（上海）有限公司'))).toBe(0.8);
    expect(nameSimilarity('abc', 'xyz')).toBe(0);
  });

  it('pairs the same core name, reordered names, shared tax numbers and phones, best first; unrelated customers are not paired', () => {
    const pairs = duplicateCandidates([
      { id: 'a', name: '上海华东机械有限公司', phones: ['02155550101'] },
      { id: 'b', name: '华东机械（上海）有限公司' },
      { id: 'c', name: '上海华东机械股份有限公司' },
      { id: 'd', name: '杭州西湖纺织厂', taxNumber: '91330100-MA2XXXX1' },
      { id: 'e', name: '西湖印染', taxNumber: '91330100MA2XXXX1' },
      { id: 'f', name: '北京远景科技', phones: ['02155550101'] },
      { id: 'g', name: '深圳南山电子' },
    ]);
    expect(pairs.map((p) => [p.ids.join('+'), p.score, p.reasons.join(',')])).toEqual([
      ['d+e', 100, 'taxNumber'],
      ['a+c', 90, 'name'],
      ['a+b', 64, 'name'],
      ['b+c', 64, 'name'],
      ['a+f', 60, 'phone'],
    ]);
  });

  it('finds a planted duplicate among 20,000 names that share their common words', () => {
    const subjects = Array.from({ length: 20_000 }, (_, i) => ({ id: `c${i}`, name: `客户${i.toString(36)}号贸易有限公司` }));
    subjects.push({ id: 'dup', name: `客户${(123).toString(36)}号贸易公司` });
    const pairs = duplicateCandidates(subjects);
    expect(pairs.find((p) => p.ids.includes('dup'))?.ids).toEqual(['c123', 'dup']);
  });
});
