import { parseArgs } from 'node:util';
import { kafkaClient } from '../integrations/kafka/client.ts';
import { type ErpTransport, httpTransport, kafkaTransport, simulateErp } from '../integrations/erp/simulator.ts';
import { jsonLogger } from '../infra/logger.ts';

/**
 * `npm run erp:simulate`: a stand-in ERP. With KAFKA_BROKERS it speaks Kafka (the erp.* topics in, crm.erp.order
 * out); otherwise HTTP to a running service (`--url`, an administrator's `--token` or CRM_TOKEN). It sends master
 * data, then acknowledges each confirmed order for `--seconds` (0: until stopped).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '100' },
      products: { type: 'string', default: '50' },
      inventory: { type: 'string', default: '100' },
      'duplicate-every': { type: 'string', default: '0' },
      'out-of-order-every': { type: 'string', default: '0' },
      malformed: { type: 'string', default: '0' },
      'drop-ack-every': { type: 'string', default: '0' },
      prefix: { type: 'string', default: 'SIM' },
      seconds: { type: 'string', default: '0' },
      url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 3000}` },
      token: { type: 'string', default: process.env.CRM_TOKEN ?? '' },
    },
  });
  const count = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number ≥ 0`);
    return value;
  };
  let transport: ErpTransport;
  if (process.env.KAFKA_BROKERS) transport = kafkaTransport(kafkaClient({ brokers: process.env.KAFKA_BROKERS.split(','), clientId: 'erp-simulator' }, jsonLogger('warn')));
  else {
    if (!values.token) throw new Error('Without KAFKA_BROKERS the simulator calls the service over HTTP: give an administrator\'s token with --token or CRM_TOKEN (and --url if not http://localhost:3000)');
    transport = httpTransport(values.url!, values.token);
  }
  const options = {
    customers: count('customers'),
    products: count('products'),
    inventory: count('inventory'),
    duplicateEvery: count('duplicate-every'),
    outOfOrderEvery: count('out-of-order-every'),
    malformed: count('malformed'),
    prefix: values.prefix!,
    dropAckEvery: count('drop-ack-every'),
  };
  const run = await simulateErp(transport, options, (line) => console.log(line));
  const seconds = count('seconds');
  await new Promise<void>((resolve) => {
    if (seconds > 0) setTimeout(resolve, seconds * 1000);
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  console.log(`acknowledged ${await run.stop()} orders`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
