import type { CommandDeps, RequestMeta } from '../commands/context.ts';
import { confirmOrder, createOrder, createQuote, receivePayment, sendQuote, shipOrder } from '../commands/documents.ts';
import { systemActor } from '../commands/employees.ts';
import { convertLead, createLead, disqualifyLead, markLead } from '../commands/leads.ts';
import { createOpportunity, moveOpportunity } from '../commands/opportunities.ts';
import { createProduct } from '../commands/products.ts';
import { orderDecider, orderStream } from '../domain/order/index.ts';
import { load } from '../commands/pipeline.ts';
import { prng } from './seed-data.ts';

const catalogue = [
  ['PUMP-100', '离心泵 IS100', '台', 12_800_00],
  ['PUMP-200', '多级离心泵 D200', '台', 36_500_00],
  ['VALVE-50', '球阀 DN50', '个', 333_00],
  ['VALVE-100', '蝶阀 DN100', '个', 1_280_00],
  ['MOTOR-15', '三相异步电机 15kW', '台', 8_900_00],
  ['GEAR-R', '减速机 R87', '台', 15_600_00],
  ['BEAR-6205', '深沟球轴承 6205', '套', 18_50],
  ['SEAL-M', '机械密封 M7N', '套', 960_00],
  ['PIPE-SS', '不锈钢管 304 DN80', '米', 268_00],
  ['CTRL-PLC', 'PLC 控制柜', '台', 45_000_00],
] as const;
const companies = ['常州', '扬州', '温州', '泉州', '佛山', '合肥', '郑州', '昆明'].flatMap((city) => ['精密', '恒远', '联合', '创新'].map((word) => `${city}${word}制造有限公司`));

/** A realistic pipeline for the demo company: products, leads, opportunities across stages, quotes, orders, payments. */
export async function seedPipeline(deps: CommandDeps, meta: () => RequestMeta, ownerIds: string[], customers: { id: string; ownerId: string }[], size: number) {
  const random = prng(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const products: string[] = [];
  for (const [code, name, unit, price] of catalogue)
    products.push((await createProduct(deps, { code, name, unit, standardPrice: { amount: price, currency: 'CNY' }, taxRate: 13, active: true }, systemActor, meta())).productId);

  let leads = 0;
  for (const company of companies.slice(0, Math.min(companies.length, size))) {
    const { leadId } = await createLead(deps, { fields: { company, person: pick(['王经理', '李工', '张总', '刘主任']), source: pick(['展会', '官网', '老客户介绍']) }, ownerId: pick(ownerIds) }, systemActor, meta());
    leads += 1;
    const fate = random();
    if (fate < 0.25) await markLead(deps, leadId, 'working', systemActor, meta());
    else if (fate < 0.4) await disqualifyLead(deps, leadId, '没有预算', systemActor, meta());
    else if (fate < 0.7) await convertLead(deps, leadId, { createOpportunity: { name: `${company.slice(0, 4)} 设备采购`, amount: { amount: Math.round(50 + random() * 500) * 10_000_00, currency: 'CNY' }, expectedCloseDate: '2027-03-31' } }, systemActor, meta());
  }

  const stages = ['initial_contact', 'needs_confirmed', 'proposal', 'negotiation'];
  let opportunities = 0;
  let quotes = 0;
  let orders = 0;
  let payments = 0;
  for (const customer of customers.slice(0, size * 3)) {
    const { opportunityId } = await createOpportunity(
      deps,
      { fields: { name: `${pick(['产线改造', '备件年框', '新厂建设', '节能改造'])}项目`, customerId: customer.id, amount: { amount: Math.round(10 + random() * 300) * 10_000_00, currency: 'CNY' }, expectedCloseDate: '2027-01-31' }, ownerId: customer.ownerId },
      systemActor,
      meta(),
    );
    opportunities += 1;
    const target = Math.floor(random() * 6);
    for (const stage of stages.slice(1, Math.min(target + 1, stages.length))) await moveOpportunity(deps, opportunityId, { type: 'MoveStage', stage }, systemActor, meta());
    if (target === 4) await moveOpportunity(deps, opportunityId, { type: 'WinOpportunity' }, systemActor, meta());
    if (target === 5) await moveOpportunity(deps, opportunityId, { type: 'LoseOpportunity', reason: '价格', competitor: pick(['友商A', '友商B']) }, systemActor, meta());
    if (target < 2) continue;
    const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ productId: pick(products), quantity: 1 + Math.floor(random() * 10), discountPercent: pick([0, 0, 5, 10]) }));
    const { quoteId } = await createQuote(deps, { customerId: customer.id, opportunityId, currency: 'CNY', validUntil: '2027-06-30', lines, ownerId: customer.ownerId }, systemActor, meta());
    quotes += 1;
    await sendQuote(deps, quoteId, systemActor, meta());
    if (target !== 4) continue;
    const order = await createOrder(deps, { customerId: customer.id, currency: 'CNY', lines, paymentTermsDays: pick([30, 60, 90]), ownerId: customer.ownerId }, systemActor, meta());
    orders += 1;
    await confirmOrder(deps, order.orderId, systemActor, meta());
    const { state } = await load(deps, orderDecider, orderStream(order.orderId));
    if (state.status === 'none') continue;
    if (random() < 0.7) await shipOrder(deps, order.orderId, { shippedAt: deps.clock.now().toISOString(), lines: state.lines.map((l) => ({ lineId: l.id, quantity: l.quantity })) }, systemActor, meta());
    if (random() < 0.6) {
      await receivePayment(deps, order.orderId, { amount: { amount: Math.round(state.totals.total * pick([0.3, 0.5, 1])), currency: 'CNY' }, receivedAt: deps.clock.now().toISOString(), method: 'bank_transfer' }, systemActor, meta());
      payments += 1;
    }
  }
  return { products: products.length, leads, opportunities, quotes, orders, payments };
}
