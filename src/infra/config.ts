import { z } from 'zod';

const optionalUrl = (protocols: RegExp, example: string) =>
  z
    .string()
    .trim()
    .regex(protocols, `Expected a URL like ${example}`)
    .optional()
    .transform((value) => (value === '' ? undefined : value));

/** How long an ERP message waits for a record it names (a contact's customer) before its dead letter, by default. */
export const DEFAULT_ERP_REFERENCE_WAIT_MS = 600_000;

const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  CRM_DATA_DIR: z.string().min(1).default('./data'),
  EVENTSTORE_URL: optionalUrl(/^(esdb|kurrentdb|kurrent|kdb)(\+discover)?:\/\/.+/, 'kurrentdb://localhost:2113?tls=false'),
  MONGO_URL: optionalUrl(/^mongodb(\+srv)?:\/\/.+/, 'mongodb://localhost:27017/crm'),
  KAFKA_BROKERS: z.string().trim().regex(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, 'Expected host:port[,host:port…]').optional(),
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('crm-backend'),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(16).optional(),
  KAFKA_SSL: z
    .enum(['true', 'false'], { error: 'Expected true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  /** The ERP bridge's background consumers (outbound log; with Kafka, the inbound group and the publisher): for a company with an ERP. */
  CRM_ERP_BRIDGE: z
    .enum(['on', 'off'], { error: 'Expected on or off' })
    .default('off')
    .transform((value) => value === 'on'),
  /** How long the Kafka bridge waits for a record a message names (a contact's customer) before dead-lettering the message. */
  CRM_ERP_REFERENCE_WAIT_MS: z.coerce.number().int().min(0).max(7 * 86_400_000).default(DEFAULT_ERP_REFERENCE_WAIT_MS),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  SMTP_URL: optionalUrl(/^smtps?:\/\/.+/, 'smtp://user:pass@mail.example.com:587'),
  /** An SMS gateway speaking the generic signed interface (src/infra/sms/http.ts); unset: JSON lines in CRM_DATA_DIR/sms-outbox. */
  SMS_URL: optionalUrl(/^https?:\/\/.+/, 'https://sms.example.com/v1/send'),
  SMS_KEY_ID: z.string().trim().min(1).max(200).optional(),
  SMS_SECRET: z.string().min(16, 'SMS_SECRET needs at least 16 characters').optional(),
  /** The company's approved SMS signature (签名). */
  SMS_SIGN_NAME: z.string().trim().min(1).max(40).default('CRM'),
  /** Where people outside the company reach the service: public links (a shared quote, a survey) start with it. Default http://localhost:<PORT>. */
  CRM_PUBLIC_URL: optionalUrl(/^https?:\/\/[^/]+(\/.*)?$/, 'https://crm.example.com'),
  /** The sender of the mail the service sends (notifications, campaigns, surveys). */
  CRM_MAIL_FROM: z.string().trim().min(3).max(320).default('CRM <crm@localhost>'),
  /** The most campaign mails handed to the mail server a second (the SMTP relay's or provider's limit). */
  CRM_MAIL_RATE_PER_S: z.coerce.number().int().min(1).max(10_000).default(50),
  /** The secret the mail server (or its bounce processor) sends as `Authorization: Bearer` to POST /api/v1/mail/dsn; unset: the route answers 404. */
  CRM_MAIL_DSN_TOKEN: z.string().min(32, 'CRM_MAIL_DSN_TOKEN needs at least 32 characters').optional(),
  /** How many campaign mails are in flight at once (SMTP connections of the pool). */
  CRM_MAIL_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(4),
  CRM_ADMIN_PASSWORD: z.string().min(10, 'The admin password needs at least 10 characters').optional(),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET needs at least 32 characters').optional(),
  /**
   * The key that hashes reserved unique values (64 hex digits), from a secret store or KMS; unset, the service makes
   * one and keeps it with the subject keys. Every instance and every copy of the log must use the same one.
   */
  CRM_RESERVATION_KEY: z.string().regex(/^[0-9a-f]{64}$/, 'CRM_RESERVATION_KEY must be 64 hex digits (32 bytes)').optional(),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(8 * 3600),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  CRM_DURABILITY: z.enum(['normal', 'full']).default('normal'),
  /** Retention (days; 0 keeps them forever): login attempts, idempotency keys (at least 2: past their 24 h replay window) and notifications expire after it. */
  CRM_RETENTION_LOGIN_DAYS: z.coerce.number().int().min(0).max(36_500).default(180),
  CRM_RETENTION_IDEMPOTENCY_DAYS: z.coerce.number().int().refine((days) => days === 0 || days >= 2, 'Expected 0 (keep) or at least 2 days').default(7),
  CRM_RETENTION_NOTIFICATION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  CRM_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  /** Requests per minute per client address to the public routes (shared quotes, surveys, calendar feeds); 0 turns it off. */
  CRM_PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /** The most rows one CSV export may hold; a larger one is refused (413) and must be narrowed. */
  CRM_EXPORT_MAX_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * What this process does: `all` (the default) serves HTTP and runs the background work; `api` serves HTTP only;
   * `worker` runs the projections, the Kafka relay, the schedulers and the consumers, one worker leading at a time.
   * `api` and `worker` need a shared read store (MONGO_URL).
   */
  CRM_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** A worker's lease: how long a dead leader's lease lasts (a standby takes over within this plus one renewal). */
  CRM_LEASE_TTL_MS: z.coerce.number().int().min(1_500).max(120_000).default(10_000),
  /** How often the leading worker renews its lease and a standby tries to take it. */
  CRM_LEASE_RENEW_MS: z.coerce.number().int().min(500).max(40_000).default(2_000),
  /** On SIGTERM, how long requests in flight may take to finish before their connections are closed. */
  CRM_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  /** The most rows an analyst's query answers (POST /api/v1/analytics/query; beyond: the first ones, truncated: true). */
  CRM_ANALYTICS_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** How long an analyst's query may run (ms) before it is stopped with 422 analytics.time_limit. */
  CRM_ANALYTICS_MAX_TIME_MS: z.coerce.number().int().min(1).max(600_000).default(5_000),
  /** How long a report as of a past instant (`?asOf=`) is waited for (ms) before it answers 202 with a Location to poll. */
  CRM_ASOF_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** How many read models of past instants are kept at once (each holds the projections a report reads, in memory). */
  CRM_ASOF_MAX_MODELS: z.coerce.number().int().min(1).max(100).default(4),
  /** The largest file one attachment may be (bytes); a larger upload answers 413. */
  CRM_ATTACHMENT_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(20 * 1024 * 1024),
  /** The largest file (CSV or XLSX) one import may upload, and the most rows it may hold. */
  CRM_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(50 * 1024 * 1024),
  CRM_IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(200_000),
  /** When set, GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: bearer_token). */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN needs at least 16 characters').optional(),
  /** How long an Idempotency-Key's answer is kept for retries; after that the key may be used again. */
  CRM_IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  /** Login and change-password attempts a minute from one client address (0 turns the limit off). */
  CRM_LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  /** Behind a reverse proxy: take the client address from X-Forwarded-For. Only if the proxy sets it. */
  CRM_TRUST_PROXY: z
    .enum(['true', 'false'], { error: 'Expected true or false' })
    .default('false')
    .transform((value) => value === 'true'),
});

