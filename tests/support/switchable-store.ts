import { type Collection, type ReadStore, ReadStoreUnavailableError } from '../../src/infra/readstore/port.ts';

/** A read store that can be switched off: every call then fails as an unreachable MongoDB does. */
export function switchable(inner: ReadStore): ReadStore & { down: boolean } {
  const store = {
    down: false,
    collection(name: string) {
      const collection = inner.collection(name);
      return new Proxy(collection, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (store.down) return Promise.reject(new ReadStoreUnavailableError(new Error('connection refused')));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }) as Collection;
    },
    flush: () => inner.flush(),
    ping: () => (store.down ? Promise.reject(new ReadStoreUnavailableError(new Error('connection refused'))) : inner.ping()),
    close: () => inner.close(),
  };
  return store as ReadStore & { down: boolean };
}
