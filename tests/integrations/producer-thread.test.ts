import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/infra/logger.ts';
import { type BatchProducer, ThreadedProducer } from '../../src/integrations/kafka/producer-thread.ts';

/** An in-process producer that records what it was asked. */
function recordingProducer(): BatchProducer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    connect: async () => void calls.push('connect'),
    sendBatch: async (batch) => void calls.push(`send ${batch.topicMessages.map((t) => t.topic).join(',')}`),
    disconnect: async () => void calls.push('disconnect'),
  };
}

describe('ThreadedProducer', () => {
  it('runs kafkajs in a thread, and an error kafkajs raises there reaches the caller with its name and message', async () => {
    const inProcess = vi.fn(recordingProducer);
    // No broker is reached: kafkajs refuses a batch without a topic before it connects.
    const producer = new ThreadedProducer({ brokers: ['127.0.0.1:1'], clientId: 'thread-test' }, silentLogger, inProcess);
    await expect(producer.sendBatch({ acks: -1, topicMessages: [{ topic: '', messages: [{ key: 'k', value: 'v' }] }] })).rejects.toMatchObject({ name: 'KafkaJSNonRetriableError', message: 'Invalid topic' });
    expect(producer.threaded).toBe(true);
    expect(inProcess).not.toHaveBeenCalled();
    await producer.disconnect();
    expect(producer.threaded).toBe(false);
    await expect(producer.sendBatch({ acks: -1, topicMessages: [] })).rejects.toThrow('the Kafka producer thread is not running');
  });

  it('settings a thread cannot take (a SASL provider function) keep the producer in process, and say so', async () => {
    const inProcess = recordingProducer();
    const warn = vi.fn();
    const producer = new ThreadedProducer(
      { brokers: ['127.0.0.1:1'], clientId: 'thread-test', sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'token' }) } },
      { ...silentLogger, warn },
      () => inProcess,
    );
    await producer.connect();
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'crm.customer', messages: [] }] });
    await producer.disconnect();
    expect(producer.threaded).toBe(false);
    expect(inProcess.calls).toEqual(['connect', 'send crm.customer', 'disconnect']);
    expect(warn).toHaveBeenCalledWith('the Kafka producer thread could not start; publishing from the main thread', expect.objectContaining({ error: expect.any(String) }));
  });
});
