/**
 * The account pool: which provider account runs a job, and the counters that keep accounts honest
 * (concurrency slots, credits, cooldown). Every counter changes in one conditional statement or
 * under the row lock taken by selection, so concurrent workers can never exceed
 * max_concurrent_jobs or spend credits below zero.
 *
 * Life of a reservation: reserveAccount takes a slot (and the estimated credits) and records both
 * on the job (jobs.account_id, holds_slot, credits_charged). releaseSlot gives the slot back exactly
 * once, whatever path the job leaves by. refundCredits gives the credits back when the provider
 * refunds or never accepted the job. Before reserving again for the same job (retry on another
 * account), the caller releases the slot, and refunds when the provider never took the job:
 * reserving overwrites jobs.credits_charged.
 *
 * Credits are per type ({"default": 120}); null means "not tracked" (the local renderer, or an
 * account whose balance nobody entered): such an account is eligible whatever the estimate, and
 * nothing is charged to it.
 */
import { and, eq, getTableColumns, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { preparedSql } from '../db/prepared';
import { jobs, providerAccounts, type ProviderAccount } from '../db/schema';
import { logger } from '../logger';
import { listProviders } from '../providers/registry';
import type { AccountContext, ProviderError } from '../providers/types';
import { Coalescer } from './coalescer';
import { CredentialsDecryptError, credentialsKey, decryptCredentials, encryptCredentials } from './crypto';

export interface CreditCost {
	creditType: string;
	amount: number;
}

export interface ReservedAccount {
	account: ProviderAccount;
	context: AccountContext;
}

/** The label of the shared pseudo-account each credential-less provider (local) runs under. */
export const BUILTIN_ACCOUNT_LABEL = 'Local renderer';

const LAST_ERROR_MAX = 500;

export class JobAlreadyHoldsSlotError extends Error {
	override name = 'JobAlreadyHoldsSlotError';
	constructor(jobId: string) {
		super(`Job ${jobId} is missing or already holds an account slot; release it before reserving again.`);
	}
}

/**
 * Picks the best eligible account for the job and takes one of its slots: the slot and the credits
 * are taken and recorded on the job (jobs.account_id, holds_slot, credits_charged) by one SQL
 * statement, reserveBatchStatement. Null means no account can take the job now (the caller
 * re-queues it with a wait_reason).
 *
 * Concurrent calls of one shape (same db handle, provider, owner, cost and excluded accounts) are
 * coalesced (coalescer.ts): a call made while a reservation of its shape is in flight waits for it
 * to finish, and then one statement reserves for every call that waited, at most
 * MAX_RESERVE_BATCH at a time. A lone call runs at once, as a batch of one. So 500 calls at once on
 * a worker's 4 connections are three statements, not 500 queueing for the connections
 * (npm run bench:accounts). Each caller still gets its own answer, from a statement that started
 * after its call, so null still means "nothing free now".
 *
 * The statement commits without waiting for its WAL flush (synchronous_commit off for it alone):
 * that wait was most of a reservation's latency. A crash can then lose only a reservation nothing
 * has used yet, and it loses it whole (slots, credits and the jobs' holds are one transaction): WAL
 * is written in order, so the first durable commit after it (the pipeline's submission row, before
 * anything is sent to the provider) makes the reservation durable too.
 */
export async function reserveAccount(
	db: Db,
	config: Config,
	job: { id: string; ownerId: string; providerId: string },
	cost: CreditCost | null,
	options: { excludeAccountIds?: string[] } = {}
): Promise<ReservedAccount | null> {
	const key = credentialsKey(config);
	// Postgres answers uuids in lower case; the batch finds each caller's answer by its id. Not a
	// uuid: no such job (and it must not make the whole batch's statement fail).
	const jobId = job.id.toLowerCase();
	if (!UUID.test(jobId)) throw new JobAlreadyHoldsSlotError(job.id);
	// Replaced, never changed in place: a batch this call started may still serve others with it.
	let exclude = [...(options.excludeAccountIds ?? [])];
	for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
		const shape: ReserveShape = { providerId: job.providerId, ownerId: job.ownerId, cost, exclude };
		const answer = await reservations(db).submit(shapeKey(shape), jobId, (jobIds) => reserveBatch(db, shape, jobIds));
		if (answer === 'job_holds_slot') throw new JobAlreadyHoldsSlotError(job.id);
		if (answer === null) return null;
		const account = accountFromRow(answer);
		try {
			const credentials = decryptCredentials(key, account.credentialsEncrypted);
			logger.debug({ job_id: job.id, account_id: account.id }, 'account:reserved');
			return { account, context: { id: account.id, credentials } };
		} catch (err) {
			if (!(err instanceof CredentialsDecryptError)) throw err;
			// A key change makes one account unusable, not every job: give back what was taken,
			// take it out of service and try the next one.
			await refundCredits(db, job.id);
			await releaseSlot(db, job.id);
			await disableUndecryptable(db, account.id);
			exclude = [...exclude, account.id];
		}
	}
	// Every account tried had undecryptable credentials: as good as none free.
	return null;
}

