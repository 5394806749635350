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
    child: (bindings) => new LazyChildLogger(base, bindings),
  };
}

/**
 * A child logger made when it first writes a line its level lets through: each request has one, and pino's
 * child (its bindings serialised and redacted up front) cost about 1 % of a create whose lines were all below
 * the level. A class, so that a request's costs one object, not five closures (each of which also had its name
 * defined under tsx, another 0.8 % of a create).
 */
class LazyChildLogger implements Logger {
  private made: Logger | undefined;

  constructor(
    private readonly base: pino.Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  private write(level: LogLevel, message: string, fields: Record<string, unknown> | undefined): void {
    if (this.base.isLevelEnabled(level)) (this.made ??= over(this.base.child(this.bindings)))[level](message, fields);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  child(more: Record<string, unknown>): Logger {
    return new LazyChildLogger(this.base, { ...this.bindings, ...more });
  }
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
