/**
 * A MongoDB connection string in its parts: scheme and host list, database path, options. A replica set's host
 * list (`h1:27017,h2:27017`) is not a URL authority, so no URL parser takes it; this splits the string as the
 * connection string format defines it (credentials and the database name are percent-encoded, so neither holds
 * a `/` or a `?`).
 */
function parts(url: string): { base: string; database: string; query: string } {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/([^?]*))?(\?.*)?$/.exec(url);
  if (!match) throw new Error('not a mongodb:// connection string');
  return { base: match[1]!, database: decodeURIComponent(match[2] ?? ''), query: match[3] ?? '' };
}

/** Whether the connection string names a database (`…/crm?…`). */
export const namesDatabase = (url: string): boolean => parts(url).database !== '';

/** The connection string with its database replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const { base, query } = parts(url);
  return `${base}/${encodeURIComponent(name)}${query}`;
}

/** The connection string with one option set (replacing the value it had). */
export function withOption(url: string, key: string, value: string): string {
  const { base, database, query } = parts(url);
  const options = new URLSearchParams(query.slice(1));
  options.set(key, value);
  return `${base}/${encodeURIComponent(database)}?${options.toString()}`;
}
