import { complaintAlerts, ticketSlaTimer } from '../commands/tickets.ts';
import { approvalProcess } from '../commands/approval-process.ts';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandDeps, RequestMeta } from '../commands/context.ts';
import { findEmployeeByUsername, hireEmployee, systemActor } from '../commands/employees.ts';
import { ensureRoleTemplates } from '../commands/org.ts';
import { migrateCompetitorNames } from '../commands/competitors.ts';
import { startActivitiesEra } from '../commands/activities.ts';
import { memberLevelsTimer } from '../commands/member-levels.ts';
import { dailyDigestTimer, startDailyDigest } from '../commands/daily-digest.ts';
import { reportMailTimer } from '../commands/report-mail.ts';
import { taskReminders } from '../commands/tasks.ts';
import { allProjections } from '../projections/all.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import { AsOfModels } from '../projections/as-of.ts';
import { type Clock, systemClock } from '../infra/clock.ts';
import type { Config } from '../infra/config.ts';
import type { EventStore } from '../infra/eventstore/port.ts';
import { SqliteEventStore } from '../infra/eventstore/sqlite.ts';
import type { ChainVerifier } from '../infra/eventstore/chain.ts';
import { ChainWitness } from '../infra/eventstore/chain-witness.ts';
import { auditAnchorTimer, startAuditAnchors } from '../commands/audit-anchor.ts';
import { maxAgeSeconds, retentionPeriods, retentionTimer, startRetention } from '../commands/retention.ts';
import { CodecEventStore } from '../infra/eventstore/codec.ts';
import type { PersonalDataEventStore } from '../infra/eventstore/personal-data.ts';
import { CollectionSubjectKeys, RESERVATION_KEY_SUBJECT, SqliteSubjectKeys, SUBJECT_KEYS, type SubjectKeys } from '../infra/personal-data/keys.ts';
import { domainEventCodec, domainLog } from './event-log.ts';
import { threadedLogReader, threadedReplay } from './log-reader-thread.ts';
import { randomIds, randomToken, seededIds } from '../infra/ids.ts';
import { lockDataDir } from '../infra/lock.ts';
import { jsonLogger, type Logger } from '../infra/logger.ts';
import { EventLogSource } from '../integrations/event-log-source.ts';
import type { EventSource } from '../integrations/event-source.ts';
import { kafkaClient, type KafkaSettings } from '../integrations/kafka/client.ts';
import { KafkaRelay } from '../integrations/kafka/relay.ts';
import { relayProducerConfig, ThreadedProducer } from '../integrations/kafka/producer-thread.ts';
import { KafkaEventSource } from '../integrations/kafka/source.ts';
import type { TopicSettings } from '../integrations/kafka/topics.ts';
import { ErpBridgeStatus } from '../integrations/erp/status.ts';
import type { Kafka } from 'kafkajs';
import { KurrentEventStore } from '../infra/eventstore/kurrent.ts';
import { EmbeddedReadStore } from '../infra/readstore/embedded.ts';
import { compactHeap } from '../infra/heap.ts';
import { MongoReadStore } from '../infra/readstore/mongo.ts';
import { SqliteBackedStore } from '../infra/readstore/durable.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { ServerKeys } from '../infra/keys.ts';
import type { Mailer } from '../infra/mail/port.ts';
import type { Blobs } from '../infra/blobs/port.ts';
import { FileBlobs, MemoryBlobs } from '../infra/blobs/files.ts';
import type { TimerSpec } from '../commands/timers.ts';
import { timersProjection } from '../projections/timers.ts';
import { TimerWorker } from './timers.ts';
import { NotificationFeed } from './notification-feed.ts';
import { MemoryMailer } from '../infra/mail/memory.ts';
import { CampaignSender } from './campaign-sender.ts';
import { automationTimer } from '../commands/automation.ts';
import type { SmsSender } from '../infra/sms/port.ts';
import { abTestTimer } from '../commands/campaign-ab-test.ts';
import { automationUnsubscribeLink } from '../commands/campaign-mail.ts';
import { birthdayCareTimer } from '../commands/birthday-care.ts';
import { HttpSmsGateway } from '../infra/sms/http.ts';
import { FileSmsOutbox, MemorySms } from '../infra/sms/outbox.ts';
import { OutboxMailer, SmtpMailer } from '../infra/mail/nodemailer.ts';
import { FixedWindowLimiter } from '../infra/throttle.ts';
import { TokenService } from '../infra/tokens.ts';
import type { Fence } from '../infra/readstore/fencing.ts';

