import { normalizeName, normalizeTaxNumber } from '../shared/normalize.ts';

/**
 * Likely duplicate customers (疑似重复客户), for the duplicates finder before a merge. Names are unique after
 * normalisation, so duplicates differ in their legal form or a little more ("上海华东机械有限公司" and "华东机械（上海）
 * 有限公司", "Acme Co., Ltd." and "ACME Company"): names are compared by their core (legal forms, brackets and
 * punctuation removed) and by the similarity of their characters; phones (the customer's and its contacts') and tax
 * numbers by equality.
 */
export interface DuplicateSubject {
  id: string;
  name?: string;
  taxNumber?: string;
  /** Normalised phone numbers of the customer and its contacts. */
  phones?: readonly string[];
}

export type DuplicateReason = 'name' | 'taxNumber' | 'phone';

export interface DuplicatePair {
  ids: [string, string];
  /** 0–100: how likely the two are one company. */
  score: number;
  reasons: DuplicateReason[];
  /** The names' similarity, 0–1 (1: the same core name). */
  nameSimilarity?: number;
}

/** Legal forms and other words that do not tell companies apart, longest first. */
const LEGAL_FORMS = [
  '股份有限公司', '有限责任公司', '集团有限公司', '有限公司', '分公司', '总公司', '集团', '公司', '厂', '商行', '工作室',
  'company limited', 'co., ltd.', 'co.,ltd.', 'co. ltd.', 'co ltd', 'limited', 'ltd.', 'ltd', 'incorporated', 'inc.', 'inc', 'corporation', 'corp.', 'corp', 'company', 'co.', 'gmbh', 'llc', 'plc', 'group',
];

/** A name's core: NFKC, lower case, bracketed parts kept but brackets dropped, legal forms removed, then normalised. */
export function coreName(name: string): string {
  let text = name.normalize('NFKC').toLowerCase().replace(/[()（）[\]【】]/g, ' ');
  for (const form of LEGAL_FORMS) text = text.split(form).join(' ');
  return normalizeName(text);
}

/** Character bigrams of a core name (a one-character name is its own bigram). */
const bigrams = (text: string): string[] => {
  const chars = [...text];
  if (chars.length < 2) return chars.length ? [text] : [];
  return chars.slice(1).map((char, i) => chars[i]! + char);
};

/** The Sørensen–Dice similarity of two core names' bigram multisets, 0–1. */
export function nameSimilarity(a: string, b: string): number {
  if (a === b) return a ? 1 : 0;
  const left = bigrams(a);
  const right = bigrams(b);
  if (!left.length || !right.length) return 0;
  const counts = new Map<string, number>();
  for (const gram of left) counts.set(gram, (counts.get(gram) ?? 0) + 1);
  let shared = 0;
  for (const gram of right) {
    const n = counts.get(gram) ?? 0;
    if (n > 0) {
      shared += 1;
      counts.set(gram, n - 1);
    }
  }
  return (2 * shared) / (left.length + right.length);
}

/** Names at least this similar count as a reason. */
export const NAME_SIMILARITY_THRESHOLD = 0.75;
/** Groups larger than this (a phone shared by a whole trade fair) are no evidence and are not paired. */
const MAX_GROUP = 50;

/**
 * The pairs of subjects that are likely one company, best first: a shared tax number scores 100; the same core name
 * 90, a similar one up to 80 (by its similarity); a shared phone 60, or adds 20 to a name match (at most 100).
 * Candidates come from blocks (a shared rare bigram of the core name, the same tax number, the same phone), so the
 * work grows with the subjects, not with their square.
 */
export function duplicateCandidates(subjects: readonly DuplicateSubject[], options: { minScore?: number } = {}): DuplicatePair[] {
  const minScore = options.minScore ?? 50;
  const cores = new Map(subjects.map((s) => [s.id, s.name ? coreName(s.name) : '']));
  const pairs = new Map<string, DuplicatePair>();
  const blocks = new Map<string, string[]>();
  const block = (key: string, id: string) => {
    const members = blocks.get(key);
    if (members) members.push(id);
    else blocks.set(key, [id]);
  };
  // Similar names share most of their bigrams, so they share some of their rarest ones: each name is blocked under
  // its rarest bigrams (prefix filtering), which finds reordered names ("上海华东机械" / "华东机械上海") too.
  const frequency = new Map<string, number>();
  for (const core of cores.values()) for (const gram of new Set(bigrams(core))) frequency.set(gram, (frequency.get(gram) ?? 0) + 1);
  for (const subject of subjects) {
    const core = cores.get(subject.id)!;
    const grams = [...new Set(bigrams(core))].sort((x, y) => frequency.get(x)! - frequency.get(y)! || (x < y ? -1 : x > y ? 1 : 0));
    // Two names at the threshold share all but this many of a name's bigrams: one of these is among them.
    const rarest = grams.slice(0, Math.max(1, grams.length - Math.ceil(NAME_SIMILARITY_THRESHOLD * grams.length) + 1));
    for (const gram of rarest) block(`n:${gram}`, subject.id);
    if (subject.taxNumber) block(`t:${normalizeTaxNumber(subject.taxNumber)}`, subject.id);
    for (const phone of new Set(subject.phones ?? [])) if (phone) block(`p:${phone}`, subject.id);
  }
  const byId = new Map(subjects.map((s) => [s.id, s]));
  for (const [key, members] of blocks) {
    if (members.length < 2 || members.length > MAX_GROUP * (key.startsWith('n:') ? 4 : 1)) continue;
    for (let i = 0; i < members.length; i++)
      for (let j = i + 1; j < members.length; j++) {
        const [a, b] = [members[i]!, members[j]!].sort() as [string, string];
        const id = `${a}\u0001${b}`;
        if (!pairs.has(id)) {
          const pair = scorePair(byId.get(a)!, byId.get(b)!, cores);
          if (pair) pairs.set(id, pair);
        }
      }
  }
  return [...pairs.values()].filter((pair) => pair.score >= minScore).sort((x, y) => y.score - x.score || x.ids[0].localeCompare(y.ids[0]) || x.ids[1].localeCompare(y.ids[1]));
}

function scorePair(a: DuplicateSubject, b: DuplicateSubject, cores: Map<string, string>): DuplicatePair | undefined {
  const reasons: DuplicateReason[] = [];
  let score = 0;
  const similarity = nameSimilarity(cores.get(a.id)!, cores.get(b.id)!);
  if (similarity >= NAME_SIMILARITY_THRESHOLD) {
    reasons.push('name');
    score = similarity === 1 ? 90 : Math.round(similarity * 80);
  }
  if (a.taxNumber && b.taxNumber && normalizeTaxNumber(a.taxNumber) === normalizeTaxNumber(b.taxNumber)) {
    reasons.push('taxNumber');
    score = 100;
  }
  const phones = new Set(a.phones ?? []);
  if ((b.phones ?? []).some((phone) => phone && phones.has(phone))) {
    reasons.push('phone');
    score = score ? Math.min(100, score + 20) : 60;
  }
  if (!reasons.length) return undefined;
  return { ids: [a.id, b.id], score, reasons, ...(reasons.includes('name') ? { nameSimilarity: Math.round(similarity * 100) / 100 } : {}) };
}
