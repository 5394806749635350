import type { TestApp } from './app.ts';

/** Waits until a batch has completed and the read models show all it wrote; answers the batch as GET shows it. */
export async function completedBatch(app: TestApp, batchId: string, token?: string) {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    await app.services.runner.waitFor(await app.services.eventStore.headPosition(), 10_000);
    const batch = await app.request('GET', `/api/v1/batches/${batchId}`, { token });
    if (batch.body.status === 'completed') return batch.body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`batch ${batchId} did not complete`);
}