/** Everything the API, the CLIs and the tests need, wired to the adapters the configuration selects. */
export interface Services {
  config: Config;
  logger: Logger;
  clock: Clock;
  eventStore: EventStore;
  readStore: ReadStore;
  /**
   * Where integration state lives (relay and consumer checkpoints, the consumers' inbox): MongoDB in production;
   * embedded, a SQLite table beside the event log, so losing the read-model snapshot cannot wipe it.
   */
  integrationStore: ReadStore;
  runner: ProjectionRunner;
  /** Read models of past instants, for reports `?asOf=` (built on demand, cached, bounded). */
  asOf: AsOfModels;
  /** Where integration consumers read events: Kafka consumer groups, or the event log in the embedded default. */
  eventSource: EventSource;
  /** The Kafka client and its topics' settings, in production (KAFKA_BROKERS). */
  kafka?: { client: Kafka; topics: TopicSettings };
  /** The ERP bridge's running status per topic. */
  erp: ErpBridgeStatus;
  /** Publishes the event log to Kafka (when KAFKA_BROKERS is set and the server runs). */
  relay?: KafkaRelay;
  deps: CommandDeps;
  tokens: TokenService;
  /** Attachments: files under CRM_DATA_DIR/blobs embedded, GridFS beside the read models in production. */
  blobs: Blobs;
  /** Live notifications for connected clients (SSE), resumable by stream revision. */
  notifications: NotificationFeed;
  /** Fires what the timers read model says is due (started with the projections; tests call tick()). */
  timers: TimerWorker;
  /** The hash chain over the log (tamper evidence): the embedded store's own, or the witness beside EventStoreDB. */
  chain?: ChainVerifier;
  /** Crypto-shredding: erases a data subject (destroys its key), and hands keys to consumers of sealed messages. */
  personalData: Pick<PersonalDataEventStore, 'erase' | 'subjectKey'>;
  /** Sends mail: SMTP when SMTP_URL is set, `.eml` files in CRM_DATA_DIR/outbox embedded (kept in memory for in-memory tests). */
  mailer: Mailer;
  /** Sends text messages: an HTTP gateway when SMS_URL is set, JSON lines in CRM_DATA_DIR/sms-outbox embedded (in memory for in-memory tests). */
  sms: SmsSender;
  /** Sends campaigns' mail in the background, resumably. */
  campaigns: CampaignSender;
  /** Keys derived from the server secret: sealed cursors, keyed hashes. */
  keys: ServerKeys;
  /** Per-process request limits: credential checks per client address, and requests per caller. */
  limits: { credentials: FixedWindowLimiter; requests: FixedWindowLimiter; publicRequests: FixedWindowLimiter };
  /** Runs work after the response (handovers): logged if it fails, awaited by close(). */
  background(name: string, work: () => Promise<unknown>): void;
  /**
   * Background work a request starts (a handover, a campaign send): run here, or, on an `api` instance, left to
   * the leading worker, which picks up unfinished handovers and sends every few seconds.
   */
  backgroundOrWorker(name: string, work: () => Promise<unknown>): void;
  /** What this process does (CRM_ROLE). */
  role: Config['CRM_ROLE'];
  /** Whether this process runs the background work now (`all`: always; a worker: while it leads), and under which fencing token. */
  leadership: { leading: boolean; fencingToken?: number };
  /**
   * A worker's duties once it leads, its writes fenced by the lease: the start-up migrations, then the
   * projections, timers, relay and witness. Undefined for other roles (they start at open).
   */
  lead?(fence: Fence): Promise<void>;
  /** Request facts for a command; pass the seed of an idempotent request to make its ids repeatable. */
  requestMeta(correlationId: string, seed?: { seed: string; timeMs: number }, ifMatch?: bigint): RequestMeta;
  /**
   * Stops the work and closes the stores; `beforeStoresClose` runs once everything has flushed (a worker releases
   * its lease then); `onClosed` gets how long the close and each of its steps took (logged past SLOW_CLOSE_MS).
   */
  close(options?: { beforeStoresClose?: () => Promise<void>; onClosed?: (timing: { totalMs: number; tookMs: Record<string, number> }) => void }): Promise<void>;
}