/** Attempts per reservation before answering "no account now"; each failed one disabled an account. */
const MAX_RESERVE_ATTEMPTS = 20;

/**
 * Jobs one reservation statement serves at most. Its time grows with its jobs (~10 µs each here:
 * ~2-3 ms for 256), and it holds the provider's eligible accounts locked meanwhile, so the cap
 * bounds both; any cap in the hundreds keeps a burst of 500 at three statements (the first call
 * alone, then two batches).
 */
const MAX_RESERVE_BATCH = 256;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ReserveShape {
	providerId: string;
	ownerId: string;
	cost: CreditCost | null;
	exclude: string[];
}

function shapeKey(shape: ReserveShape): string {
	return JSON.stringify([shape.providerId, shape.ownerId, shape.cost?.creditType ?? null, shape.cost?.amount ?? null, [...shape.exclude].sort()]);
}

/** A job's answer from a batch: the reserved account's row, null (none free now), or the job already holds a slot. */
type BatchAnswer = ReserveRow | null | 'job_holds_slot';

type ReserveRow = Record<string, unknown> & { job_id: string | null; job_free: boolean | null };

/** One coalescer per connection pool: a batch's statement runs on the pool its callers use. */
const coalescers = new WeakMap<Db, Coalescer<string, BatchAnswer>>();

function reservations(db: Db): Coalescer<string, BatchAnswer> {
	let coalescer = coalescers.get(db);
	if (!coalescer) {
		// A job twice in one batch would be assigned twice: its second call waits for the next batch
		// (and then finds the slot held, as it would have one after the other).
		coalescer = new Coalescer<string, BatchAnswer>({ maxBatch: MAX_RESERVE_BATCH, identity: (jobId) => jobId });
		coalescers.set(db, coalescer);
	}
	return coalescer;
}

async function reserveBatch(db: Db, shape: ReserveShape, jobIds: string[]): Promise<BatchAnswer[]> {
	const rows = await reserveBatchStatement(db, shape.cost !== null).execute({
		// uuid[] literals: one prepared statement whatever the number of jobs or excluded accounts.
		// Job ids were checked above; excluded ids come from our own rows. Neither needs quoting.
		jobIds: `{${jobIds.join(',')}}`,
		ownerId: shape.ownerId,
		providerId: shape.providerId,
		creditType: shape.cost?.creditType ?? null,
		amount: shape.cost?.amount ?? null,
		exclude: `{${shape.exclude.join(',')}}`
	});
	// Only jobs that got an account or cannot take one have a row; the others got nothing.
	const answers = new Map<string, BatchAnswer>();
	for (const row of rows) {
		if (row.job_id !== null) answers.set(row.job_id, row.job_free ? row : 'job_holds_slot');
	}
	return jobIds.map((id) => answers.get(id) ?? null);
}

