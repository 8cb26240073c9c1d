/**
 * The web process's long-lived collaborators: the database pool, the pg-boss sender and the
 * sign-in limiter. Created once by the server's init hook; routes reach them through here.
 */
import { requireCredentialsKey } from './accounts/crypto';
import { ensureBuiltinAccounts } from './accounts/pool';
import { config } from './config';
import { connect, type Database, type Db } from './db/client';
import { migrateDatabase } from './db/migrate';
import { logger } from './logger';
import { resolveFfmpegPath } from './media';
import { createBoss, ensureQueues, logQueueErrors, type PgBoss } from './queue/boss';
import { LoginLimiter } from './auth/service';
import { createLocalStorage, type Storage } from './storage/local';
import { createTusUploads, type TusUploads } from './uploads/tus';
import { createEventHub, type EventHub } from './events/hub';

interface WebRuntime {
	database: Database;
	boss: PgBoss;
	loginLimiter: LoginLimiter;
}

let runtime: WebRuntime | undefined;

export async function startWebRuntime(): Promise<void> {
	if (runtime) return;
	const cfg = config();
	if (!cfg.DATABASE_URL) {
		throw new Error('DATABASE_URL is not set. Start PixSim7 with `npm start` (embedded database) or set DATABASE_URL.');
	}
	requireCredentialsKey(cfg);
	await migrateDatabase(cfg.DATABASE_URL, cfg.migrationsDir);
	const database = connect(cfg.DATABASE_URL, { max: cfg.DB_POOL_MAX });
	// The accounts page lists the local renderer's pseudo-account even before a worker has run.
	await ensureBuiltinAccounts(database.db, cfg);
	const boss = createBoss(cfg.DATABASE_URL, cfg.PGBOSS_SCHEMA, 'web');
	logQueueErrors(boss, logger);
	await boss.start();
	await ensureQueues(boss);
	runtime = { database, boss, loginLimiter: new LoginLimiter(cfg) };
	logger.info('web:ready');
}

function current(): WebRuntime {
	if (!runtime) throw new Error('The web runtime is not started');
	return runtime;
}

export const db = (): Db => current().database.db;
export const boss = (): PgBoss => current().boss;
export const loginLimiter = (): LoginLimiter => current().loginLimiter;

let mediaStorage: Storage | undefined;
/** Media files under FS_ROOT; made on first use (it opens nothing, so it needs no start-up). */
export const storage = (): Storage => (mediaStorage ??= createLocalStorage(config().mediaRoot));

export async function stopWebRuntime(): Promise<void> {
	if (!runtime) return;
	const { boss, database } = runtime;
	runtime = undefined;
	const events = hub;
	hub = undefined;
	await events?.close().catch(() => {});
	await boss.stop({ graceful: false, timeout: 5000 }).catch(() => {});
	await database.close();
}

/** What the upload paths need, gathered once per call. */
export const uploadDeps = () => ({ db: db(), boss: boss(), storage: storage(), config: config() });

/** The upload path's needs plus ffmpeg, for taking a video's frame as an image (assets/frames.ts). */
export const frameDeps = () => ({ ...uploadDeps(), ffmpegPath: resolveFfmpegPath(config().FFMPEG_PATH) });

let tus: TusUploads | undefined;
/** The tus server for resumable browser uploads; one per process (its locks are in memory). */
export const tusUploads = (): TusUploads => (tus ??= createTusUploads(uploadDeps));

let hub: EventHub | undefined;
/** The process's one LISTEN connection for the event streams; it connects on the first subscriber. */
export const eventHub = (): EventHub => (hub ??= createEventHub(config().DATABASE_URL ?? '', db(), logger));

/** Ends the open event streams, so a graceful shutdown is not held up by clients that never hang up. */
export function endEventStreams(): void {
	hub?.endAll();
}
