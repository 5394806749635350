import { describe, expect, it } from 'vitest';
import { stableUuid } from '../../src/domain/shared/stable-id.ts';

/** The first implementation (BigInt), kept as the reference: ids already stored must come out the same. */
function reference(text: string): string {
  const prime = 0x0000000001000000000000000000013bn;
  const mask = (1n << 128n) - 1n;
  let hash = 0x6c62272e07bb014262b821756295c58dn;
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * prime) & mask;
  const hex = hash.toString(16).padStart(32, '0');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

describe('stableUuid', () => {
  it('gives the ids it always gave (FNV-1a 128 of the UTF-8 bytes), for ASCII, Chinese, empty and long texts', () => {
    const texts = ['', 'a', 'import:0190c4f2-7a3b-7c1d-9e8f-0a1b2c3d4e5f:row:2', '竞争对手 华为', 'x'.repeat(5_000), '\u0000\uffff😀'];
    let seed = 7;
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      texts.push(Array.from({ length: seed % 90 }, (_, j) => String.fromCodePoint(((seed >> (j % 16)) + j * 31) % 0x2fff)).join(''));
    }
    for (const text of texts) expect(stableUuid(text)).toBe(reference(text));
  });

  it('is a version 8 UUID with the RFC variant', () => {
    expect(stableUuid('budget:2026-11')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
