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
import { and, eq, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { preparedSql } from '../db/prepared';
import { jobs, providerAccounts, type ProviderAccount } from '../db/schema';
import { logger } from '../logger';
import { listProviders } from '../providers/registry';
import type { AccountContext, ProviderError } from '../providers/types';
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
 * Picks the best eligible account for the job and takes one of its slots, in one SQL statement:
 * select the account, lock its row, take the slot and the credits, and record both on the job.
 * A statement locks exactly one account row and then the job's row, so two reservations can
 * never wait for each other in a cycle, and one round trip keeps the lock held for microseconds.
 * - First, the best account no one else holds locked (FOR UPDATE SKIP LOCKED), so concurrent
 *   workers spread over the accounts instead of queueing on the best one. The same statement
 *   counts the eligible accounts in its snapshot: none at all answers null at once.
 * - If there were eligible accounts but all were locked for a moment, the best one is taken with
 *   an UPDATE that waits for its lock and re-checks the slot and credits on the row it finally
 *   gets; if someone else took the last slot first, the next attempt looks again.
 * Null means no account can take the job now (the caller re-queues it with a wait_reason).
 *
 * The statement commits without waiting for its WAL flush (synchronous_commit off for it alone):
 * that wait was most of a reservation's latency. A crash can then lose only a reservation nothing
 * has used yet, and it loses it whole (slot, credits and the job's hold are one transaction): WAL
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
	const exclude = [...(options.excludeAccountIds ?? [])];
	let skipLocked = true;
	for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
		const [row] = await reserveStatement(db, cost !== null, skipLocked).execute({
			jobId: job.id,
			ownerId: job.ownerId,
			providerId: job.providerId,
			creditType: cost?.creditType ?? null,
			amount: cost?.amount ?? null,
			// A uuid[] literal: one statement whatever the number of excluded accounts. Ids come from
			// our own rows (uuids), so they need no quoting.
			exclude: `{${exclude.join(',')}}`
		});
		if (row.job_holds_slot !== false) throw new JobAlreadyHoldsSlotError(job.id);
		if (row.id === null) {
			if (skipLocked && row.eligible > 0) {
				skipLocked = false;
				continue;
			}
			if (row.candidates === 0) return null;
			continue; // lost the race for that account's last slot: look again
		}
		const account = accountFromRow(row);
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
			exclude.push(account.id);
		}
	}
	// Lost the race for the last slot every time: as good as full.
	return null;
}

/** Attempts per reservation before answering "no account now"; each lost one means a slot was taken. */
const MAX_RESERVE_ATTEMPTS = 20;

type ReserveRow = Record<string, unknown> & {
	id: string | null;
	candidates: number;
	eligible: number;
	job_holds_slot: boolean | null;
};

/**
 * The reservation statement, prepared once per shape (with or without a credit cost, SKIP LOCKED
 * or waiting) and per connection pool. Built by drizzle and sent unprepared on every call, it took
 * ~0.35 ms of client CPU to build and ~1 ms of server time to parse and plan (500 selections at
 * once: 0.74 s on 4 connections, npm run bench:accounts). The inputs come in once, as the one-row
 * `p`: drizzle numbers each use of a value as its own parameter, which made 39 of them and a Bind
 * message too large for postgres.js to send two reservations in one write.
 * `eligible` is repeated in `taken` on purpose: an UPDATE re-checks its WHERE on the row version it
 * finally locks, so a slot or credits taken meanwhile are seen.
 */
function reserveStatement(db: Db, withCost: boolean, skipLocked: boolean) {
	return preparedSql<ReserveRow>(db, `reserve_account:${withCost ? 'cost' : 'free'}:${skipLocked ? 'skip' : 'wait'}`, () => {
		const credits = sql.raw(`coalesce((a.credits ->> p.credit_type)::numeric, 0)`);
		// Active, or in a cooldown that has already ended (nobody needs to wake it up); a free slot;
		// enough credits of the job's type, or untracked ones.
		const eligible = sql`a.provider_id = p.provider_id
			and (a.owner_id is null or a.owner_id = p.owner_id)
			and (a.status = 'active' or (a.status = 'cooldown' and a.cooldown_until <= now()))
			and a.current_jobs < a.max_concurrent_jobs
			${withCost ? sql`and (a.credits is null or ${credits} >= p.amount)` : sql``}
			and a.id <> all(p.exclude)`;
		// Untracked (null) credits stay null: jsonb_set(null, ...) is null, and nothing is charged.
		const newCredits = withCost ? sql`jsonb_set(a.credits, array[p.credit_type], to_jsonb(${credits} - p.amount))` : sql`a.credits`;
		// Exhausted only when every credit type is used up: an account with video credits left but
		// no image credits still serves video jobs (selection checks the job's own type).
		const exhausted = withCost
			? sql`(${newCredits} is not null and ${newCredits} <> '{}'::jsonb
				and not exists (select 1 from jsonb_each_text(${newCredits}) e where e.value::numeric > 0))`
			: sql`false`;
		const charge = withCost ? sql`jsonb_build_object('type', p.credit_type, 'amount', p.amount)` : sql`null::jsonb`;
		// The user's own accounts first (false sorts before true), then priority, then the one idle
		// longest, then the one with the most credits left.
		const preference = sql`a.owner_id is null, a.priority desc, a.last_used_at asc nulls first, ${withCost ? sql`${credits} desc,` : sql``} a.id asc`;
		return sql`
			with p as (
				select ${sql.placeholder('jobId')}::uuid as job_id, ${sql.placeholder('ownerId')}::uuid as owner_id,
					${sql.placeholder('providerId')}::text as provider_id, ${sql.placeholder('creditType')}::text as credit_type,
					${sql.placeholder('amount')}::numeric as amount, ${sql.placeholder('exclude')}::uuid[] as exclude
			), candidate as (
				select a.id from provider_accounts a, p
				where ${eligible} and exists (select 1 from jobs j where j.id = p.job_id and not j.holds_slot)
				order by ${preference}
				limit 1
				${skipLocked ? sql`for update of a skip locked` : sql``}
			), taken as (
				update provider_accounts a set
					current_jobs = a.current_jobs + 1,
					credits = ${newCredits},
					status = case when ${exhausted} then 'exhausted'::provider_account_status else 'active'::provider_account_status end,
					cooldown_until = null,
					last_used_at = now(),
					updated_at = now()
				from candidate c, p
				where a.id = c.id and ${eligible}
				returning a.*
			), held as (
				update jobs j set account_id = t.id, holds_slot = true, updated_at = now(),
					credits_charged = case when t.credits is null then null else ${charge} end
				from taken t, p
				where j.id = p.job_id
				returning j.id
			)
			select t.*,
				(select count(*) from candidate)::int as candidates,
				${skipLocked ? sql`(select count(*) from provider_accounts a, p where ${eligible})::int` : sql`0`} as eligible,
				(select j.holds_slot from jobs j, p where j.id = p.job_id) as job_holds_slot,
				set_config('synchronous_commit', 'off', true) as async_commit
			from (select 1) as one left join taken t on true`;
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