export interface OpenOptions {
  logger?: Logger;
  clock?: Clock;
  /** Keep everything in memory (tests): no files are written. */
  inMemory?: boolean;
  /** Follow the log with the projections (the server does; a one-off CLI may not). */
  startProjections?: boolean;
  /** Who holds the data directory (shown to a second process that tries to open it). */
  purpose?: string;
  /** The timers the modules declare (default: all of them); tests add their own. */
  timers?: readonly TimerSpec[];
  /** Tick the timers every second (default: with the projections); tests drive them with tick() instead. */
  startTimers?: boolean;
}

/** A read-model snapshot of this many documents or more is followed by a compaction of the heap (about 1 s at 1M). */
const COMPACT_AFTER_LOADING = 100_000;
/**
 * The projections a replay of the embedded log applies in its reading thread, beside the reading. Chosen so that
 * both threads take about as long on the 100k benchmark log (rebuilt in 43 s with the first two, 55 s with none,
 * 50 s with the funnel's opportunities instead of the team's records): reading is about 40 % of a rebuild's work.
 * The last three take every event, or every customer's or contact's, for little work each: the replay's thread
 * spent 1.5 s of CPU less with them here (17.3 s against 18.8 s to the last batch), the reading thread's idle
 * time took them, and the last batch was applied a second earlier (21.0 s against 22.2 s). The campaign results
 * went to the replay's thread when its work had shrunk: with them in the reading thread, the replay's waited for
 * batches (about 3 s of a rebuild) while the reading thread never did; `npm run bench:rebuild`, 5 runs each,
 * median 18.9 s against 19.3 s.
 */
export const APPLIED_BESIDE_READING = ['team', 'tickets', 'batches', 'campaign-members'];
/** How long a read model of a past instant, or a report job, is kept unused. */
const AS_OF_TTL_MS = 15 * 60_000;
/** A close that takes this long is logged with the time of each step. */
export const SLOW_CLOSE_MS = 5_000;

/** Every timer the modules declare (reminders, SLA warnings and digests join as their modules land). */
export const allTimers: readonly TimerSpec[] = [taskReminders, memberLevelsTimer, dailyDigestTimer, reportMailTimer, ticketSlaTimer, complaintAlerts, approvalProcess, automationTimer, abTestTimer, birthdayCareTimer, auditAnchorTimer, retentionTimer];