/**
 * The reservation statement for a batch of jobs of one shape, prepared once per connection pool
 * (and per kind: with or without a credit cost). The inputs come in once, as the one-row `p`
 * (drizzle numbers each use of a value as its own parameter).
 *
 * Rules, the same for every job of the batch: an eligible account belongs to the provider, is
 * shared or the job owner's own, is active (or its cooldown has ended), has a free slot, enough
 * credits of the cost's type (or untracked ones: null credits, nothing charged) and is not
 * excluded. Preference: the owner's own accounts first, then priority, then the one idle longest,
 * then the one with the most credits left, then id.
 *
 * Assignment: the same as the batch's calls made one after another, in the order they were made.
 * Each call takes the preferred account and sets its last_used_at, which sends it behind the other
 * accounts of its preference group (same ownership and priority). So the calls go round-robin
 * over the group in its initial order, each account serving until its slots or credits run out,
 * and only then on to the next group: picks are numbered by (ownership, priority, round k, then
 * the initial order), the k-th pick of an account existing while it has k slots and k × cost
 * credits, and the n-th free job gets the n-th pick. One difference: the accounts a batch used
 * share one last_used_at (now()), so the next statement orders them by credits and id where
 * one-by-one calls would continue the rotation.
 *
 * Locking, so that no number of statements in any number of processes over-books or deadlocks:
 * `locked` locks the eligible accounts in id order (FOR NO KEY UPDATE: exclusive among the
 * statements that change an account's counters, but not against the KEY SHARE locks that inserting
 * a submission or an asset referencing the account takes until its commit; FOR UPDATE waited on
 * those, in a convoy, bench:jobs), waiting for any that another transaction holds;
 * a row changed meanwhile is re-read and re-checked, so the assignment is computed from the
 * accounts' latest versions, which nobody else can change before this statement commits. `queue`
 * reads the batch's jobs unlocked, to number the free ones; only the jobs that got a pick are
 * locked, in id order and after every account lock (`claimed`, gated on `locked`), and re-checked:
 * a job that took a slot meanwhile answers "already holds a slot" and its pick goes unused. Every
 * reservation locks accounts and then jobs, each in id order, so two never wait for each other in a
 * cycle (the single-job statement this replaced also locked its account before its job). `taken`
 * re-checks the room for all of an account's new jobs on the row it updates: it cannot fail while
 * the row is locked, and if it did those jobs would get null, never an over-booked slot.
 */
function reserveBatchStatement(db: Db, withCost: boolean) {
	return preparedSql<ReserveRow>(db, `reserve_accounts:${withCost ? 'cost' : 'free'}`, () => {
		const credits = sql.raw(`coalesce((a.credits ->> p.credit_type)::numeric, 0)`);
		const usable = sql`a.provider_id = p.provider_id
			and (a.owner_id is null or a.owner_id = p.owner_id)
			and (a.status = 'active' or (a.status = 'cooldown' and a.cooldown_until <= now()))
			and a.id <> all(p.exclude)`;
		// Room for `n` more jobs: a free slot and enough credits of the job's type (or untracked ones) for each.
		const room = (n: SQL) =>
			sql`a.current_jobs + ${n} <= a.max_concurrent_jobs ${withCost ? sql`and (a.credits is null or ${credits} >= ${n} * p.amount)` : sql``}`;
		// How many of this batch's jobs the account can take: its free slots, the jobs its credits
		// pay for (unbounded when untracked or free), and never more than the batch has.
		const capacity = withCost
			? sql`least(a.max_concurrent_jobs - a.current_jobs, cardinality(p.job_ids),
				case when a.credits is null or p.amount <= 0 then cardinality(p.job_ids) else floor(${credits} / p.amount) end)::int`
			: sql`least(a.max_concurrent_jobs - a.current_jobs, cardinality(p.job_ids))`;
		// Untracked (null) credits stay null: jsonb_set(null, ...) is null, and nothing is charged.
		const newCredits = withCost ? sql`jsonb_set(a.credits, array[p.credit_type], to_jsonb(${credits} - c.n * p.amount))` : sql`a.credits`;
		// Exhausted only when every credit type is used up: an account with video credits left but
		// no image credits still serves video jobs (selection checks the job's own type).
		const exhausted = withCost
			? sql`(${newCredits} is not null and ${newCredits} <> '{}'::jsonb
				and not exists (select 1 from jsonb_each_text(${newCredits}) e where e.value::numeric > 0))`
			: sql`false`;
		const charge = withCost ? sql`jsonb_build_object('type', p.credit_type, 'amount', p.amount)` : sql`null::jsonb`;
		return sql`
			with p as (
				select ${sql.placeholder('jobIds')}::uuid[] as job_ids, ${sql.placeholder('ownerId')}::uuid as owner_id,
					${sql.placeholder('providerId')}::text as provider_id, ${sql.placeholder('creditType')}::text as credit_type,
					${sql.placeholder('amount')}::numeric as amount, ${sql.placeholder('exclude')}::uuid[] as exclude
			), locked as (
				select a.id, a.owner_id, a.priority, a.last_used_at, ${withCost ? credits : sql`0`} as credits_left, ${capacity} as capacity
				from provider_accounts a, p
				where ${usable} and ${room(sql`1`)}
				order by a.id
				for no key update of a
			), queue as (
				select t.id as job_id, row_number() over (order by t.ord) as n
				from unnest((select job_ids from p)) with ordinality as t(id, ord)
				where exists (select 1 from jobs j where j.id = t.id and not j.holds_slot)
			), picks as (
				select l.id as account_id,
					row_number() over (order by l.owner_id is null, l.priority desc, k, l.last_used_at asc nulls first, l.credits_left desc, l.id) as n
				from locked l, generate_series(1, l.capacity) as k
			), assigned as (
				select q.job_id, k.account_id from queue q join picks k on k.n = q.n
			), claimed as (
				select j.id as job_id, s.account_id from jobs j join assigned s on s.job_id = j.id
				where not j.holds_slot and (select count(*) from locked) >= 0
				order by j.id
				for update of j
			), counts as (
				select account_id, count(*)::int as n from claimed group by account_id
			), taken as (
				update provider_accounts a set
					current_jobs = a.current_jobs + c.n,
					credits = ${newCredits},
					status = case when ${exhausted} then 'exhausted'::provider_account_status else 'active'::provider_account_status end,
					cooldown_until = null,
					last_used_at = now(),
					updated_at = now()
				from counts c, p
				where a.id = c.account_id and ${usable} and ${room(sql`c.n`)}
				returning a.*
			), held as (
				update jobs j set account_id = t.id, holds_slot = true, updated_at = now(),
					credits_charged = case when t.credits is null then null else ${charge} end
				from claimed c join taken t on t.id = c.account_id, p
				where j.id = c.job_id
				returning j.id
			)
			select r.*, cfg.async_commit
			from (select set_config('synchronous_commit', 'off', true) as async_commit) as cfg
			left join (
				-- A job missing or holding a slot (in the snapshot, or once its row was locked) is not
				-- free; a free one has a row only if it got an account.
				select u.id as job_id, q.job_id is not null and (s.job_id is null or c.job_id is not null) as job_free, t.*
				from unnest((select job_ids from p)) as u(id)
				left join queue q on q.job_id = u.id
				left join assigned s on s.job_id = u.id
				left join claimed c on c.job_id = u.id
				left join taken t on t.id = c.account_id
				where t.id is not null or q.job_id is null or (s.job_id is not null and c.job_id is null)
			) as r on true`;
	});
}

