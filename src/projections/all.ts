import { auditProjection } from './audit.ts';
import { customersProjection } from './customers.ts';
import { orgProjection } from './org.ts';
import { leadsProjection, opportunitiesProjection, ordersProjection, productsProjection, quotesProjection } from './pipeline.ts';
import type { Projection } from './projection.ts';

/** Every read model the service keeps, in the order the runner applies them. */
export const allProjections: readonly Projection[] = [
  orgProjection,
  customersProjection,
  auditProjection,
  productsProjection,
  leadsProjection,
  opportunitiesProjection,
  quotesProjection,
  ordersProjection,
];
