/**
 * The one reader of process.env. Web, worker, start script and tests all parse the environment
 * here, so a variable has one name, one default and one meaning (listed in .env.example).
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
	z.coerce.number().int().min(min).max(max).default(fallback);

const GiB = 1024 ** 3;

const configSchema = z.object({
	NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
	/** External PostgreSQL. Unset: an embedded server is started under DATA_DIR. */
	DATABASE_URL: z
		.string()
		.regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
		.optional(),
	DATA_DIR: z.string().min(1).default('.data'),
	// Few connections serve best: PostgreSQL's own guidance is about two per core. On this 2-core
	// machine 4 connections served 30% more authenticated requests than 20 (npm run bench:auth).
	DB_POOL_MAX: int(Math.max(4, os.availableParallelism() * 2), 1, 200),
	LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

	SESSION_TTL_DAYS: int(30, 1, 365),
	LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: int(10, 1),
	LOGIN_MAX_ATTEMPTS_PER_IP: int(50, 1),
	LOGIN_WINDOW_SECONDS: int(900, 1),

	QUOTA_JOBS_PER_DAY: int(200),
	QUOTA_STORAGE_BYTES: int(10 * GiB),
	QUOTA_PROVIDER_ACCOUNTS: int(5),
	USAGE_RETENTION_DAYS: int(400, 1),

	PGBOSS_SCHEMA: z
		.string()
		.regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
		.default('pgboss'),
	/** Seconds the worker waits for running handlers on SIGTERM before it stops anyway. */
	WORKER_SHUTDOWN_SECONDS: int(20, 1, 600),
	/** Generation: first backoff after a transient provider failure (doubling each time). */
	GENERATION_RETRY_BASE_MS: int(2000, 10, 600_000),
	/** Generation: transient failures a job survives before it fails with error_class transient. */
	GENERATION_TRANSIENT_RETRIES: int(4, 0, 50),
	/** Generation: longest wait before a job that found no free account looks again. */
	GENERATION_WAIT_MAX_MS: int(30_000, 100, 600_000),

	/** Where media files live. Default: DATA_DIR/media. */
	FS_ROOT: z.string().min(1).optional(),
	MAX_UPLOAD_MB: int(2048, 1, 1024 * 1024),
	/** Thumbnail sizes (longest edge, pixels), comma-separated. */
	THUMB_SIZES: z
		.string()
		.regex(/^\d+(,\d+)*$/, 'must be comma-separated pixel sizes, e.g. 256,1024')
		.default('256,1024')
		.transform((v) => [...new Set(v.split(',').map(Number))].sort((a, b) => a - b)),
	/** Days an asset stays in the trash before it is purged. */
	TRASH_DAYS: int(30, 1, 3650),
	/** ffmpeg binary; default: the one inside @ffmpeg-installer/ffmpeg. */
	FFMPEG_PATH: z.string().min(1).optional(),

	/** The local renderer's folder (tasks, inputs, results). Default: DATA_DIR/local-provider. */
	LOCAL_PROVIDER_DIR: z.string().min(1).optional(),
	/** How long a local task reports "running" before it renders (3 s shows the live UI; tests use 0). */
	LOCAL_PROVIDER_DELAY_MS: int(3000, 0, 600_000),

	/** Pixverse platform API (v2); other regional hosts exist, and tests point it at a stand-in. */
	PIXVERSE_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://app-api.pixverse.ai/openapi/v2'),
	/** Longest wait for one Pixverse API answer. */
	PIXVERSE_TIMEOUT_MS: int(30_000, 100, 600_000),
	/** How often a running Pixverse task is polled. */
	PIXVERSE_POLL_MS: int(5000, 10, 600_000),

	/** Demo user's password on the embedded database; unset: a random one, printed once. */
	DEMO_PASSWORD: z.string().min(8).optional(),

	/**
	 * AES-256-GCM key for provider credentials at rest: base64 of 32 random bytes. Required in
	 * production (web and worker refuse to start without it: requireCredentialsKey in
	 * accounts/crypto.ts; not here, because the build imports this module with NODE_ENV=production);
	 * elsewhere, when unset, accounts/crypto.ts keeps one in DATA_DIR/credentials.key.
	 */
	CREDENTIALS_KEY: z
		.string()
		.regex(/^[A-Za-z0-9+/]{43}=$/, 'must be base64 of 32 bytes, e.g. the output of `openssl rand -base64 32`')
		.optional(),
	/** Account-class failures within the window that put an account in cooldown. */
	ACCOUNT_FAILURES_BEFORE_COOLDOWN: int(3, 1),
	ACCOUNT_FAILURE_WINDOW_SECONDS: int(60, 1),
	ACCOUNT_COOLDOWN_SECONDS: int(300, 1),
	/** Jobs the local renderer runs at once (its shared pseudo-account's concurrency slots). */
	LOCAL_PROVIDER_SLOTS: int(4, 1, 64)
});

export type Config = z.infer<typeof configSchema> & {
	/** DATA_DIR resolved against the working directory. */
	dataDir: string;
	migrationsDir: string;
	/** FS_ROOT resolved, defaulting to DATA_DIR/media. */
	mediaRoot: string;
	/** LOCAL_PROVIDER_DIR resolved, defaulting to DATA_DIR/local-provider. */
	localProviderDir: string;
};

export class ConfigError extends Error {
	override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
	// An empty variable in .env means "use the default", as people expect from shell files.
	const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
	const parsed = configSchema.safeParse(present);
	if (!parsed.success) {
		const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
		throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
	}
	return {
		...parsed.data,
		dataDir: path.resolve(parsed.data.DATA_DIR),
		migrationsDir: path.resolve('drizzle'),
		mediaRoot: path.resolve(parsed.data.FS_ROOT ?? path.join(parsed.data.DATA_DIR, 'media')),
		localProviderDir: path.resolve(parsed.data.LOCAL_PROVIDER_DIR ?? path.join(parsed.data.DATA_DIR, 'local-provider'))
	};
}

let cached: Config | undefined;

/** The process-wide configuration, parsed on first use. */
export function config(): Config {
	cached ??= loadConfig();
	return cached;
}
