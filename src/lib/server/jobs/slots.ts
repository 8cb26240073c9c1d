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
import { wakeWaitingSubmits } from './queueing';

/** Frees the job's slot, and hands it on to the job that has waited longest for one. */
export async function releaseAndWake(tx: DbOrTx, boss: PgBoss, jobId: string, accountId?: string | null): Promise<void> {
	if (!(await releaseSlot(tx, jobId))) return;
	const account = accountId === undefined ? (await tx.select({ a: jobs.accountId }).from(jobs).where(eq(jobs.id, jobId)))[0]?.a : accountId;
	if (account) await wakeWaiting(tx, boss, new Map([[account, 1]]), [jobId]);
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
 * Wakes, for each account, as many queued jobs as it freed slots, those that have waited longest
 * (by priority) among the jobs it could run. Without this, a job that found every slot taken
 * would sleep out its backoff (up to GENERATION_WAIT_MAX_MS) while the slot sat idle. SKIP LOCKED:
 * concurrent releases wake different jobs. The woken go to the back (updated_at), so the next
 * account's wake, in this transaction or another, picks others. A woken job that loses the slot
 * to a fresher one just waits again. Their messages become due in one statement (wakeKeyedMany).
 */
export async function wakeWaiting(tx: DbOrTx, boss: PgBoss, freed: Map<string, number>, releasedJobIds: string[]): Promise<void> {
	const woken: string[] = [];
	for (const [accountId, count] of [...freed].sort(([a], [b]) => a.localeCompare(b))) {
		const rows = await tx.execute<{ id: string }>(sql`
			with next as (
				select j.id from jobs j, provider_accounts a
				where a.id = ${accountId}::uuid and j.status = 'queued' and j.provider_id = a.provider_id
				  and not j.holds_slot and j.wait_reason is not null and j.id <> all(${`{${releasedJobIds.join(',')}}`}::uuid[])
				  and (a.owner_id is null or j.owner_id = a.owner_id)
				order by j.priority, j.updated_at
				limit ${count}
				for update of j skip locked
			)
			update jobs set updated_at = now() from next where jobs.id = next.id returning jobs.id`);
		woken.push(...rows.map((r) => r.id));
	}
	await wakeWaitingSubmits(boss, woken, { tx });
}

/**
 * Frees many jobs' slots in ONE statement, best run alone (pass the Db): the jobs give up their
 * slots and their accounts' counters move, with the success counts of the jobs whose tasks
 * finished. Answers how many slots each account freed, for wakeWaiting. (The download stage runs
 * it inside its transaction, for jobs that normally hold no slot any more.) Why alone: the account rows are what every reservation locks, and it locks them
 * before the jobs it claims. Released at the end of a transaction that had first locked jobs (and
 * the jobs it woke), they were held through the commit's round trip, reservations queued behind
 * them, and a reservation claiming a job that release had woken deadlocked with it (bench:jobs: a
 * second's stall of the whole pool, twice a run). Alone, the accounts are locked for one statement
 * and nothing else is held meanwhile. Only jobs still holding a slot are released, and a success
 * is counted only with its release, so a redelivered poll counts nothing twice. `asyncCommit`
 * (alone, never inside a caller's transaction, which it would make asynchronous too): committed
 * without waiting for its WAL flush; lost in a crash, the slots are still held and the poll,
 * retried, releases them.
 */
export async function releaseSlots(
	db: DbOrTx,
	released: { jobId: string; generationSeconds?: number }[],
	{ asyncCommit = false }: { asyncCommit?: boolean } = {}
): Promise<Map<string, number>> {
	const freed = new Map<string, number>();
	if (released.length === 0) return freed;
	const rows = JSON.stringify(released.map((r) => ({ job_id: r.jobId, seconds: r.generationSeconds ?? null })));
	const counts = await db.execute<{ account_id: string; freed: number }>(sql`
		with v as (
			select * from jsonb_to_recordset(${rows}::jsonb) as x(job_id uuid, seconds float8)
		), released as (
			update jobs j set holds_slot = false, updated_at = now()
			from v where j.id = v.job_id and j.holds_slot
			returning j.account_id, v.seconds
		), counts as (
			select account_id, count(*)::int as freed, count(seconds)::int as successes, coalesce(sum(seconds), 0) as seconds
			from released where account_id is not null group by account_id
		), locked as (
			-- In id order, as every reservation locks accounts: never a cycle. NO KEY UPDATE: not
			-- against the KEY SHARE locks of rows being inserted that reference the account.
			select a.id from provider_accounts a where a.id in (select account_id from counts) order by a.id for no key update
		), moved as (
			update provider_accounts a set
				current_jobs = greatest(a.current_jobs - c.freed, 0),
				success_count = a.success_count + c.successes,
				avg_generation_sec = case when c.successes = 0 then a.avg_generation_sec
					else (coalesce(a.avg_generation_sec, 0) * a.success_count + c.seconds) / (a.success_count + c.successes) end,
				updated_at = now()
			from locked l join counts c on c.account_id = l.id where a.id = l.id
			returning a.id
		)
		select c.account_id, c.freed from counts c, (select case when ${asyncCommit} then set_config('synchronous_commit', 'off', true) end) as cfg
		where (select count(*) from moved) >= 0`);
	for (const c of counts) freed.set(c.account_id, c.freed);
	return freed;
}
