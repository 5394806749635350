/** A 128-bit FNV-1a hash of a text's UTF-8 bytes: pure and stable across versions and machines. */
function fnv1a128(text: string): bigint {
  const prime = 0x0000000001000000000000000000013bn;
  const mask = (1n << 128n) - 1n;
  let hash = 0x6c62272e07bb014262b821756295c58dn;
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * prime) & mask;
  return hash;
}

/**
 * A UUID (version 8, custom) that a text always gives: for records whose identity is a natural key (a competitor
 * made from a name, a budget for one target, category and month), so every writer agrees on it without state.
 */
export function stableUuid(text: string): string {
  const hex = fnv1a128(text).toString(16).padStart(32, '0');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