const accountColumns = Object.entries(getTableColumns(providerAccounts));

/** A raw provider_accounts row (snake_case, driver values) as drizzle would have returned it. */
function accountFromRow(row: Record<string, unknown>): ProviderAccount {
	const account: Record<string, unknown> = {};
	for (const [property, column] of accountColumns) {
		const value = row[column.name];
		account[property] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
	}
	return account as ProviderAccount;
}

async function disableUndecryptable(db: DbOrTx, accountId: string): Promise<void> {
	await db
		.update(providerAccounts)
		.set({
			status: 'disabled',
			lastError: 'Credentials cannot be decrypted (was CREDENTIALS_KEY changed?). Enter them again to re-enable.',
			updatedAt: sql`now()`
		})
		.where(eq(providerAccounts.id, accountId));
	logger.error({ account_id: accountId }, 'account:credentials_undecryptable');
}

/**
 * Frees the job's slot if it still holds one. The flag flip and the decrement are one statement
 * and the flip only happens once, so calling this on every exit path (and twice) is safe.
 */
export async function releaseSlot(db: DbOrTx, jobId: string): Promise<boolean> {
	const rows = await db.execute<{ released: number }>(sql`
		with released as (
			update jobs set holds_slot = false, updated_at = now()
			where id = ${jobId}::uuid and holds_slot
			returning account_id
		), freed as (
			update provider_accounts a set current_jobs = greatest(a.current_jobs - 1, 0), updated_at = now()
			from released r where a.id = r.account_id
			returning a.id
		)
		select (select count(*) from released)::int as released`);
	return rows[0].released > 0;
}

/** A generation finished on the account: counts it and folds its duration into the average. */
export async function recordSuccess(db: DbOrTx, accountId: string, generationSeconds: number): Promise<void> {
	await db
		.update(providerAccounts)
		.set({
			successCount: sql`${providerAccounts.successCount} + 1`,
			avgGenerationSec: sql`case when ${providerAccounts.avgGenerationSec} is null then ${generationSeconds}::float8
				else (${providerAccounts.avgGenerationSec} * ${providerAccounts.successCount} + ${generationSeconds}::float8)
					/ (${providerAccounts.successCount} + 1) end`,
			updatedAt: sql`now()`
		})
		.where(eq(providerAccounts.id, accountId));
}

