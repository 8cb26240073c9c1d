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
	await wakeNextWaiting(tx, boss, account ?? null, [jobId]);
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
 * Wakes the `count` queued jobs that have waited longest (by priority) among those the freed
 * account could run. Without this, a job that found every slot taken would sleep out its backoff
 * (up to GENERATION_WAIT_MAX_MS) while the slot sat idle. SKIP LOCKED: concurrent releases wake
 * different jobs. A woken job that loses the slot to a fresher one just waits again.
 */
async function wakeNextWaiting(tx: DbOrTx, boss: PgBoss, accountId: string | null, releasedJobIds: string[], count = 1): Promise<void> {
	if (!accountId) return;
	// The woken jobs go to the back (updated_at), so the next release wakes others.
	const woken = await tx.execute<{ id: string }>(sql`
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
	for (const { id } of woken) await wakeWaitingSubmit(boss, id, { tx });
}

/**
 * releaseAndWake for many jobs in a few statements, with the accounts' success counts when the
 * jobs' tasks finished: the jobs give up their slots (one statement), each account with freed
 * slots wakes as many waiting jobs as it freed, and LAST one statement moves every account's
 * counters. The account rows are what every reservation locks: taken last, they are held only
 * for that statement and the commit (bench:jobs measured reservations waiting 120 ms on average
 * behind releases that locked the accounts first and then woke jobs).
 */
export async function releaseManyAndWake(
	tx: DbOrTx,
	boss: PgBoss,
	jobIds: string[],
	successes: { accountId: string; generationSeconds: number }[] = []
): Promise<void> {
	if (jobIds.length === 0 && successes.length === 0) return;
	const released = jobIds.length
		? await tx.execute<{ account_id: string | null }>(sql`
			update jobs set holds_slot = false, updated_at = now()
			where id = any(${`{${jobIds.join(',')}}`}::uuid[]) and holds_slot
			returning account_id`)
		: [];
	const freed = new Map<string, number>();
	for (const { account_id } of released) if (account_id) freed.set(account_id, (freed.get(account_id) ?? 0) + 1);
	for (const [accountId, n] of [...freed].sort(([a], [b]) => a.localeCompare(b))) await wakeNextWaiting(tx, boss, accountId, jobIds, n);
	const counters = new Map<string, { freed: number; successes: number; seconds: number }>();
	for (const [accountId, n] of freed) counters.set(accountId, { freed: n, successes: 0, seconds: 0 });
	for (const s of successes) {
		const c = counters.get(s.accountId) ?? { freed: 0, successes: 0, seconds: 0 };
		c.successes += 1;
		c.seconds += s.generationSeconds;
		counters.set(s.accountId, c);
	}
	if (counters.size === 0) return;
	const rows = JSON.stringify([...counters].map(([account_id, c]) => ({ account_id, ...c })));
	await tx.execute(sql`
		with v as (
			select * from jsonb_to_recordset(${rows}::jsonb) as x(account_id uuid, freed int, successes int, seconds float8)
		), locked as (
			-- In id order, as every reservation locks accounts: never a cycle. NO KEY UPDATE: not
			-- against the KEY SHARE locks of rows being inserted that reference the account.
			select a.id from provider_accounts a where a.id in (select account_id from v) order by a.id for no key update
		)
		update provider_accounts a set
			current_jobs = greatest(a.current_jobs - v.freed, 0),
			success_count = a.success_count + v.successes,
			avg_generation_sec = case when v.successes = 0 then a.avg_generation_sec
				else (coalesce(a.avg_generation_sec, 0) * a.success_count + v.seconds) / (a.success_count + v.successes) end,
			updated_at = now()
		from locked l join v on v.account_id = l.id where a.id = l.id`);
}
