import Router from '@koa/router';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/api/app.ts';
import { indexRoutes } from '../../src/api/route-index.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const noop = () => {};

/** The same routes on a plain router and an indexed one. */
function routers(add: (router: Router) => void) {
  const plain = new Router({ sensitive: true, strict: true });
  const indexed = indexRoutes(new Router({ sensitive: true, strict: true }));
  add(plain);
  add(indexed);
  return { plain, indexed };
}

/** What a match says, comparable across routers: the layers by path and methods, in order. */
const summary = (result: ReturnType<Router['match']>) => ({
  route: result.route,
  path: result.path.map((layer) => `${layer.methods.join(',')} ${String(layer.path)}`),
  pathAndMethod: result.pathAndMethod.map((layer) => `${layer.methods.join(',')} ${String(layer.path)}`),
});

function expectSameMatches(plain: Router, indexed: Router, paths: readonly string[]) {
  for (const path of paths)
    for (const method of METHODS) expect(summary(indexed.match(path, method)), `${method} ${path}`).toEqual(summary(plain.match(path, method)));
}

describe('the route index', () => {
  it("matches every API path as the router's own scan does, layers in the same order", () => {
    const { plain, indexed } = routers((router) => {
      router.get('/healthz', noop);
      router.get('/docs/assets/:name', noop);
      for (const route of apiRoutes) router[route.method](route.path, noop);
    });
    const concrete = apiRoutes.map((route) => route.path.replace(/:(\w+)/g, '0191c3d2-1111-7000-8000-00000000000a'));
    const variants = concrete.flatMap((path) => [path, `${path}/`, path.toUpperCase(), `${path}/extra`, path.replace('/api/v1', '/api/v2'), path.split('/').slice(0, 3).join('/')]);
    const paths = [...concrete, ...variants, '/', '', '/healthz', '/healthz/', '/docs/assets/x.js', '/docs/assets', '/api', '/api/v1', '/api/v1/', '/api/v1/%63ustomers', '/nothing/here'];
    expectSameMatches(plain, indexed, paths);
    // (The index is not idle: the API's routes do match through it.)
    expect(indexed.match('/api/v1/customers', 'POST').route).toBe(true);
  });

  it('keeps routes whose leading segments are parameters, wildcards or expressions in every bucket, in order', () => {
    const { plain, indexed } = routers((router) => {
      router.get('/api/v1/customers', noop);
      router.get('/:tenant/v1/customers', noop);
      router.get('/api/:version/customers/:id', noop);
      router.get(/^\/api\/v1\/cust.*$/, noop);
      router.post('/api/v1/customers/:id', noop);
      router.get('/api/v1/{*rest}', noop);
      router.get('/api/v1/orders', noop);
    });
    expectSameMatches(plain, indexed, ['/api/v1/customers', '/api/v1/customers/7', '/x/v1/customers', '/api/v9/customers/7', '/api/v1/orders', '/api/v1/custom', '/api/v1/anything/else']);
    expect(summary(indexed.match('/api/v1/customers', 'GET')).path).toEqual(['HEAD,GET /api/v1/customers', 'HEAD,GET /:tenant/v1/customers', 'HEAD,GET /^\\/api\\/v1\\/cust.*$/', 'HEAD,GET /api/v1/{*rest}']);
  });

  it('sees routes added after its first match', () => {
    const { plain, indexed } = routers((router) => router.get('/api/v1/customers', noop));
    expect(indexed.match('/api/v1/orders', 'GET').route).toBe(false);
    for (const router of [plain, indexed]) router.get('/api/v1/orders', noop);
    expectSameMatches(plain, indexed, ['/api/v1/orders', '/api/v1/customers']);
    expect(indexed.match('/api/v1/orders', 'GET').route).toBe(true);
  });

  it('refuses a case-insensitive router, whose paths no exact key can bucket', () => {
    expect(() => indexRoutes(new Router())).toThrow(/case-sensitive/);
  });
});