/**
 * An account-class failure (auth, balance, concurrency). The provider saying the balance is gone
 * marks the account exhausted; otherwise ACCOUNT_FAILURES_BEFORE_COOLDOWN failures within
 * ACCOUNT_FAILURE_WINDOW_SECONDS cool it down for ACCOUNT_COOLDOWN_SECONDS. One statement: the
 * window arithmetic reads the row version it updates, so concurrent failures all count.
 * Answers the account's status afterwards (undefined if it no longer exists).
 */
export async function recordAccountFailure(
	db: DbOrTx,
	config: Pick<Config, 'ACCOUNT_FAILURES_BEFORE_COOLDOWN' | 'ACCOUNT_FAILURE_WINDOW_SECONDS' | 'ACCOUNT_COOLDOWN_SECONDS'>,
	accountId: string,
	err: ProviderError
): Promise<ProviderAccount['status'] | undefined> {
	const exhausted = err.details.exhausted === true;
	const inWindow = sql`(${providerAccounts.recentFailuresSince} is not null and ${providerAccounts.recentFailuresSince} > now() - make_interval(secs => ${config.ACCOUNT_FAILURE_WINDOW_SECONDS}::int))`;
	const failures = sql`(case when ${inWindow} then ${providerAccounts.recentFailures} + 1 else 1 end)`;
	const coolsDown = sql`(not ${exhausted}::boolean and ${providerAccounts.status} in ('active', 'cooldown')
		and ${failures} >= ${config.ACCOUNT_FAILURES_BEFORE_COOLDOWN}::int)`;
	const [row] = await db
		.update(providerAccounts)
		.set({
			failureCount: sql`${providerAccounts.failureCount} + 1`,
			lastError: err.message.slice(0, LAST_ERROR_MAX),
			// A disabled account stays disabled: an admin's decision outranks the provider's.
			status: sql`case when ${providerAccounts.status} = 'disabled' then 'disabled'::provider_account_status
				when ${exhausted}::boolean then 'exhausted'::provider_account_status
				when ${coolsDown} then 'cooldown'::provider_account_status
				else ${providerAccounts.status} end`,
			cooldownUntil: sql`case when ${coolsDown} then now() + make_interval(secs => ${config.ACCOUNT_COOLDOWN_SECONDS}::int)
				else ${providerAccounts.cooldownUntil} end`,
			// The count starts over after a cooldown, so one failure after it does not cool again.
			recentFailures: sql`case when ${coolsDown} then 0 else ${failures} end`,
			recentFailuresSince: sql`case when ${coolsDown} then null when ${inWindow} then ${providerAccounts.recentFailuresSince} else now() end`,
			updatedAt: sql`now()`
		})
		.where(eq(providerAccounts.id, accountId))
		.returning({ status: providerAccounts.status, cooldownUntil: providerAccounts.cooldownUntil });
	if (row && row.status !== 'active') {
		logger.warn(
			{ account_id: accountId, status: row.status, cooldown_until: row.cooldownUntil, provider_code: err.details.code },
			'account:unavailable'
		);
	}
	return row?.status;
}

/** A request-class failure (bad input, moderation): it counts against the success rate, nothing else. */
export async function recordRequestFailure(db: DbOrTx, accountId: string, message: string): Promise<void> {
	await db
		.update(providerAccounts)
		.set({
			failureCount: sql`${providerAccounts.failureCount} + 1`,
			lastError: message.slice(0, LAST_ERROR_MAX),
			updatedAt: sql`now()`
		})
		.where(eq(providerAccounts.id, accountId));
}

/**
 * Gives the job's charged credits back to its account, once: one statement that locks the job's
 * row, clears the charge and credits the account, so a second (or concurrent) call finds nothing
 * to refund. An account exhausted by our own count (every type at zero) becomes active again
 * when the refund gives it credits; one the provider declared exhausted stays so.
 */
