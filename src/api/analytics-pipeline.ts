/**
 * What an analyst's aggregation may say (POST /api/v1/analytics/query). Stages and operators are allowed by
 * name, everything else is refused naming it: no stage reads another collection or writes ($lookup, $unionWith,
 * $out, $merge), no operator runs code ($where, $function, $accumulator), and no regular expression is taken
 * (one written to backtrack would hold the embedded store's only thread).
 */

export const ALLOWED_STAGES = ['$match', '$group', '$sort', '$limit', '$skip', '$project', '$unwind', '$count'] as const;

/** Query, expression and accumulator operators, by family. */
const ALLOWED_OPERATORS = new Set([
  // query
  ...['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$and', '$or', '$nor', '$not', '$exists', '$type', '$size', '$all', '$elemMatch', '$expr'],
  // arithmetic
  ...['$add', '$subtract', '$multiply', '$divide', '$mod', '$abs', '$ceil', '$floor', '$round', '$trunc'],
  // comparison, conditions
  ...['$cmp', '$cond', '$ifNull', '$switch'],
  // strings
  ...['$concat', '$toLower', '$toUpper', '$substrCP', '$strLenCP', '$split', '$trim'],
  // arrays
  ...['$arrayElemAt', '$filter', '$slice', '$isArray'],
  // types
  ...['$toString', '$toInt', '$toLong', '$toDouble', '$toDecimal', '$toDate', '$toBool'],
  // dates
  ...['$year', '$month', '$dayOfMonth', '$dayOfWeek', '$week', '$hour', '$dateToString', '$dateFromString'],
  '$literal',
  // accumulators
  ...['$sum', '$avg', '$min', '$max', '$first', '$last', '$push', '$addToSet', '$count'],
]);

/**
 * A `$project` that leaves the paths out, each once, without a path under one left out already (MongoDB refuses
 * both `custom` and `custom.tier` in one projection; leaving out `custom` takes `custom.tier` with it).
 */
export function leavingOut(paths: readonly string[]): Record<string, 0> {
  const kept = paths.filter((path) => !paths.some((other) => other !== path && path.startsWith(`${other}.`)));
  return Object.fromEntries(kept.map((path) => [path, 0 as const]));
}

/** How deep an expression may nest, and how many stages a pipeline may have. */
export const MAX_DEPTH = 12;
export const MAX_STAGES = 20;

/** Why a pipeline is refused: the stage (its index and name) and, inside it, the operator or the limit it broke. */
export type PipelineRefusal = { code: 'analytics.stage_not_allowed' | 'analytics.operator_not_allowed' | 'analytics.invalid_pipeline'; index: number; stage: string; detail: string };

/** The first thing in `pipeline` an analyst may not ask, or undefined when all of it is allowed. */
export function refusalOf(pipeline: readonly Record<string, unknown>[]): PipelineRefusal | undefined {
  if (pipeline.length > MAX_STAGES) return { code: 'analytics.invalid_pipeline', index: MAX_STAGES, stage: '', detail: `A pipeline has at most ${MAX_STAGES} stages` };
  for (const [index, stage] of pipeline.entries()) {
    const keys = Object.keys(stage);
    if (keys.length !== 1) return { code: 'analytics.invalid_pipeline', index, stage: keys.join(', '), detail: `Stage ${index} must name exactly one stage operator, e.g. { "$match": { … } }` };
    const name = keys[0]!;
    if (!(ALLOWED_STAGES as readonly string[]).includes(name)) return { code: 'analytics.stage_not_allowed', index, stage: name, detail: `Stage ${index} (${name}) is not allowed; allowed stages: ${ALLOWED_STAGES.join(' ')}` };
    const operator = forbiddenOperator(stage[name], 0);
    if (operator) return { code: operator === 'depth' ? 'analytics.invalid_pipeline' : 'analytics.operator_not_allowed', index, stage: name, detail: operator === 'depth' ? `Stage ${index} (${name}) nests deeper than ${MAX_DEPTH} levels` : `Operator ${operator} in stage ${index} (${name}) is not allowed` };
  }
  return undefined;
}

/** The first operator key (`$…`) below `value` that is not allowed, or 'depth' for nesting too deep. */
function forbiddenOperator(value: unknown, depth: number): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_DEPTH) return 'depth';
  for (const [key, inner] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    if (typeof key === 'string' && key.startsWith('$') && !ALLOWED_OPERATORS.has(key)) return key;
    const found = forbiddenOperator(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
