import { changeMemberLevelRules, memberLevelRules } from '../../commands/member-levels.ts';
import { MemberLevelRules } from '../../domain/customer/member-levels.ts';
import { type AnyRoute } from '../route.ts';
import { settingRoutes } from '../setting-routes.ts';

/** Member levels (会员等级) for customer care: the rules a projection's counters and a nightly run apply. */
export const memberLevelRoutes: AnyRoute[] = settingRoutes({
  path: '/api/v1/settings/member-levels',
  tags: ['Customers 客户'],
  schema: MemberLevelRules,
  read: { summary: 'The member-level rules (会员等级): the basis, the window in months, the levels with their minimum amounts', done: 'The rules' },
  write: {
    summary: 'Change the member-level rules: every customer is evaluated again at once (and every night at 00:30, company time)',
    description:
      "A customer holds the highest level whose minAmount it reaches with its confirmed orders (basis orders) or payments (collections) of the last windowMonths calendar months, this one included; below the lowest, none. A change of a customer's level is an event in its history and gives its owner a care task.",
    done: 'Saved',
  },
  load: memberLevelRules,
  save: ({ body, actor, services, meta }) => changeMemberLevelRules(services.deps, body, actor, meta),
});
