// The dashboard page (经营看板): logs in against the API, then draws the KPIs, funnel, pipeline trend,
// collections against target, ranking and overdue receivables of the caller's data scope with ECharts.
// Plain browser JavaScript, no build step; every number comes from the API as is.

const texts = {
  'zh-CN': {
    title: '经营看板', switchLanguage: 'English', logout: '退出', login: '登录', username: '用户名', password: '密码', signIn: '登录',
    loginFailed: '用户名或密码错误', loadFailed: '无法读取报表（需要报表查看权限）', funnel: '销售漏斗', trend: '商机趋势', collectionsVsTarget: '回款与目标', ranking: '销售排名', overdue: '逾期应收',
    period: (from, to) => `本月 ${from} 至 ${to}（不含）· 对比上月与去年同期`, vsPrevious: '环比', vsLastYear: '同比', none: '暂无数据',
    orderAmount: '签约额', collections: '回款', newCustomers: '新客户', winRate: '赢率', pipelineAmount: '商机金额', receivables: '应收', overdue_: '逾期', slaMetPercent: 'SLA 达成率',
    target: '目标', pipeline: '商机金额', rank: '名次', name: '姓名', amount: '金额', attainment: '达成', order: '订单', customer: '客户', due: '到期日', days: '逾期天数',
  },
  en: {
    title: 'Dashboard', switchLanguage: '中文', logout: 'Log out', login: 'Log in', username: 'Username', password: 'Password', signIn: 'Log in',
    loginFailed: 'Wrong username or password', loadFailed: 'The reports could not be read (reports view is needed)', funnel: 'Sales funnel', trend: 'Pipeline trend', collectionsVsTarget: 'Collections vs target', ranking: 'Sales ranking', overdue: 'Overdue receivables',
    period: (from, to) => `This month ${from} to ${to} (exclusive) · against last month and last year`, vsPrevious: 'vs last month', vsLastYear: 'vs last year', none: 'No data yet',
    orderAmount: 'Orders', collections: 'Collections', newCustomers: 'New customers', winRate: 'Win rate', pipelineAmount: 'Pipeline', receivables: 'Receivables', overdue_: 'Overdue', slaMetPercent: 'SLA met',
    target: 'Target', pipeline: 'Pipeline', rank: 'Rank', name: 'Name', amount: 'Amount', attainment: 'Attained', order: 'Order', customer: 'Customer', due: 'Due', days: 'Days overdue',
  },
};

let language = localStorage.getItem('crm.language') ?? (navigator.language.startsWith('zh') ? 'zh-CN' : 'en');
let token = sessionStorage.getItem('crm.token');
let data = null;
const charts = {};
const t = (key) => texts[language][key];
const $ = (id) => document.getElementById(id);

