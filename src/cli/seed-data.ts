/**
 * A believable small manufacturer-and-trader company for demos: departments (as department paths until the
 * organisation issue brings the department tree), employees with logins, customers and their contacts.
 * Deterministic: the same seed gives the same company.
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The department tree: `key` names a department here, `parent` its parent's key. */
export const departments = [
  { key: 'sales', name: '销售中心 Sales', parent: null },
  { key: 'east', name: '华东销售部 East China Sales', parent: 'sales' },
  { key: 'south', name: '华南销售部 South China Sales', parent: 'sales' },
  { key: 'north', name: '华北销售部 North China Sales', parent: 'sales' },
  { key: 'key-accounts', name: '大客户部 Key Accounts', parent: null },
  { key: 'service', name: '客户服务中心 Customer Service', parent: null },
];

/** The sales team, one per line: username, name, title, role, department key. */
const TEAM = `
  sun.hui    孙慧 销售总监 manager sales
  zhang.wei  张伟 区域经理 manager east
  wang.fang  王芳 销售代表 salesperson east
  li.qiang   李强 销售代表 salesperson east
  liu.yang   刘洋 区域经理 manager south
  chen.jing  陈静 销售代表 salesperson south
  yang.min   杨敏 销售代表 salesperson south
  zhao.lei   赵磊 区域经理 manager north
  huang.li   黄丽 销售代表 salesperson north
  zhou.jun   周军 销售代表 salesperson north
  wu.xia     吴霞 大客户经理 manager key-accounts
  xu.tao     徐涛 大客户代表 salesperson key-accounts
`;

const people = (team: string) =>
  team
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([username, name, title, role, department]) => ({ username: username!, name: name!, title: title!, roles: [role!], department: department! }));

/** The sales team: they own the customers. */
export const employees = people(TEAM);

/** The service desk: a manager who dispatches, engineers who work the tickets (they own no customers). */
export const serviceTeam = people(`
  ma.li      马丽 服务经理 service_manager service
  gao.feng   高峰 服务工程师 service_engineer service
  lin.tao    林涛 服务工程师 service_engineer service
  he.ping    何平 服务工程师 service_engineer service
`);

const cities = ['上海', '苏州', '杭州', '宁波', '南京', '无锡', '深圳', '广州', '东莞', '佛山', '厦门', '北京', '天津', '青岛', '济南', '武汉', '成都', '重庆', '西安', '长沙'];
const regions: Record<string, string> = { 上海: '华东', 苏州: '华东', 杭州: '华东', 宁波: '华东', 南京: '华东', 无锡: '华东', 深圳: '华南', 广州: '华南', 东莞: '华南', 佛山: '华南', 厦门: '华南', 北京: '华北', 天津: '华北', 青岛: '华北', 济南: '华北', 武汉: '华中', 成都: '西南', 重庆: '西南', 西安: '西北', 长沙: '华中' };
const words = ['精工', '华星', '恒通', '鼎盛', '宏达', '金鹏', '瑞丰', '天成', '远航', '博越', '嘉禾', '永泰', '新锐', '中联', '海纳', '正泰', '凯旋', '汇丰', '启明', '长青', '盛世', '铭鑫', '联创', '卓越', '腾飞'];
const industries = [
  { key: '机械制造', suffix: '机械' },
  { key: '电子元器件', suffix: '电子' },
  { key: '化工材料', suffix: '化工' },
  { key: '五金工具', suffix: '五金' },
  { key: '国际贸易', suffix: '贸易' },
  { key: '物流服务', suffix: '物流' },
  { key: '汽车零部件', suffix: '汽配' },
  { key: '包装印刷', suffix: '包装' },
  { key: '食品加工', suffix: '食品' },
  { key: '建筑材料', suffix: '建材' },
];
const forms = ['有限公司', '股份有限公司', '科技有限公司', '实业有限公司'];
const sources = ['展会', '官网', '老客户介绍', '电话开发', '招投标', '线上广告'];
const levels = ['A', 'B', 'C', 'D'];
const surnames = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '罗', '高'];
const given = ['伟', '芳', '娜', '敏', '静', '磊', '洋', '勇', '艳', '杰', '军', '涛', '明', '超', '霞', '平', '刚', '桂英', '建华', '晓东', '丽娟', '志强', '海燕', '文博'];
const titles = ['总经理', '采购经理', '采购专员', '技术总监', '工程师', '财务经理', '生产厂长', '质量经理', '行政主管'];
const dealRoles = ['decision_maker', 'influencer', 'user', 'technical', 'financial', 'gatekeeper'] as const;

export interface SeedCustomer {
  fields: {
    name: string;
    shortName: string;
    industry: string;
    region: string;
    address: string;
    postalCode: string;
    phone: string;
    taxNumber: string;
    annualRevenue: { amount: number; currency: string };
    source: string;
    level: string;
  };
  ownerIndex: number;
  contacts: { name: string; title: string; dealRole: (typeof dealRoles)[number]; mobile: string; email: string }[];
}

export function seedCustomers(count: number, seed = 2026): SeedCustomer[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const used = new Set<string>();
  const result: SeedCustomer[] = [];
  for (let i = 0; result.length < count; i++) {
    const city = pick(cities);
    const word = pick(words);
    const industry = pick(industries);
    const base = `${city}${word}${industry.suffix}`;
    let name = `${base}${pick(forms)}`;
    if (used.has(name)) name = `${base}${i}号${pick(forms)}`;
    if (used.has(name)) continue;
    used.add(name);
    const contacts = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const person = `${pick(surnames)}${pick(given)}`;
      return {
        name: person,
        title: pick(titles),
        dealRole: pick(dealRoles),
        mobile: `1${3 + Math.floor(random() * 6)}${String(Math.floor(random() * 1e9)).padStart(9, '0')}`,
        email: `c${i}.${Math.floor(random() * 1e4)}@${word.length}${i}.example.cn`,
      };
    });
    result.push({
      fields: {
        name,
        shortName: `${word}${industry.suffix}`,
        industry: industry.key,
        region: regions[city]!,
        address: `${city}市${pick(['高新区', '经济开发区', '工业园区', '保税区'])}${1 + Math.floor(random() * 300)}号`,
        postalCode: String(100000 + Math.floor(random() * 800000)),
        phone: `0${10 + Math.floor(random() * 89)}-${String(Math.floor(random() * 1e8)).padStart(8, '0')}`,
        taxNumber: `91${String(110000 + Math.floor(random() * 540000))}MA${String(i).padStart(8, '0')}`,
        annualRevenue: { amount: Math.round(1 + random() * 999) * 100_000_00, currency: 'CNY' },
        source: pick(sources),
        level: pick(levels),
      },
      ownerIndex: Math.floor(random() * employees.length),
      contacts,
    });
  }
  return result;
}
