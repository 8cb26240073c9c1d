import { sql } from 'drizzle-orm';
import {
	bigint,
	bigserial,
	boolean,
	check,
	doublePrecision,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	text,
	uniqueIndex,
	uuid,
	type AnyPgColumn
} from 'drizzle-orm/pg-core';
import { assets } from './assets';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';
import { workspaces } from './workspaces';

export const operationType = pgEnum('operation_type', [
	'text_to_video',
	'image_to_video',
	'video_extend',
	'video_transition',
	'fusion'
]);
export const accountStatus = pgEnum('provider_account_status', ['active', 'cooldown', 'exhausted', 'disabled']);
export const jobStatus = pgEnum('job_status', ['pending', 'queued', 'processing', 'completed', 'failed', 'cancelled']);
export const errorClass = pgEnum('error_class', ['request', 'account', 'transient', 'internal', 'cancelled', 'timeout']);
export const submissionStatus = pgEnum('submission_status', [
	'submitting',
	'submitted',
	'succeeded',
	'failed',
	'cancelled'
]);

/**
 * The account pool: one row per provider account. Shared when owner_id is null, else private to
 * that user. current_jobs and credits change only in single conditional UPDATEs or under the row
 * lock taken by selection, so concurrent workers can never overspend them.
 */
export const providerAccounts = pgTable(
	'provider_accounts',
	{
		id: id(),
		providerId: text('provider_id').notNull(),
		label: text('label').notNull(),
		ownerId: uuid('owner_id').references(() => users.id, { onDelete: 'cascade' }),
		// AES-256-GCM, "v1:<iv>:<tag>:<ciphertext>" (base64url); the key comes from config.
		credentialsEncrypted: text('credentials_encrypted').notNull(),
		priority: integer('priority').notNull().default(0),
		status: accountStatus('status').notNull().default('active'),
		// Remaining credits per credit type, e.g. {"default": 120}. Null: the provider bills
		// nothing we track (the local provider).
		credits: jsonb('credits').$type<Record<string, number>>(),
		maxConcurrentJobs: integer('max_concurrent_jobs').notNull().default(1),
		currentJobs: integer('current_jobs').notNull().default(0),
		cooldownUntil: timestamptz('cooldown_until'),
		// Account-class failures inside the current window, for "N failures in M seconds".
		recentFailures: integer('recent_failures').notNull().default(0),
		recentFailuresSince: timestamptz('recent_failures_since'),
		lastUsedAt: timestamptz('last_used_at'),
		successCount: integer('success_count').notNull().default(0),
		failureCount: integer('failure_count').notNull().default(0),
		avgGenerationSec: doublePrecision('avg_generation_sec'),
		lastError: text('last_error'),
		createdAt: createdAt(),
		updatedAt: timestamptz('updated_at').notNull().defaultNow()
	},
	(t) => [
		index('provider_accounts_provider_idx').on(t.providerId, t.status),
		index('provider_accounts_owner_idx').on(t.ownerId),
		check('provider_accounts_current_jobs_nonnegative', sql`${t.currentJobs} >= 0`),
		check('provider_accounts_max_concurrent_positive', sql`${t.maxConcurrentJobs} >= 1`)
	]
);

export type ProviderAccount = typeof providerAccounts.$inferSelect;
export type NewProviderAccount = typeof providerAccounts.$inferInsert;
export type AccountStatus = (typeof accountStatus.enumValues)[number];