function jwtSecret(config: Config, inMemory: boolean, logger: Logger): string {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  if (inMemory) return randomToken(32);
  if (config.EVENTSTORE_URL)
    logger.warn('JWT_SECRET is unset: tokens are signed with a secret kept in CRM_DATA_DIR, so other instances of the service will not accept them');
  const path = join(config.CRM_DATA_DIR, 'jwt-secret');
  if (!existsSync(path)) {
    mkdirSync(config.CRM_DATA_DIR, { recursive: true });
    // Written whole under another name, then linked in place (which fails if it exists): of processes sharing the
    // directory (a scaled deployment) that start at once, each reads the first one's secret, never a half-written one.
    const draft = `${path}.${process.pid}`;
    writeFileSync(draft, randomToken(48), { mode: 0o600 });
    chmodSync(draft, 0o600);
    try {
      linkSync(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(draft, { force: true });
    }
  }
  return readFileSync(path, 'utf8').trim();
}

function kafkaSettings(config: Config, brokers: string): KafkaSettings {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  return {
    brokers: brokers.split(','),
    clientId: config.KAFKA_CLIENT_ID,
    ssl: config.KAFKA_SSL,
    ...(mechanism && username && password ? { sasl: { mechanism, username, password } as KafkaSettings['sasl'] } : {}),
  };
}

/**
 * The key reservations are hashed under: CRM_RESERVATION_KEY, or the one kept with the subject keys (made at the
 * first start). A log whose reservations were made under a key the store does not hold (a log copied without its
 * key store) is refused: values it reserved would look free, and duplicates would follow.
 */
async function reservationKeyOf(config: Config, keys: SubjectKeys, log: EventStore): Promise<Buffer> {
  if (config.CRM_RESERVATION_KEY) return Buffer.from(config.CRM_RESERVATION_KEY, 'hex');
  const kept = await keys.get(RESERVATION_KEY_SUBJECT, false);
  if (kept && 'key' in kept) return kept.key;
  const keyed = (await log.readAll({ filter: { eventTypes: ['ReservationClaimed'] } })).some((event) => typeof (event.data as { valueHash?: unknown }).valueHash === 'string');
  if (keyed)
    throw new Error('the log holds reservations hashed under a key this service does not have: start it with the key store the log was written with (events.sqlite, or MongoDB _subjectKeys) or set CRM_RESERVATION_KEY');
  const made = await keys.get(RESERVATION_KEY_SUBJECT, true);
  if (!made || !('key' in made)) throw new Error('the reservation key could not be made');
  return made.key;
}

export async function openServices(config: Config, options: OpenOptions = {}): Promise<Services> {
  const logger = options.logger ?? jsonLogger(config.LOG_LEVEL);
  const clock = options.clock ?? systemClock;
  const inMemory = options.inMemory ?? false;
  const embeddedEvents = !config.EVENTSTORE_URL;
  const embeddedReads = !config.MONGO_URL;
  const usesDataDir = !inMemory && (embeddedEvents || embeddedReads);
  // The subject keys and the integration state, where SQLite holds them: in the event log's own file when the log is
  // embedded (they then write when its writer gives them the turn, and leave its checkpoints to it), in a file of
  // their own otherwise.
  const statePath = inMemory ? ':memory:' : join(config.CRM_DATA_DIR, embeddedEvents ? 'events.sqlite' : 'integration.sqlite');
  if (usesDataDir) mkdirSync(config.CRM_DATA_DIR, { recursive: true });
  const role = config.CRM_ROLE;
  // Several processes of a scaled deployment share the SQLite log (WAL serialises their appends); only the
  // embedded read store, which lives in one process, needs the directory to itself.
  const unlock = usesDataDir && role === 'all' ? lockDataDir(join(config.CRM_DATA_DIR, 'lock'), options.purpose ?? 'server') : () => {};
  const retention = retentionPeriods(config);
  const maxAges = maxAgeSeconds(retention);
  const storedEvents: EventStore = config.EVENTSTORE_URL
    ? KurrentEventStore.connect(config.EVENTSTORE_URL, { maxAgeSeconds: maxAges })
    : new SqliteEventStore({ path: inMemory ? ':memory:' : join(config.CRM_DATA_DIR, 'events.sqlite'), durability: config.CRM_DURABILITY, writerThread: !inMemory });
  // The hash chain: the embedded store keeps it in its appends; for EventStoreDB a witness follows the log.
  const witness = storedEvents instanceof SqliteEventStore ? undefined : new ChainWitness(storedEvents, { expiring: new Set(Object.keys(maxAges)) });
  const chain: ChainVerifier | undefined = storedEvents instanceof SqliteEventStore ? storedEvents : witness;
  const sharesEventLog = storedEvents instanceof SqliteEventStore && !inMemory ? storedEvents : undefined;
  const readStore: ReadStore = config.MONGO_URL
    ? await MongoReadStore.connect(config.MONGO_URL).catch(async (error: unknown) => {
        await storedEvents.close();
        unlock();
        throw new Error(`cannot reach the read store at MONGO_URL: ${(error as Error).message}`);
      })
    : new EmbeddedReadStore(
        inMemory
          ? {}
          : {
              snapshotPath: join(config.CRM_DATA_DIR, 'read-models.snapshot'),
              onUnreadableSnapshot: (error, keptAs) =>
                logger.error('the read-model snapshot could not be read; starting empty and rebuilding the read models from the event log', { error: error.message, keptAs }),
              onSnapshotFailed: (error) => logger.error('the read-model snapshot could not be written; the next change tries again', { error: error.message }),
              onSnapshotLoaded: ({ documents, ms }) => {
                logger.info('read models loaded from their snapshot', { documents, ms });
                // Reading a large snapshot leaves the heap as fragmented as a long replay does (see compactHeap).
                if (documents >= COMPACT_AFTER_LOADING) logger.info('heap compacted after loading the read models', { documents, ...compactHeap() });
              },
            },
      );
  // Personal values are sealed under their data subject's key on append and opened on every read (crypto-shredding);
  // the keys live beside the log embedded, in the shared store otherwise.
  const subjectKeys: SubjectKeys = embeddedEvents || embeddedReads
    ? new SqliteSubjectKeys(statePath, { sharesEventLog })
    : new CollectionSubjectKeys(readStore.collection(SUBJECT_KEYS));
  // Every event is checked against its schema before it is appended, and read in today's shape (upcast).
  const { eventStore, personalData } = domainLog(storedEvents, subjectKeys);
  // Kafka carries the events as the log holds them: personal values sealed.
  const sealedEvents: EventStore = new CodecEventStore(storedEvents, domainEventCodec);
  // Reservations name a unique value by its hash under a key of the service's own (configured, or kept with the subject keys).
  const reservationKey = await reservationKeyOf(config, subjectKeys, storedEvents).catch(async (error: unknown) => {
    await personalData.close();
    await readStore.close();
    unlock();
    throw error;
  });
  logger.info('adapters', {
    role,
    eventStore: embeddedEvents ? `sqlite (${inMemory ? 'memory' : config.CRM_DATA_DIR})` : 'eventstoredb',
    readStore: embeddedReads ? 'embedded' : `mongodb (aggregation ${(readStore as MongoReadStore).aggregation})`,
    bus: config.KAFKA_BROKERS ? 'kafka' : 'event log',
    mail: config.SMTP_URL ? `smtp ${new URL(config.SMTP_URL).hostname}` : inMemory ? 'memory' : 'outbox',
    sms: config.SMS_URL ? `gateway ${new URL(config.SMS_URL).host}` : inMemory ? 'memory' : 'outbox',
  });
  const integrationStore: ReadStore = !embeddedReads
    ? readStore
    : new SqliteBackedStore(statePath, config.CRM_DURABILITY, { sharesEventLog });
  if (integrationStore !== readStore) await moveIntegrationState(readStore, integrationStore, logger);
  const timerSpecs = options.timers ?? allTimers;
  const runner = new ProjectionRunner(eventStore, readStore, [...allProjections, timersProjection(timerSpecs)], logger.child({ component: 'projections' }), embeddedReads ? undefined : () => new EmbeddedReadStore());
  // A replay of the embedded log reads it in a thread of its own, beside the applying.
  if (storedEvents instanceof SqliteEventStore && !inMemory) {
    const fallback = runner.readLog;
    const eventsPath = join(config.CRM_DATA_DIR, 'events.sqlite');
    const onFallback = (reason: string) => logger.warn('a replay reads the log in its own thread instead of a reading thread', { reason });
    runner.readLog = threadedLogReader(eventsPath, fallback, { onFallback });
    runner.replayBeside = threadedReplay(eventsPath, fallback, APPLIED_BESIDE_READING, { onFallback });
  }
  const kafkaConnection = config.KAFKA_BROKERS ? kafkaSettings(config, config.KAFKA_BROKERS) : undefined;
  const kafka = kafkaConnection ? kafkaClient(kafkaConnection, logger) : undefined;
  const topics = { partitions: config.KAFKA_TOPIC_PARTITIONS, ...(config.KAFKA_REPLICATION_FACTOR ? { replicationFactor: config.KAFKA_REPLICATION_FACTOR } : {}) };
  const eventSource: EventSource = kafka
    ? new KafkaEventSource(kafka, topics, logger.child({ component: 'consumers' }))
    : new EventLogSource(eventStore, integrationStore, logger.child({ component: 'consumers' }));
  const startProjections = role === 'all' && (options.startProjections ?? true);
  const relayLogger = logger.child({ component: 'relay' });
  const relay =
    kafka && kafkaConnection && (startProjections || role === 'worker')
      ? new KafkaRelay(kafka, sealedEvents, integrationStore, relayLogger, {
          ...topics,
          // The relay publishes from a thread of its own (encoding and sending are most of what publishing costs).
          createProducer: () => new ThreadedProducer(kafkaConnection, relayLogger, () => kafka.producer(relayProducerConfig)),
        })
      : undefined;
  const deps: CommandDeps = { eventStore, clock, reservationKey };
  const notifications = new NotificationFeed(eventStore, logger.child({ component: 'notifications' }));
  const blobs: Blobs = !embeddedReads ? (readStore as MongoReadStore).blobs() : inMemory ? new MemoryBlobs() : new FileBlobs(join(config.CRM_DATA_DIR, 'blobs'));
  const mailer: Mailer = config.SMTP_URL
    ? new SmtpMailer(config.SMTP_URL, config.CRM_MAIL_FROM, config.CRM_MAIL_CONCURRENCY)
    : inMemory
      ? new MemoryMailer()
      : new OutboxMailer(join(config.CRM_DATA_DIR, 'outbox'), config.CRM_MAIL_FROM, () => clock.now());
  const sms: SmsSender = config.SMS_URL
    ? new HttpSmsGateway(config.SMS_URL, config.SMS_KEY_ID!, config.SMS_SECRET!, config.SMS_SIGN_NAME, () => clock.now())
    : inMemory
      ? new MemorySms(config.SMS_SIGN_NAME)
      : new FileSmsOutbox(join(config.CRM_DATA_DIR, 'sms-outbox'), config.SMS_SIGN_NAME, () => clock.now());
  const secret = jwtSecret(config, inMemory, logger);
  const keys = new ServerKeys(secret);
  const campaigns = new CampaignSender(
    { ...deps, mailer, sms, keys, publicUrl: config.CRM_PUBLIC_URL ?? `http://localhost:${config.PORT}`, mailFrom: config.CRM_MAIL_FROM },
    readStore,
    { ratePerSecond: config.CRM_MAIL_RATE_PER_S, concurrency: config.CRM_MAIL_CONCURRENCY },
    logger.child({ component: 'campaigns' }),
  );
  const links = { keys, publicUrl: config.CRM_PUBLIC_URL ?? `http://localhost:${config.PORT}` };
  const timers = new TimerWorker(timerSpecs, deps, readStore, logger.child({ component: 'timers' }), mailer, {
    sendCampaign: (campaignId) => void campaigns.send(campaignId),
    unsubscribeLink: (email, key) => automationUnsubscribeLink(links, email, key),
    ...(chain ? { chain } : {}),
    retention,
  });
  const ids = randomIds(clock);
  const running = new Set<Promise<unknown>>();
  const services: Services = {
    background(name, work) {
      const job = work()
        .catch((error: unknown) => logger.error('background job failed', { job: name, error }))
        .finally(() => running.delete(job));
      running.add(job);
    },
    backgroundOrWorker(name, work) {
      if (role === 'api') logger.debug('left to the leading worker', { job: name });
      else services.background(name, work);
    },
    role,
    leadership: { leading: role === 'all' && startProjections },
    config,
    logger,
    clock,
    eventStore,
    readStore,
    integrationStore,
    runner,
    asOf: new AsOfModels(runner, readStore, clock, logger.child({ component: 'as-of' }), { maxModels: config.CRM_ASOF_MAX_MODELS, ttlMs: AS_OF_TTL_MS }),
    eventSource,
    ...(kafka ? { kafka: { client: kafka, topics } } : {}),
    erp: new ErpBridgeStatus(() => clock.now(), integrationStore),
    ...(relay ? { relay } : {}),
    deps,
    mailer,
    ...(chain ? { chain } : {}),
    personalData,
    blobs,
    timers,
    notifications,
    tokens: new TokenService(secret, config.TOKEN_TTL_SECONDS),
    keys,
    sms,
    campaigns,
    limits: {
      credentials: new FixedWindowLimiter(config.CRM_LOGIN_RATE_PER_MINUTE, 60_000, () => clock.now().getTime()),
      requests: new FixedWindowLimiter(config.CRM_RATE_LIMIT_PER_MINUTE, 60_000, () => clock.now().getTime()),
      publicRequests: new FixedWindowLimiter(config.CRM_PUBLIC_RATE_LIMIT_PER_MINUTE, 60_000, () => clock.now().getTime()),
    },
    requestMeta(correlationId, seed, ifMatch) {
      return {
        correlationId,
        requestId: seed?.seed ?? ids.newId(),
        ids: seed ? seededIds(seed.seed, seed.timeMs) : ids,
        ...(ifMatch !== undefined ? { ifMatch } : {}),
      };
    },
    async close(options = {}) {
      // Each step timed: a stop that takes long says which part of the work it waited for.
      const tookMs: Record<string, number> = {};
      const began = Date.now();
      const step = async (name: string, work: () => Promise<unknown> | undefined) => {
        const started = Date.now();
        await work();
        tookMs[name] = Date.now() - started;
      };
      await step('campaigns', () => campaigns.stop());
      await step('running work', () => Promise.all(running));
      await step('timers', () => timers.stop());
      await step('notifications', () => notifications.stop());
      await step('relay', () => relay?.stop());
      await step('witness', () => witness?.stop());
      await step('projections', () => runner.stop());
      await step('reports as of', () => services.asOf.close());
      await step('ERP status', () => services.erp.flush().catch((error: unknown) => logger.warn('the ERP bridge status could not be written down', { error: (error as Error).message })));
      await step('before the stores close', () => options.beforeStoresClose?.());
      await readStore.close();
      if (integrationStore !== readStore) await integrationStore.close();
      await eventStore.close();
      await mailer.close();
      await sms.close();
      unlock();
      const totalMs = Date.now() - began;
      if (totalMs >= SLOW_CLOSE_MS) logger.warn('closing took long', { totalMs, tookMs });
      options.onClosed?.({ totalMs, tookMs });
    },
  };
  const follow = async (fence?: Fence) => {
    if (fence) {
      runner.fenceWith(fence);
      timers.fenceWith(fence);
      relay?.fenceWith(fence);
    }
    await runner.start();
    if (options.startTimers ?? true) timers.start();
    await relay?.start();
    await witness?.start();
  };
  if (role === 'api') {
    // Serves HTTP only: the read models are the workers', their progress read from the shared store.
    await notifications.start();
    await runner.observe();
  } else if (role === 'worker') {
    // A standby shows the leader's progress (readiness, metrics) until it leads itself.
    await runner.observe();
    services.lead = async (fence) => {
      await migrate(services, storedEvents);
      await follow(fence);
    };
  } else {
    await migrate(services, storedEvents);
    await notifications.start();
    if (startProjections) await follow();
  }
  return services;
}

/** What every start does before the log is followed: the first admin, and the migrations of data written by earlier versions. */
async function migrate(services: Services, storedEvents: EventStore): Promise<void> {
  const { deps, logger, chain, eventStore } = services;
  await bootstrapAdmin(services);
  if (await startActivitiesEra(deps, systemActor, services.requestMeta('migration'))) logger.info('activities are the follow-ups from now on: edits no longer keep a customer out of the pool');
  if (eventStore.expire && (await startRetention(deps, services.requestMeta('migration')))) logger.info('login attempts, idempotency keys and notifications expire after their retention periods (CRM_RETENTION_*_DAYS)');
  if (chain && (await startAuditAnchors(deps, services.requestMeta('migration')))) logger.info('the hash chain over the log is anchored daily (events AuditAnchored, topic crm.audit.anchor)');
  if (await startDailyDigest(deps, services.requestMeta('migration'))) logger.info('the daily digest to managers is scheduled (settings: /api/v1/settings/daily-digest)');
  const competitors = await migrateCompetitorNames(deps, storedEvents, systemActor, () => services.requestMeta('migration'), (name, reason) =>
    logger.warn('an old competitor name was not made a competitor record', { name, reason }),
  );
  if (competitors > 0) logger.info('made competitor records from the free-text competitors of older opportunities', { competitors });
}

/** The collections of integration state (relay and consumer checkpoints, the inbox). */
export const INTEGRATION_COLLECTIONS = ['_relay', '_consumers', '_inbox'] as const;

/**
 * Data written before integration state had a store of its own kept it in the read-model snapshot: the first
 * start of this version moves it over (once: only into an empty collection), so nothing is published or acted on
 * twice.
 */
async function moveIntegrationState(from: ReadStore, to: ReadStore, logger: Logger): Promise<void> {
  for (const name of INTEGRATION_COLLECTIONS) {
    const docs = await from.collection(name).find({});
    if (docs.length === 0 || (await to.collection(name).countDocuments({})) > 0) continue;
    for (const doc of docs) await to.collection(name).replaceOne({ _id: doc._id }, doc, { upsert: true });
    await from.collection(name).drop();
    logger.info('moved integration state out of the read-model snapshot', { collection: name, documents: docs.length });
  }
}

/**
 * On the first start against an empty store: the built-in role templates, and an `admin` employee with the
 * admin role and the password from CRM_ADMIN_PASSWORD (or a generated one, logged once).
 */
async function bootstrapAdmin(services: Services): Promise<void> {
  const roles = await ensureRoleTemplates(services.deps, systemActor, () => services.requestMeta('bootstrap'));
  if (await findEmployeeByUsername(services.deps, 'admin')) return;
  const generated = !services.config.CRM_ADMIN_PASSWORD;
  const password = services.config.CRM_ADMIN_PASSWORD ?? randomToken(12);
  await hireEmployee(
    services.deps,
    // Whoever set CRM_ADMIN_PASSWORD (or read the log) knows it: the admin must choose their own at the first login.
    { fields: { name: 'Administrator 管理员', departmentId: null }, roleIds: [roles.admin!], account: { username: 'admin', password, mustChangePassword: true } },
    systemActor,
    services.requestMeta('bootstrap'),
  );
  if (generated) services.logger.warn('created the admin user with a generated password; it is shown only this once', { username: 'admin', generatedPassword: password });
  else services.logger.info('created the admin user with the password from CRM_ADMIN_PASSWORD', { username: 'admin' });
}
