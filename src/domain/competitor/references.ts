import { normalizeName } from '../shared/names.ts';
import { stableUuid } from '../shared/stable-id.ts';

// (A module of its own, with no zod: the log's upcasters use it, and the reading thread loads them.)

/**
 * The id a competitor named `name` gets when it is made from an opportunity's old free-text entry: the same name
 * (as normalised for uniqueness) always gives the same id, so the upcast of old events and the migration that
 * creates the records agree without sharing any state. A UUID of version 8 (custom).
 */
export function competitorIdFor(name: string): string {
  return stableUuid(`competitor:${normalizeName(name)}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whether an entry of an opportunity's competitors is an old free-text name rather than a competitor's id. */
export const isCompetitorName = (entry: string): boolean => !UUID.test(entry);
/** An opportunity's competitors as references: an old free-text name becomes the id of the competitor made from it. */
export const competitorReferences = (entries: readonly string[]): string[] => [...new Set(entries.map((entry) => (isCompetitorName(entry) ? competitorIdFor(entry) : entry)))];