const pad = (n) => String(n).padStart(2, '0');
/** A month (YYYY-MM) shifted by whole months. */
const shiftMonth = (month, by) => {
  const [year, number] = month.split('-').map(Number);
  const date = new Date(Date.UTC(year, number - 1 + by, 1));
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}`;
};

const money = (m) => (m ? new Intl.NumberFormat(language, { style: 'currency', currency: m.currency, maximumFractionDigits: 0 }).format(m.amount / 100) : '—');
const percent = (rate) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);
const shown = (metric, value) => {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return money(value);
  if (metric === 'winRate') return percent(value);
  if (metric === 'slaMetPercent') return `${value}%`;
  return new Intl.NumberFormat(language).format(value);
};
const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  if (response.status === 401) {
    logout();
    throw new Error('unauthorized');
  }
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

async function load() {
  // This month is the company's (its time zone's today, as the reports count days), whatever the browser's clock says.
  const me = await api('/api/v1/me');
  const period = me.company.today.slice(0, 7);
  const from = `${period}-01`;
  const to = `${shiftMonth(period, 1)}-01`;
  const yearAgo = `${shiftMonth(period, -11)}-01`;
  const [kpi, trend, funnel, ranking, receivables] = await Promise.all([
    api(`/api/v1/reports/kpi?from=${from}&to=${to}&metrics=orderAmount,collections,newCustomers,winRate,pipelineAmount,receivables,overdue,slaMetPercent`),
    api(`/api/v1/reports/kpi?from=${yearAgo}&to=${to}&groupBy=month&metrics=pipelineAmount,collections`),
    api(`/api/v1/reports/funnel?from=${yearAgo}&to=${to}`),
    api(`/api/v1/reports/ranking?period=${period}&by=orders`),
    api('/api/v1/reports/receivables'),
  ]);
  data = { from, to, kpi, trend, funnel, ranking, receivables };
  render();
}

function renderTexts() {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  document.title = `CRM ${t('title')}`;
}

function render() {
  renderTexts();
  if (!data) return;
  $('period').textContent = t('period')(data.from, data.to);
  const metrics = data.kpi.totals.metrics;
  // SLA only where the caller's scope has any (null: the tickets module is not theirs, or nothing to measure).
  const shownMetrics = ['orderAmount', 'collections', 'newCustomers', 'winRate', 'pipelineAmount', 'receivables', 'overdue', 'slaMetPercent'].filter((m) => metrics[m] && !(m === 'slaMetPercent' && metrics[m].value === null));
  $('cards').innerHTML = shownMetrics
    .map((metric) => {
      const entry = metrics[metric];
      const change = (value, label) => (value === null ? '' : `<span class="${value >= 0 ? 'up' : 'down'}">${label} ${value >= 0 ? '▲' : '▼'} ${percent(Math.abs(value))}</span>`);
      return `<div class="card kpi" data-metric="${metric}"><div class="label">${escape(t(metric === 'overdue' ? 'overdue_' : metric))}</div><div class="value">${escape(shown(metric, entry.value))}</div><div class="delta">${change(entry.change.previous, t('vsPrevious'))} ${change(entry.change.lastYear, t('vsLastYear'))}</div></div>`;
    })
    .join('');
  // The open stages and won (a lost opportunity has left the funnel).
  draw('funnel', {
    tooltip: { trigger: 'item' },
    series: [{ type: 'funnel', sort: 'none', left: '10%', width: '80%', label: { formatter: '{b}: {c}' }, data: data.funnel.stages.filter((s) => s.probability > 0).map((s) => ({ name: s.name, value: s.count })) }],
  });
  const months = data.trend.groups.map((g) => g.key);
  draw('trend', {
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value' },
    series: [{ name: t('pipeline'), type: 'line', smooth: true, data: data.trend.groups.map((g) => g.metrics.pipelineAmount.value.amount / 100) }],
  });
  draw('collections', {
    tooltip: { trigger: 'axis' },
    legend: { data: [t('collections'), t('target')] },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value' },
    series: [
      { name: t('collections'), type: 'bar', data: data.trend.groups.map((g) => g.metrics.collections.value.amount / 100) },
      { name: t('target'), type: 'line', data: data.trend.groups.map((g) => (g.metrics.collections.target ? g.metrics.collections.target.amount / 100 : null)) },
    ],
  });
  const rankingRows = data.ranking.items.slice(0, 10);
  $('ranking').innerHTML =
    `<tr><th>${t('rank')}</th><th>${t('name')}</th><th class="number">${t('amount')}</th><th class="number">${t('attainment')}</th></tr>` +
    (rankingRows.length ? rankingRows.map((r) => `<tr><td>${r.rank}</td><td>${escape(r.name)}</td><td class="number">${escape(money(r.orderAmount))}</td><td class="number">${percent(r.attainment)}</td></tr>`).join('') : `<tr><td colspan="4">${t('none')}</td></tr>`);
  const overdue = data.receivables.items.filter((i) => i.overdue).sort((a, b) => b.daysOverdue - a.daysOverdue).slice(0, 10);
  $('overdue').innerHTML =
    `<tr><th>${t('order')}</th><th>${t('due')}</th><th class="number">${t('days')}</th><th class="number">${t('amount')}</th></tr>` +
    (overdue.length ? overdue.map((i) => `<tr><td>${escape(i.number)}</td><td>${escape(i.dueDate)}</td><td class="number">${i.daysOverdue}</td><td class="number">${escape(money(i.receivable))}</td></tr>`).join('') : `<tr><td colspan="4">${t('none')}</td></tr>`);
  document.body.dataset.ready = 'true';
}

/** Draws a chart, and leaves what it shows on its element for anyone checking the page (its series' data). */
function draw(id, option) {
  const element = $(id);
  charts[id] ??= echarts.init(element);
  charts[id].setOption(option, true);
  element.dataset.series = JSON.stringify(option.series.map((s) => s.data));
}

function showBoard(visible) {
  $('login').hidden = visible;
  $('board').hidden = !visible;
  $('logout').hidden = !visible;
}

function logout() {
  token = null;
  data = null;
  sessionStorage.removeItem('crm.token');
  delete document.body.dataset.ready;
  showBoard(false);
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: form.get('username'), password: form.get('password') }) });
  if (!response.ok) {
    $('login-error').textContent = t('loginFailed');
    return;
  }
  $('login-error').textContent = '';
  token = (await response.json()).token;
  sessionStorage.setItem('crm.token', token);
  showBoard(true);
  await load().catch(() => {
    logout();
    $('login-error').textContent = t('loadFailed');
  });
});
$('logout').addEventListener('click', logout);
$('language').addEventListener('click', () => {
  language = language === 'zh-CN' ? 'en' : 'zh-CN';
  localStorage.setItem('crm.language', language);
  render();
});
window.addEventListener('resize', () => Object.values(charts).forEach((chart) => chart.resize()));

renderTexts();
if (token) {
  showBoard(true);
  load().catch(() => logout());
}
