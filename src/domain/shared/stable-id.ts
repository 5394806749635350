const utf8 = new TextEncoder();
/** FNV-1a's 128-bit offset basis, as eight 16-bit limbs, least significant first. */
const OFFSET_BASIS = [0xc58d, 0x6295, 0x2175, 0x62b8, 0x0142, 0x07bb, 0x272e, 0x6c62];

/**
 * A 128-bit FNV-1a hash of a text's UTF-8 bytes, as 32 hex digits: pure and stable across versions and machines.
 * Computed on eight 16-bit limbs (no BigInt): the prime is 2^88 + 0x13b, so each step is h·0x13b + (h << 88).
 */
function fnv1a128(text: string): string {
  const h = OFFSET_BASIS.slice();
  for (const byte of utf8.encode(text)) {
    h[0]! ^= byte;
    // h << 88 keeps, below 2^128, the low 40 bits of h, landing on limbs 5, 6 and 7 (shifted by 8 bits).
    const s5 = (h[0]! << 8) & 0xffff;
    const s6 = ((h[1]! << 8) | (h[0]! >>> 8)) & 0xffff;
    const s7 = ((h[2]! << 8) | (h[1]! >>> 8)) & 0xffff;
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const v = h[i]! * 0x13b + carry + (i === 5 ? s5 : i === 6 ? s6 : i === 7 ? s7 : 0);
      h[i] = v & 0xffff;
      carry = Math.floor(v / 0x10000);
    }
  }
  let hex = '';
  for (let i = 7; i >= 0; i--) hex += h[i]!.toString(16).padStart(4, '0');
  return hex;
}

/**
 * A UUID (version 8, custom) that a text always gives: for records whose identity is a natural key (a competitor
 * made from a name, a budget for one target, category and month), so every writer agrees on it without state.
 */
export function stableUuid(text: string): string {
  const hex = fnv1a128(text);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