const SASL_SETTINGS = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;

/** The examples .env.example gives for the secrets: a service started with them would be open to anyone who read it. */
export const EXAMPLE_SECRETS = { JWT_SECRET: 'change-me-to-a-long-random-string-of-48-characters', CRM_ADMIN_PASSWORD: 'change-me-now' } as const;
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|^(secret|password|changeit)$/i;

/** Settings that only make sense together; checked even when other variables are bad, so all are listed at once. */
const CheckedConfigSchema = ConfigSchema.superRefine(
  (config, context) => {
    for (const key of Object.keys(EXAMPLE_SECRETS) as (keyof typeof EXAMPLE_SECRETS)[])
      if (config[key] !== undefined && (config[key] === EXAMPLE_SECRETS[key] || PLACEHOLDER.test(config[key])))
        context.addIssue({ code: 'custom', path: [key], message: `${key} is still the example value; set a secret of your own` });
    const given = SASL_SETTINGS.filter((key) => config[key]);
    if (given.length > 0 && given.length < SASL_SETTINGS.length)
      for (const key of SASL_SETTINGS)
        if (!config[key]) context.addIssue({ code: 'custom', path: [key], message: 'Kafka SASL needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD together' });
    if (config.CRM_ROLE !== 'all' && !config.MONGO_URL)
      context.addIssue({ code: 'custom', path: ['CRM_ROLE'], message: `CRM_ROLE=${config.CRM_ROLE} needs a read store other processes share (MONGO_URL): the embedded one lives in one process, so it serves CRM_ROLE=all only` });
    if (config.CRM_LEASE_RENEW_MS * 3 > config.CRM_LEASE_TTL_MS)
      context.addIssue({ code: 'custom', path: ['CRM_LEASE_RENEW_MS'], message: 'CRM_LEASE_RENEW_MS must be at most a third of CRM_LEASE_TTL_MS (a lease is renewed at least three times before it expires)' });
    if (config.SMS_URL) for (const key of ['SMS_KEY_ID', 'SMS_SECRET'] as const) if (!config[key]) context.addIssue({ code: 'custom', path: [key], message: `SMS_URL needs ${key}: the gateway checks each request's signature` });
  },
  { when: () => true },
);

export type Config = z.infer<typeof ConfigSchema>;

/** Every variable the service reads. */
export const configVariables: readonly string[] = Object.keys(ConfigSchema.shape);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; lists every bad variable at the same time. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = CheckedConfigSchema.safeParse(env);
  if (!result.success)
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  return result.data;
}
