/** Polls `condition` until it holds; fails after `timeoutMs`, saying what was awaited when `what` is given. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what: () => string = () => 'condition'): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what()} not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
