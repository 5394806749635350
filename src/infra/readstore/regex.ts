/** Escapes text for a `$regex` so user input is matched literally (no regex injection). */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
