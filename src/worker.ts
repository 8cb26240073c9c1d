/**
 * The companion worker process: `npm start` runs it beside the web server; in production run
 * `npm run worker` with the same DATABASE_URL. It must not import $env or $app (it runs outside
 * Vite); everything it needs comes from lib/server.
 */
export {};

// Set before the logger loads (hence the dynamic imports): every line says which process wrote it.
process.env.PIXSIM_PROCESS ??= 'worker';
const { existsSync } = await import('node:fs');
if (existsSync('.env')) process.loadEnvFile('.env');

const { config } = await import('./lib/server/config');
const { logger } = await import('./lib/server/logger');
const { connect } = await import('./lib/server/db/client');
const { migrateDatabase } = await import('./lib/server/db/migrate');
const { startWorker } = await import('./lib/server/worker/start');
const { createLocalStorage } = await import('./lib/server/storage/local');

const cfg = config();
if (!cfg.DATABASE_URL) {
	logger.fatal('DATABASE_URL is not set: start the worker with `npm start`, or give it the database URL');
	process.exit(1);
}
const { requireCredentialsKey } = await import('./lib/server/accounts/crypto');
try {
	requireCredentialsKey(cfg);
} catch (err) {
	logger.fatal((err as Error).message);
	process.exit(1);
}

await migrateDatabase(cfg.DATABASE_URL, cfg.migrationsDir);
const database = connect(cfg.DATABASE_URL, { max: cfg.DB_POOL_MAX });
// The local renderer's pseudo-account, so its jobs find a slot from the first one on.
const { ensureBuiltinAccounts } = await import('./lib/server/accounts/pool');
await ensureBuiltinAccounts(database.db, cfg);
const worker = await startWorker(cfg.DATABASE_URL, database.db, cfg, logger, createLocalStorage(cfg.mediaRoot));

let stopping = false;
async function shutdown(signal: string) {
	if (stopping) return;
	stopping = true;
	logger.info({ signal }, 'worker:stopping');
	try {
		await worker.stop();
		await database.close();
		logger.info('worker:stopped');
		process.exit(0);
	} catch (err) {
		logger.error({ err }, 'worker:stop-failed');
		process.exit(1);
	}
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
