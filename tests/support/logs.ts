/** The JSON log entries in a process's output (lines that are not whole JSON objects are left out). */
export function logEntries(output: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.trimEnd().endsWith('}')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by the chunk it came in.
    }
  }
  return entries;
}

/** The first entry with this message (and these fields), or undefined. */
export const logEntry = (output: string, msg: string, fields: Record<string, unknown> = {}): Record<string, unknown> | undefined =>
  logEntries(output).find((entry) => entry.msg === msg && Object.entries(fields).every(([key, value]) => entry[key] === value));
