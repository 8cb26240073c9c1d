/**
 * Giving back a job's account slot, the one way every exit takes (the user's cancel, the worker's
 * failure, re-queue, completion and provider cancel): the slot is freed and handed on to the job
 * that has waited longest for one. It lives here, beside the submit queue, because both the user's
 * side (jobs/service.ts) and the worker's (generation/) release slots, and generation/ already
 * depends on jobs/, never the other way round.
 */
import { sql, eq } from 'drizzle-orm';
import { refundCredits, releaseSlot } from '../accounts/pool';
import type { DbOrTx } from '../db/client';
import { jobs } from '../db/schema';
import type { PgBoss } from '../queue/boss';
import { wakeWaitingSubmit } from './queueing';

/** Frees the job's slot, and hands it on to the job that has waited longest for one. */
export async function releaseAndWake(tx: DbOrTx, boss: PgBoss, jobId: string, accountId?: string | null): Promise<void> {
	if (!(await releaseSlot(tx, jobId))) return;
	const account = accountId === undefined ? (await tx.select({ a: jobs.accountId }).from(jobs).where(eq(jobs.id, jobId)))[0]?.a : accountId;
	await wakeNextWaiting(tx, boss, account ?? null, jobId);
}

/**
 * Gives back a reservation the provider never took: the slot (waking the next waiting job) and the
 * credits charged for it. Safe to call twice or from two racing paths: each half happens once.
 */
export async function returnReservation(tx: DbOrTx, boss: PgBoss, jobId: string): Promise<void> {
	await releaseAndWake(tx, boss, jobId);
	await refundCredits(tx, jobId);
}

/**
 * Wakes the queued job that has waited longest (by priority) among those the freed account could
 * run. Without this, a job that found every slot taken would sleep out its backoff (up to
 * GENERATION_WAIT_MAX_MS) while the slot sat idle. SKIP LOCKED: concurrent releases wake
 * different jobs. A woken job that loses the slot to a fresher one just waits again.
 */
async function wakeNextWaiting(tx: DbOrTx, boss: PgBoss, accountId: string | null, releasedJobId: string): Promise<void> {
	if (!accountId) return;
	// The woken job goes to the back (updated_at), so the next release wakes another one.
	const [next] = await tx.execute<{ id: string }>(sql`
		with next as (
			select j.id from jobs j, provider_accounts a
			where a.id = ${accountId}::uuid and j.status = 'queued' and j.provider_id = a.provider_id
			  and not j.holds_slot and j.wait_reason is not null and j.id <> ${releasedJobId}::uuid
			  and (a.owner_id is null or j.owner_id = a.owner_id)
			order by j.priority, j.updated_at
			limit 1
			for update of j skip locked
		)
		update jobs set updated_at = now() from next where jobs.id = next.id returning jobs.id`);
	if (next) await wakeWaitingSubmit(boss, next.id, { tx });
}

/**
 * releaseAndWake for many jobs in a few statements: every slot they still hold is freed (one
 * statement for all the jobs and their accounts), then each account with freed slots wakes as many
 * waiting jobs as it freed slots.
 */
export async function releaseManyAndWake(tx: DbOrTx, boss: PgBoss, jobIds: string[]): Promise<void> {
	if (jobIds.length === 0) return;
	const ids = `{${jobIds.join(',')}}`;
	const freed = await tx.execute<{ account_id: string; n: number }>(sql`
		with released as (
			update jobs set holds_slot = false, updated_at = now()
			where id = any(${ids}::uuid[]) and holds_slot
			returning account_id
		), counts as (
			select account_id, count(*)::int as n from released where account_id is not null group by account_id
		), locked as (
			-- Accounts locked in id order, as every reservation locks them: never a cycle.
			select a.id from provider_accounts a where a.id in (select account_id from counts) order by a.id for update
		), freed as (
			update provider_accounts a set current_jobs = greatest(a.current_jobs - c.n, 0), updated_at = now()
			from locked l join counts c on c.account_id = l.id where a.id = l.id
			returning a.id
		)
		select c.account_id, c.n from counts c join freed f on f.id = c.account_id order by c.account_id`);
	for (const { account_id, n } of freed) {
		const woken = await tx.execute<{ id: string }>(sql`
			with next as (
				select j.id from jobs j, provider_accounts a
				where a.id = ${account_id}::uuid and j.status = 'queued' and j.provider_id = a.provider_id
				  and not j.holds_slot and j.wait_reason is not null and j.id <> all(${ids}::uuid[])
				  and (a.owner_id is null or j.owner_id = a.owner_id)
				order by j.priority, j.updated_at
				limit ${n}
				for update of j skip locked
			)
			update jobs set updated_at = now() from next where jobs.id = next.id returning jobs.id`);
		for (const { id } of woken) await wakeWaitingSubmit(boss, id, { tx });
	}
}
