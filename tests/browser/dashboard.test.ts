import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedCompany } from '../../src/cli/seed-company.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * The dashboard page (/app) in headless Chromium (Debian's `chromium`, driven by playwright-core): log in, see the
 * charts drawn with the seeded company's numbers, switch language, at a laptop's and a phone's width. Screenshots
 * go to tests/browser/screenshots/ (kept as CI artifacts). CI installs Chromium and sets CRM_REQUIRE_BROWSER=1,
 * where a missing browser fails the run; elsewhere the suite is skipped with the reason.
 */
const executablePath = process.env.CRM_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
if (!available && process.env.CRM_REQUIRE_BROWSER === '1') throw new Error(`No Chromium at ${executablePath}: CI installs Debian's chromium (apt-get install -y chromium)`);
const screenshots = join(import.meta.dirname, 'screenshots');
/** The company's time zone (the seeded company's default): its months are the reports' and the page's. */
const timezoneId = 'Asia/Shanghai';
const thisMonth = () => new Intl.DateTimeFormat('en-CA', { timeZone: timezoneId, year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
const shiftMonth = (month: string, by: number) => {
  const [year, number] = month.split('-').map(Number) as [number, number];
  const index = year * 12 + number - 1 + by;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
};

describe.skipIf(!available)(`the dashboard page in headless Chromium${available ? '' : ' (skipped: no Chromium at ' + executablePath + ')'}`, () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp();
    await seedCompany(app.services, 40, () => {}, { salesDays: 7 });
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 150_000);
    // The flags a closed network needs (no background connections, no first-run, no sandbox as root).
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    mkdirSync(screenshots, { recursive: true });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const logIn = async (page: Page, username: string) => {
    await page.goto(`${app.baseUrl}/app`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  };
  const seriesOf = async (page: Page, id: string) => JSON.parse((await page.getAttribute(`#${id}`, 'data-series')) ?? '[]') as unknown[][];

  it('logs in and draws the KPI cards, funnel, pipeline trend, collections against target, ranking and overdue receivables with the API\'s numbers (1366×768)', async () => {
    // A browser elsewhere, its clock weeks behind: the page's month is still the company's (from /api/v1/me).
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Pacific/Honolulu' });
    await context.clock.setFixedTime(new Date(Date.now() - 40 * 86_400_000));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${app.baseUrl}/app`);
    // Wrong password: told so, still on the login form.
    await page.fill('input[name=username]', 'sun.hui');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('#login button[type=submit]');
    await expect.poll(async () => page.textContent('#login-error')).toBe('用户名或密码错误');
    await logIn(page, 'sun.hui');

    const token = await app.login('sun.hui', DEMO_PASSWORD);
    // The page's months are the company's: this month in its time zone, and eleven before it.
    const month = thisMonth();
    const from = `${month}-01`;
    const to = `${shiftMonth(month, 1)}-01`;
    const yearAgo = `${shiftMonth(month, -11)}-01`;
    const funnel = (await app.request('GET', `/api/v1/reports/funnel?from=${yearAgo}&to=${to}`, { token })).body as { stages: { count: number; probability: number }[] };
    const trend = (await app.request('GET', `/api/v1/reports/kpi?from=${yearAgo}&to=${to}&groupBy=month&metrics=pipelineAmount,collections`, { token })).body as { groups: { metrics: { pipelineAmount: { value: { amount: number } }; collections: { value: { amount: number } } } }[] };
    const kpi = (await app.request('GET', `/api/v1/reports/kpi?from=${from}&to=${to}&metrics=newCustomers`, { token })).body as { totals: { metrics: { newCustomers: { value: number } } } };

    expect(await page.textContent('h1')).toBe('经营看板');
    expect((await seriesOf(page, 'funnel'))[0]!.map((point) => (point as { value: number }).value)).toEqual(funnel.stages.filter((s) => s.probability > 0).map((s) => s.count));
    expect((await seriesOf(page, 'trend'))[0]).toEqual(trend.groups.map((g) => g.metrics.pipelineAmount.value.amount / 100));
    expect((await seriesOf(page, 'collections'))[0]).toEqual(trend.groups.map((g) => g.metrics.collections.value.amount / 100));
    expect(kpi.totals.metrics.newCustomers.value).toBeGreaterThan(0);
    expect(await page.textContent('[data-metric=newCustomers] .value')).toBe(new Intl.NumberFormat('zh-CN').format(kpi.totals.metrics.newCustomers.value));
    // The charts really drew (a canvas each), and the tables have rows.
    for (const id of ['funnel', 'trend', 'collections']) expect(await page.locator(`#${id} canvas`).count(), id).toBeGreaterThan(0);
    expect(await page.locator('#ranking tr').count()).toBeGreaterThan(1);
    await page.screenshot({ path: join(screenshots, 'dashboard-1366-zh-CN.png'), fullPage: true });

    // Switching language redraws in English, and the choice is remembered.
    await page.click('#language');
    expect(await page.textContent('h1')).toBe('Dashboard');
    expect(await page.textContent('[data-metric=orderAmount] .label')).toBe('Orders');
    await page.screenshot({ path: join(screenshots, 'dashboard-1366-en.png'), fullPage: true });
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    expect(await page.textContent('h1')).toBe('Dashboard');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('fits a phone (390 px wide) without sideways scrolling, and shows a salesperson only their own numbers', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', timezoneId, isMobile: true });
    const page = await context.newPage();
    await logIn(page, 'wang.fang');
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    const token = await app.login('wang.fang', DEMO_PASSWORD);
    const ranking = (await app.request('GET', `/api/v1/reports/ranking?period=${thisMonth()}&by=orders`, { token })).body as { items: unknown[] };
    expect(await page.locator('#ranking tr').count()).toBe(1 + Math.max(1, Math.min(10, ranking.items.length)));
    await page.screenshot({ path: join(screenshots, 'dashboard-390-zh-CN.png'), fullPage: true });
    await context.close();
  }, 120_000);

  it('tells someone who may not view reports so, and leaves them at the login', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${app.baseUrl}/app`);
    await page.fill('input[name=username]', 'gao.feng');
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('#login button[type=submit]');
    await expect.poll(async () => page.textContent('#login-error')).toBe('无法读取报表（需要报表查看权限）');
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.isVisible('#board')).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
