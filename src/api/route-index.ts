import type { Layer, Router } from '@koa/router';

/** How many leading segments of a path pick its bucket: `/api/v1/<resource>`. */
const SEGMENTS = 3;
/** A segment that can only match itself: no parameter, wildcard, group or regular expression syntax. */
const LITERAL = /^[\w.~-]*$/;

/** A path's first segments, the key of its bucket (`/api/v1/customers/42/contacts` → `/api/v1/customers`). */
const keyOf = (path: string) => path.split('/', SEGMENTS + 1).join('/');

/**
 * The layer's bucket, or undefined when it may match paths of several buckets: a middleware (it matches by
 * prefix), a regular expression, or a path with anything but literal text in its leading segments.
 */
function bucketOf(layer: Layer): string | undefined {
  if (layer.methods.length === 0 || typeof layer.path !== 'string') return undefined;
  const segments = layer.path.split('/', SEGMENTS + 1);
  return segments.every((segment) => LITERAL.test(segment)) ? segments.join('/') : undefined;
}

/**
 * Makes `router.match` look only at the routes that can match a path instead of testing every route's regular
 * expression (350 routes: about 20 µs a request, matched once to route and again by other middleware). Routes
 * are put in buckets by their first three segments; a route whose leading segments are not plain text is in every
 * bucket. Each bucket keeps the router's order, so the answer is the one the router gives, in the same order.
 * The buckets are rebuilt when routes are added. Only for case-sensitive routers (a bucket key is exact text).
 */
export function indexRoutes(router: Router): Router {
  if (!router.opts.sensitive) throw new Error('indexRoutes needs a case-sensitive router');
  const scan = router.match.bind(router);
  let indexedLayers = -1;
  let buckets = new Map<string, Layer[]>();
  let everywhere: Layer[] = [];
  const reindex = () => {
    const keys = router.stack.map(bucketOf);
    everywhere = router.stack.filter((_, i) => keys[i] === undefined);
    buckets = new Map();
    for (const key of new Set(keys)) if (key !== undefined) buckets.set(key, router.stack.filter((_, i) => keys[i] === key || keys[i] === undefined));
    indexedLayers = router.stack.length;
  };
  router.match = (path, method) => {
    if (router.stack.length !== indexedLayers) reindex();
    const candidates = buckets.get(keyOf(path)) ?? everywhere;
    // The router's own loop over just those layers (its `stack` swapped for the call).
    const all = router.stack;
    router.stack = candidates;
    try {
      return scan(path, method);
    } finally {
      router.stack = all;
    }
  };
  return router;
}
