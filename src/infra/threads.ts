/**
 * The code a worker thread starts with to run the module at `moduleUrl`: as TypeScript through tsx's loader
 * registered in the worker (loaders given to the main thread do not reach worker threads on Node 20), or as it is
 * when already JavaScript. For `new Worker(code, { eval: true })`.
 */
export function workerBootstrap(moduleUrl: string): string {
  if (!moduleUrl.endsWith('.ts')) return `import(${JSON.stringify(moduleUrl)})`;
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`;
}
