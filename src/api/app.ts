import { auditRoutes } from './routes/audit.ts';
import { personalDataRoutes } from './routes/personal-data.ts';
import Router from '@koa/router';
import Koa from 'koa';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Services } from '../app/wiring.ts';
import { Metrics } from './metrics.ts';
import { authenticate, bearerToken, jsonBody, sameSecret, problems, publicPaths, rateLimit, requireActor, requestContext } from './middleware.ts';
import { appPage } from './app-page.ts';
import { docsAssets, docsInitializer, docsPage, openApiDocument } from './openapi.ts';
import { HttpProblem } from './problem.ts';
import { readiness } from './readiness.ts';
import { type AnyRoute, mount } from './route.ts';
import { indexRoutes } from './route-index.ts';
import { authRoutes } from './routes/auth.ts';
import { contactRoutes } from './routes/contacts.ts';
import { competitorRoutes } from './routes/competitors.ts';
import { activityRoutes } from './routes/activities.ts';
import { taskRoutes } from './routes/tasks.ts';
import { planRoutes } from './routes/plans.ts';
import { agendaRoutes } from './routes/agenda.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { decisionReportRoutes } from './routes/decision-reports.ts';
import { targetRoutes } from './routes/targets.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { campaignMailRoutes } from './routes/campaign-mail.ts';
import { campaignSmsRoutes } from './routes/campaign-sms.ts';
import { memberLevelRoutes } from './routes/member-levels.ts';
import { dailyDigestRoutes } from './routes/daily-digest.ts';
import { customerRoutes } from './routes/customers.ts';
import { poolRoutes } from './routes/customer-pool.ts';
import { orgRoutes } from './routes/org.ts';
import { adminRoutes } from './routes/admin.ts';
import { customFieldRoutes } from './routes/custom-fields.ts';
import { customizationRoutes } from './routes/customization.ts';
import { salesRoutes } from './routes/sales.ts';
import { documentRoutes } from './routes/documents.ts';
import { operationsRoutes } from './routes/operations.ts';
import { publicLinkRoutes } from './routes/public-links.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { companyRoutes } from './routes/company.ts';
import { attachmentRoutes } from './routes/attachments.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { expenseRoutes } from './routes/expenses.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { batchRoutes } from './routes/batches.ts';
import { mergeRoutes } from './routes/merge.ts';
import { importRoutes } from './routes/imports.ts';
import { erpRoutes } from './routes/erp.ts';

// The pool's /customers/duplicates must come before /customers/:id.
const moduleRoutes: AnyRoute[] = [...authRoutes, ...orgRoutes, ...adminRoutes, ...auditRoutes, ...customFieldRoutes, ...customizationRoutes, ...companyRoutes, ...poolRoutes, ...batchRoutes, ...mergeRoutes, ...importRoutes, ...customerRoutes, ...personalDataRoutes, ...contactRoutes, ...salesRoutes, ...competitorRoutes, ...activityRoutes, ...taskRoutes, ...planRoutes, ...agendaRoutes, ...dashboardRoutes, ...decisionReportRoutes, ...targetRoutes, ...campaignRoutes, ...campaignMailRoutes, ...campaignSmsRoutes, ...memberLevelRoutes, ...dailyDigestRoutes, ...documentRoutes, ...ticketRoutes, ...approvalRoutes, ...expenseRoutes, ...publicLinkRoutes, ...notificationRoutes, ...attachmentRoutes, ...erpRoutes];
/** Every route of the API; the analysts' routes describe the others' record schemas. */
export const apiRoutes: AnyRoute[] = [...moduleRoutes, ...analyticsRoutes(moduleRoutes), ...operationsRoutes];


