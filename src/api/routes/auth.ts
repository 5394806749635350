import { z } from 'zod';
import { authenticate } from '../../commands/users.ts';
import { HttpProblem, ProblemSchema } from '../problem.ts';
import { commonErrors } from '../responses.ts';
import { type AnyRoute, defineRoute } from '../route.ts';

const tags = ['Authentication 登录'];

const LoginInput = z
  .object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) })
  .strict()
  .meta({ id: 'LoginInput' });
const LoginResult = z.object({ token: z.string(), expiresAt: z.string() }).meta({ id: 'LoginResult' });
const Me = z
  .object({ userId: z.string(), username: z.string(), roles: z.array(z.string()), departmentPath: z.string() })
  .meta({ id: 'Me' });

export const authRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/auth/login',
    summary: 'Log in: a bearer token for the other calls',
    tags,
    auth: false,
    body: LoginInput,
    responses: {
      200: { description: 'Logged in', schema: LoginResult },
      400: commonErrors[400],
      401: { description: 'Unknown user or wrong password (one message for both)', schema: ProblemSchema, contentType: 'application/problem+json' },
    },
    async handler({ body, services }) {
      const user = await authenticate(services.deps, body.username, body.password);
      if (!user) throw new HttpProblem(401, 'invalid_credentials', 'Not authenticated', 'Unknown username or wrong password');
      return { status: 200, body: services.tokens.issue(user.userId, services.clock.now()) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/me',
    summary: 'Who the token belongs to',
    tags,
    responses: { 200: { description: 'The current user', schema: Me }, 401: commonErrors[401] },
    async handler({ actor }) {
      return { status: 200, body: actor };
    },
  }),
];