export async function refundCredits(db: DbOrTx, jobId: string): Promise<void> {
	const rows = await db.execute<{ account_id: string | null; credit_type: string; amount: number }>(sql`
		with charged as (
			select id, account_id, credits_charged from jobs
			where id = ${jobId}::uuid and credits_charged is not null
			for update
		), cleared as (
			update jobs j set credits_charged = null, updated_at = now()
			from charged c where j.id = c.id
			returning c.account_id, c.credits_charged ->> 'type' as credit_type, (c.credits_charged ->> 'amount')::numeric as amount
		), credited as (
			update provider_accounts a set
				credits = jsonb_set(a.credits, array[c.credit_type], to_jsonb(coalesce((a.credits ->> c.credit_type)::numeric, 0) + c.amount)),
				status = case when a.status = 'exhausted'
						and not exists (select 1 from jsonb_each_text(a.credits) e where e.value::numeric > 0)
					then 'active'::provider_account_status else a.status end,
				updated_at = now()
			from cleared c
			where a.id = c.account_id and a.credits is not null and c.amount > 0
			returning a.id
		)
		select account_id, credit_type, amount::float8 as amount from cleared`);
	const refund = rows[0];
	if (refund?.account_id) {
		logger.info(
			{ job_id: jobId, account_id: refund.account_id, credit_type: refund.credit_type, amount: refund.amount },
			'account:credits_refunded'
		);
	}
}

/**
 * Crash repair: releases slots still held by jobs that have ended, then sets every account's
 * current_jobs to the number of jobs holding one of its slots. The account rows are locked before
 * counting, so a reservation or release in flight either finished before the count (and is
 * counted) or waits for it (and applies its own +1/-1 on top of the right number).
 */
export async function recountSlots(db: Db): Promise<{ released: number }> {
	return db.transaction(async (tx) => {
		const released = await tx
			.update(jobs)
			.set({ holdsSlot: false, updatedAt: sql`now()` })
			.where(and(eq(jobs.holdsSlot, true), sql`${jobs.status} not in ('queued', 'processing')`))
			.returning({ id: jobs.id, accountId: jobs.accountId });
		await tx.select({ id: providerAccounts.id }).from(providerAccounts).orderBy(providerAccounts.id).for('update');
		const repaired = await tx.execute<{ id: string; current_jobs: number }>(sql`
			update provider_accounts a set current_jobs = c.held, updated_at = now()
			from (
				select a2.id, (select count(*) from jobs j where j.account_id = a2.id and j.holds_slot)::int as held
				from provider_accounts a2
			) c
			where a.id = c.id and a.current_jobs <> c.held
			returning a.id, a.current_jobs`);
		for (const job of released) logger.warn({ job_id: job.id, account_id: job.accountId }, 'account:slot_released_by_recount');
		for (const account of repaired) {
			logger.warn({ account_id: account.id, current_jobs: account.current_jobs }, 'account:slots_recounted');
		}
		return { released: released.length };
	});
}

/**
 * Every registered provider that needs no credentials (local) runs under one shared
 * pseudo-account, so its jobs go through the same selection, slots and ledger as the others.
 * Idempotent and safe when web and worker start together (an advisory lock serialises them);
 * the slot count follows LOCAL_PROVIDER_SLOTS on every start.
 */
export async function ensureBuiltinAccounts(db: Db, config: Config): Promise<void> {
	const builtin = listProviders().filter((p) => !p.requiresCredentials);
	if (builtin.length === 0) return;
	const ids = builtin.map((p) => p.id);
	await db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(hashtext('pixsim7:builtin-accounts'))`);
		const existing = await tx
			.select({ id: providerAccounts.id, providerId: providerAccounts.providerId })
			.from(providerAccounts)
			.where(and(inArray(providerAccounts.providerId, ids), isNull(providerAccounts.ownerId)));
		const missing = ids.filter((id) => !existing.some((row) => row.providerId === id));
		if (missing.length) {
			const credentialsEncrypted = encryptCredentials(credentialsKey(config), {});
			await tx.insert(providerAccounts).values(
				missing.map((providerId) => ({
					providerId,
					label: BUILTIN_ACCOUNT_LABEL,
					ownerId: null,
					credentialsEncrypted,
					maxConcurrentJobs: config.LOCAL_PROVIDER_SLOTS
				}))
			);
			logger.info({ provider_ids: missing }, 'account:builtin_created');
		}
		if (existing.length) {
			await tx
				.update(providerAccounts)
				.set({ maxConcurrentJobs: config.LOCAL_PROVIDER_SLOTS, updatedAt: sql`now()` })
				.where(
					and(
						inArray(
							providerAccounts.id,
							existing.map((row) => row.id)
						),
						sql`${providerAccounts.maxConcurrentJobs} <> ${config.LOCAL_PROVIDER_SLOTS}::int`
					)
				);
		}
	});
}