/**
 * Requests Node's HTTP parser refuses before Koa sees them (headers or URL over 16 KiB, malformed HTTP) still
 * get a problem+json answer.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      type: `https://errors.crm.local/${tooLarge ? 'header-too-large' : 'malformed-request'}`,
      title: tooLarge ? 'Request header fields too large' : 'Malformed request',
      status,
      code: tooLarge ? 'header_too_large' : 'malformed_request',
      detail: tooLarge ? 'The URL and headers together exceed 16 KiB' : 'The request is not valid HTTP',
    });
    socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

export function createApp(services: Services, version = '0.1.0'): Koa {
  const app = new Koa();
  // Behind a reverse proxy that sets X-Forwarded-For, ctx.ip is the client's address (CRM_TRUST_PROXY).
  app.proxy = services.config.CRM_TRUST_PROXY;
  const metrics = new Metrics();
  metrics.gauge('crm_eventstore_head_position', 'Global position of the last event in the log', [], async () => [
    { labels: {}, value: Number(await services.eventStore.headPosition()) },
  ]);
  metrics.gauge('crm_projection_position', 'Global position each projection has applied', ['projection'], async () =>
    services.runner.status().map((s) => ({ labels: { projection: s.name }, value: Number(s.position) })),
  );
  metrics.gauge('crm_projection_lag_events', 'Events in the log each projection has not applied yet', ['projection'], async () => {
    const head = await services.eventStore.headPosition();
    return services.runner.status().map((s) => ({ labels: { projection: s.name }, value: Math.max(0, Number(head - s.position)) }));
  });
  metrics.gauge('crm_kafka_relay_position', 'Global position of the last event Kafka acknowledged (0 without Kafka)', [], async () => [
    { labels: {}, value: Number(services.relay?.status().position ?? 0n) },
  ]);
  metrics.gauge('crm_kafka_relay_lag_events', 'Events in the log the Kafka relay has not published yet (0 without Kafka)', [], async () => [
    { labels: {}, value: services.relay ? Math.max(0, Number((await services.eventStore.headPosition()) - services.relay.status().position)) : 0 },
  ]);
  metrics.gauge('crm_kafka_relay_published', 'Events published to Kafka since the process started', [], async () => [
    { labels: {}, value: services.relay?.status().published ?? 0 },
  ]);
  metrics.gauge('crm_consumer_lag_events', 'How far each integration consumer this process runs is behind (Kafka: messages past its committed offsets; embedded: log positions past its checkpoint)', ['group'], async () =>
    // Kafka away: no sample rather than a failed scrape (the relay's metrics say it is waiting).
    (await services.eventSource.lag().catch(() => [])).map(({ group, events }) => ({ labels: { group }, value: events })),
  );
  metrics.gauge('crm_erp_messages', 'ERP bridge messages this process handled since it started, by topic and outcome', ['topic', 'outcome'], async () =>
    services.erp.snapshot().flatMap((t) => (['applied', 'unchanged', 'conflicts', 'rejected'] as const).map((outcome) => ({ labels: { topic: t.topic, outcome }, value: t[outcome] }))),
  );
  metrics.gauge('crm_erp_last_message_timestamp_seconds', 'When the ERP bridge last handled a message of each topic (Unix time)', ['topic'], async () =>
    services.erp.snapshot().flatMap((t) => (t.lastMessageAt ? [{ labels: { topic: t.topic }, value: Date.parse(t.lastMessageAt) / 1000 }] : [])),
  );
  metrics.gauge('crm_erp_last_error_timestamp_seconds', 'When a message of each topic was last rejected or failed (Unix time)', ['topic'], async () =>
    services.erp.snapshot().flatMap((t) => (t.lastErrorAt ? [{ labels: { topic: t.topic }, value: Date.parse(t.lastErrorAt) / 1000 }] : [])),
  );
  metrics.gauge('crm_erp_inbound_lag_messages', 'Messages on each ERP topic the group erp-bridge-in has not committed (only while this process runs it on Kafka)', ['topic'], async () => {
    const lag = await services.erp.lagOf?.().catch(() => undefined);
    return Object.entries(lag ?? {}).map(([topic, value]) => ({ labels: { topic }, value }));
  });
  metrics.gauge('crm_background_leader', 'Whether this process runs the projections, relay and schedulers now (1: CRM_ROLE=all, or the leading worker) or not (0: an API instance, a standby worker)', ['role'], async () => [
    { labels: { role: services.role }, value: services.leadership.leading ? 1 : 0 },
  ]);
  metrics.gauge('crm_projection_failed', 'Whether a projection has stopped on an event it cannot apply (1) or not (0)', ['projection'], async () =>
    services.runner.status().map((s) => ({ labels: { projection: s.name }, value: s.failed ? 1 : 0 })),
  );

  // Paths are matched exactly: case-sensitive, no trailing slash, so the router and the authentication check
  // agree on which paths exist (a variant such as /API/v1/… or /api/v1/customers/ is simply not a route).
  const router = indexRoutes(new Router({ sensitive: true, strict: true }));
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Anyone may ask whether the service is ready; only which part is not, never why (details: /api/v1/admin/status).
  router.get('/readyz', async (ctx) => {
    const { ready, degraded, checks } = await readiness(services);
    if (!ready) throw new HttpProblem(503, 'not_ready', 'Not ready', `Not ready: ${Object.entries(checks).filter(([, v]) => v !== 'ok').map(([k]) => k).join(', ')}`, { checks }, { 'Retry-After': '1' });
    ctx.body = { status: degraded ? 'degraded' : 'ready', checks };
  });
  router.get('/metrics', async (ctx) => {
    const expected = services.config.METRICS_TOKEN;
    if (expected && !sameSecret(bearerToken(ctx) ?? '', expected))
      throw new HttpProblem(401, 'unauthorized', 'Not authenticated', 'Send Authorization: Bearer <METRICS_TOKEN>', {}, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
    ctx.type = metrics.contentType;
    ctx.body = await metrics.text();
  });
  const document = openApiDocument(apiRoutes, { version });
  const docs = docsPage();
  const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assetCache = new Map<string, Buffer>();
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = docs;
  });
  router.get('/docs/assets/:name', (ctx) => {
    const name = ctx.params.name ?? '';
    if (name === 'init.js') {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = docsInitializer;
      return;
    }
    const asset = Object.hasOwn(docsAssets, name) ? docsAssets[name] : undefined;
    if (!asset) return;
    let bytes = assetCache.get(asset.file);
    if (!bytes) assetCache.set(asset.file, (bytes = readFileSync(join(swaggerUi, asset.file))));
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = bytes;
  });
  const dashboard = appPage();
  router.get('/app', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; connect-src 'self'");
    ctx.body = dashboard.html;
  });
  router.get('/app/assets/:name', (ctx) => {
    const asset = dashboard.asset(ctx.params.name ?? '');
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });
  for (const route of apiRoutes) mount(router, services, route);

  app.use(requestContext(services, metrics));
  app.use(problems());
  app.use(authenticate(services, publicPaths(apiRoutes)));
  app.use(rateLimit(services));
  app.use(requireActor());
  app.use(jsonBody());
  // A method the router does not know at all (TRACE, PROPFIND…) is answered like any other method a path does not
  // offer: 405 with Allow, or 404 for a path that does not exist.
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status !== 501) return;
    const layers = router.match(ctx.path, 'GET').path;
    const allowed = [...new Set(layers.flatMap((layer) => layer.methods))];
    // (Clearing the body first: Koa answers 204 when a body is cleared after the status.)
    ctx.body = undefined;
    if (allowed.length === 0) {
      ctx.status = 404;
      return;
    }
    ctx.status = 405;
    ctx.set('Allow', allowed.join(', '));
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.on('error', () => {});
  return app;
}
