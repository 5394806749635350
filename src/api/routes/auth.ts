import { z } from 'zod';
import { changeOwnPassword, getEmployee, login, passwordStamp } from '../../commands/employees.ts';
import { countUnknownUsername } from '../../commands/login-failures.ts';
import type { RouteServices as Services } from '../route.ts';
import { HttpProblem, ProblemSchema } from '../problem.ts';
import { commonErrors, conflictError } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { COMPANY, companyView } from '../../projections/company.ts';
import { localDate } from '../../domain/company/index.ts';

const tags = ['Authentication 登录'];
const problem = (description: string) => ({ description, schema: ProblemSchema, contentType: 'application/problem+json' });

const LoginInput = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) }).strict().meta({ id: 'LoginInput', examples: [{ username: 'wang.fang', password: 'demo-password-2026' }] });
const LoginResult = z
  .object({ token: z.string(), expiresAt: z.string(), mustChangePassword: z.boolean().describe('true after an admin reset: change it before anything else') })
  .meta({ id: 'LoginResult' });
const ChangePasswordInput = z.object({ currentPassword: z.string().min(1).max(1000), newPassword: z.string().min(1).max(1000) }).strict().meta({ id: 'ChangePasswordInput' });
const Me = z
  .object({
    userId: z.string(),
    username: z.string(),
    roleIds: z.array(z.string()),
    permissions: z.record(z.string(), z.array(z.string())),
    dataScope: z.enum(['own', 'department', 'department_tree', 'all']),
    departmentId: z.string().nullable(),
    departmentPath: z.string(),
    company: z
      .object({ timeZone: z.string(), currency: z.string(), today: z.string().describe('The date in the company\'s time zone (YYYY-MM-DD): what reports call today') })
      .describe("The company's time zone and currency, which reports' days, months and amounts follow"),
  })
  .meta({ id: 'Me' });

/** Password checks from one client address: at most CRM_LOGIN_RATE_PER_MINUTE a minute (429 beyond). */
function limitCredentialChecks(services: Services, address: string): void {
  const retryAfter = services.limits.credentials.hit(address);
  if (retryAfter !== undefined)
    throw new HttpProblem(429, 'auth.rate_limited', 'Too many attempts', `Too many password checks from your address; try again in ${retryAfter} s`, {}, { 'Retry-After': String(retryAfter) });
}

export const authRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/auth/login',
    summary: 'Log in: a bearer token for the other calls',
    description:
      'Repeated failures for one account slow down (1 s, 2 s, 4 s …) and then lock for 15 minutes (an administrator can unlock it); each client address may try CRM_LOGIN_RATE_PER_MINUTE times a minute. Both answer 429 with Retry-After.',
    tags,
    auth: false,
    idempotent: false,
    body: LoginInput,
    responses: {
      200: { description: 'Logged in', schema: LoginResult },
      400: commonErrors[400],
      401: problem('Unknown user, wrong password or disabled account (one message for all)'),
      429: problem('Too many failed attempts for this account, or too many attempts from your address; see Retry-After'),
    },
    async handler({ body, services, meta, koa }) {
      limitCredentialChecks(services, koa.ip);
      const employee = await login(services.deps, body.username, body.password, meta, () => countUnknownUsername(services.readStore, koa.ip, services.clock.now()));
      if (!employee?.account) throw new HttpProblem(401, 'invalid_credentials', 'Not authenticated', 'Unknown username or wrong password');
      const token = services.tokens.issue(employee.employeeId, passwordStamp(employee.account), services.clock.now());
      return { status: 200, body: { ...token, mustChangePassword: employee.account.mustChangePassword } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/auth/change-password',
    summary: 'Change your own password; answers a fresh token (earlier tokens stop working)',
    tags,
    idempotent: false,
    body: ChangePasswordInput,
    responses: {
      200: { description: 'Changed', schema: LoginResult },
      400: commonErrors[400],
      401: commonErrors[401],
      ...conflictError,
      429: problem('Too many wrong current passwords for this account, or too many attempts from your address; see Retry-After'),
    },
    async handler({ body, actor, services, meta, koa }) {
      limitCredentialChecks(services, koa.ip);
      await changeOwnPassword(services.deps, actor, body.currentPassword, body.newPassword, meta);
      const account = (await getEmployee(services.deps, actor.userId))!.account!;
      return { status: 200, body: { ...services.tokens.issue(actor.userId, passwordStamp(account), services.clock.now()), mustChangePassword: false } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/me',
    reads: [COMPANY],
    summary: 'Who the token belongs to: permissions, data scope, department; and the company\'s time zone, currency and today',
    tags,
    responses: { 200: { description: 'The current user', schema: Me }, 401: commonErrors[401] },
    async handler({ actor, services }) {
      const { timeZone, currency } = await companyView(services.readStore);
      return { status: 200, body: { ...actor, company: { timeZone, currency, today: localDate(services.clock.now(), timeZone) } } };
    },
  }),
];
