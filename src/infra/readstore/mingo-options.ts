/**
 * How this process runs MongoDB's query language (mingo): never a script. `$where`, `$function` and
 * `$accumulator` refuse to run, whoever wrote the filter or pipeline (the analysts' query interface refuses them
 * before they get here; this is the store's own guard).
 */
export const MINGO_OPTIONS = { scriptEnabled: false } as const;
