import { defineConfig } from 'vitest/config';

// Mutation testing (`npm run test:mutation`, not part of `npm test`): src/domain is mutated and judged by the
// decider specifications alone (tests/domain), so a rule no spec pins shows up as a surviving mutant.
export default defineConfig({
  test: { include: ['tests/domain/**/*.test.ts'] },
});
