import { pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Fields that may hold a secret, wherever a caller put them: logged as `[redacted]`. */
const SECRET_FIELDS = ['password', 'newPassword', 'currentPassword', 'token', 'secret', 'authorization', 'cookie', 'apiKey'];

/** A Logger over a pino instance (fields first, message second, as our call sites write them). */
function over(base: pino.Logger): Logger {
  return {
    debug: (message, fields) => base.debug(fields ?? {}, message),
    info: (message, fields) => base.info(fields ?? {}, message),
    warn: (message, fields) => base.warn(fields ?? {}, message),
    error: (message, fields) => base.error(fields ?? {}, message),
    child: (bindings) => childOf(base, bindings),
  };
}

/**
 * A child logger made when it first writes a line its level lets through: each request has one, and pino's
 * child (its bindings serialised and redacted up front) cost about 1 % of a create whose lines were all below
 * the level.
 */
function childOf(base: pino.Logger, bindings: Record<string, unknown>): Logger {
  let made: Logger | undefined;
  const write = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (base.isLevelEnabled(level)) (made ??= over(base.child(bindings)))[level](message, fields);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (more) => childOf(base, { ...bindings, ...more }) };
}

/**
 * Structured JSON logs through pino, one line per entry: `{ level, time (ISO-8601 UTC), pid, hostname, …fields,
 * msg }`, the level as its name. Errors in any field are serialised with their name, message and stack; fields
 * named like secrets are redacted at any depth of one level. `write` takes each line (tests); stdout otherwise.
 */
export function jsonLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  return over(
    pino(
      {
        level,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
        redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`)], censor: '[redacted]' },
      },
      write ? { write } : pino.destination({ dest: 1, sync: true }),
    ),
  );
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