/** A user's request for one generation. */
export const jobs = pgTable(
	'jobs',
	{
		id: id(),
		ownerId: uuid('owner_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'set null' }),
		name: text('name'),
		operationType: operationType('operation_type').notNull(),
		providerId: text('provider_id').notNull(),
		// As the user sent them (validated by the provider's schema); the prompt is copied out
		// for search.
		params: jsonb('params').$type<Record<string, unknown>>().notNull(),
		prompt: text('prompt'),
		status: jobStatus('status').notNull().default('pending'),
		// 0 is the highest priority, 10 the lowest.
		priority: integer('priority').notNull().default(5),
		scheduledAt: timestamptz('scheduled_at'),
		parentJobId: uuid('parent_job_id').references((): AnyPgColumn => jobs.id, { onDelete: 'set null' }),
		idempotencyKey: text('idempotency_key'),
		// sha256 of the canonical request body: same key + other body answers 409.
		requestHash: text('request_hash'),
		errorMessage: text('error_message'),
		errorClass: errorClass('error_class'),
		retryCount: integer('retry_count').notNull().default(0),
		// Why a queued job is not running yet (e.g. "no account with a free slot"), shown to the user.
		waitReason: text('wait_reason'),
		progress: doublePrecision('progress'),
		assetId: uuid('asset_id').references(() => assets.id, { onDelete: 'set null' }),
		// The account whose concurrency slot this job holds. holds_slot flips false exactly once per
		// reservation, and current_jobs is decremented in the same statement, so a slot is released
		// once on every path (and a sweep can recount from this column after a crash).
		accountId: uuid('account_id').references(() => providerAccounts.id, { onDelete: 'set null' }),
		holdsSlot: boolean('holds_slot').notNull().default(false),
		// Credits taken from the account for this job, refunded when the provider refunds.
		creditsCharged: jsonb('credits_charged').$type<{ type: string; amount: number }>(),
		createdAt: createdAt(),
		updatedAt: timestamptz('updated_at').notNull().defaultNow(),
		queuedAt: timestamptz('queued_at'),
		startedAt: timestamptz('started_at'),
		finishedAt: timestamptz('finished_at')
	},
	(t) => [
		index('jobs_owner_created_idx').on(t.ownerId, t.createdAt.desc(), t.id.desc()),
		index('jobs_status_priority_idx').on(t.status, t.priority, t.createdAt),
		// The queue's line as users see it (queue_position): priority, then time in the queue.
		index('jobs_queue_line_idx')
			.on(t.priority, sql`coalesce(${t.queuedAt}, ${t.createdAt})`, t.id)
			.where(sql`${t.status} = 'queued'`),
		index('jobs_parent_idx').on(t.parentJobId).where(sql`${t.parentJobId} is not null`),
		index('jobs_account_slot_idx').on(t.accountId).where(sql`${t.holdsSlot}`),
		uniqueIndex('jobs_owner_idempotency_key').on(t.ownerId, t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
		check('jobs_priority_range', sql`${t.priority} between 0 and 10`)
	]
);

export type Job = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;
export type JobStatus = (typeof jobStatus.enumValues)[number];
export type OperationType = (typeof operationType.enumValues)[number];
export type ErrorClass = (typeof errorClass.enumValues)[number];

/**
 * The submission ledger: every attempt to hand a job to a provider. provider_task_id is written
 * before anything waits on it, so a restarted worker resumes polling instead of submitting again.
 */
export const providerSubmissions = pgTable(
	'provider_submissions',
	{
		id: id(),
		jobId: uuid('job_id')
			.notNull()
			.references(() => jobs.id, { onDelete: 'cascade' }),
		providerId: text('provider_id').notNull(),
		accountId: uuid('account_id').references(() => providerAccounts.id, { onDelete: 'set null' }),
		// The exact mapped payload sent (credentials are never part of it).
		payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
		response: jsonb('response').$type<unknown>(),
		providerTaskId: text('provider_task_id'),
		retryAttempt: integer('retry_attempt').notNull().default(0),
		previousSubmissionId: uuid('previous_submission_id').references((): AnyPgColumn => providerSubmissions.id, {
			onDelete: 'set null'
		}),
		status: submissionStatus('status').notNull().default('submitting'),
		errorClass: errorClass('error_class'),
		errorMessage: text('error_message'),
		resultUrl: text('result_url'),
		// When polling gives up on this submission.
		deadlineAt: timestamptz('deadline_at'),
		submittedAt: timestamptz('submitted_at'),
		respondedAt: timestamptz('responded_at'),
		durationMs: integer('duration_ms'),
		createdAt: createdAt()
	},
	(t) => [
		uniqueIndex('provider_submissions_job_attempt_key').on(t.jobId, t.retryAttempt),
		index('provider_submissions_job_idx').on(t.jobId, t.createdAt)
	]
);

export type ProviderSubmission = typeof providerSubmissions.$inferSelect;
export type SubmissionStatus = (typeof submissionStatus.enumValues)[number];

/**
 * Job and asset events for the live UI and scripts. The id orders them, so an SSE client resumes
 * with Last-Event-ID; rows are written in the transaction that caused them and announced with
 * pg_notify on commit, so any process's events reach every web process.
 */
export const events = pgTable(
	'events',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		ownerId: uuid('owner_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		type: text('type').notNull(),
		jobId: uuid('job_id'),
		assetId: uuid('asset_id'),
		data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
		createdAt: createdAt()
	},
	(t) => [index('events_owner_id_idx').on(t.ownerId, t.id), index('events_created_idx').on(t.createdAt)]
);

export type EventRow = typeof events.$inferSelect;

/** A user's signed webhooks: job events POSTed with an HMAC-SHA256 signature, retried with backoff. */
export const webhooks = pgTable(
	'webhooks',
	{
		id: id(),
		ownerId: uuid('owner_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		url: text('url').notNull(),
		// Encrypted like provider credentials; shown once when created.
		secretEncrypted: text('secret_encrypted').notNull(),
		active: boolean('active').notNull().default(true),
		createdAt: createdAt(),
		updatedAt: timestamptz('updated_at').notNull().defaultNow(),
		// The last delivery attempt (events and pings alike), for the settings page and the API.
		lastDeliveryAt: timestamptz('last_delivery_at'),
		// The receiver's HTTP status; null when no answer came (timeout, refused connection).
		lastDeliveryStatus: integer('last_delivery_status'),
		// Null after a 2xx; else what went wrong, short ("HTTP 500", "timed out after 10 s").
		lastDeliveryError: text('last_delivery_error')
	},
	(t) => [index('webhooks_owner_idx').on(t.ownerId)]
);

export type Webhook = typeof webhooks.$inferSelect;

/**
 * The webhook dispatcher's place in the events table (the outbox): every event up to
 * last_event_id has been considered, except the ids in `gaps`. A gap is an id missing when a
 * higher one was read: its transaction may not have committed yet (ids are taken at insert, rows
 * become visible at commit), so it is looked for again until it appears or is GAP_GRACE old
 * (rolled back). One row, id = 1.
 */
export const webhookCursor = pgTable(
	'webhook_cursor',
	{
		id: integer('id').primaryKey().default(1),
		lastEventId: bigint('last_event_id', { mode: 'number' }).notNull(),
		gaps: jsonb('gaps').$type<{ id: number; since: string }[]>().notNull().default([]),
		updatedAt: timestamptz('updated_at').notNull().defaultNow()
	},
	(t) => [check('webhook_cursor_single_row', sql`${t.id} = 1`)]
);
