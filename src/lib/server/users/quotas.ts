/**
 * Quotas and usage counters. Every counter changes in one conditional SQL statement, so
 * concurrent requests can never spend past a limit.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { DbOrTx } from '../db/client';
import { dailyUsage, users, type DailyUsage, type User } from '../db/schema';
import { QuotaExceededError } from '../errors';
import { prepared } from '../db/prepared';

export interface Quotas {
	jobsPerDay: number;
	storageBytes: number;
	providerAccounts: number;
}

export type QuotaDefaults = Pick<Config, 'QUOTA_JOBS_PER_DAY' | 'QUOTA_STORAGE_BYTES' | 'QUOTA_PROVIDER_ACCOUNTS'>;

export function effectiveQuotas(user: User, defaults: QuotaDefaults): Quotas {
	return {
		jobsPerDay: user.quotaJobsPerDay ?? defaults.QUOTA_JOBS_PER_DAY,
		storageBytes: user.quotaStorageBytes ?? defaults.QUOTA_STORAGE_BYTES,
		providerAccounts: user.quotaProviderAccounts ?? defaults.QUOTA_PROVIDER_ACCOUNTS
	};
}

/** The UTC calendar day of an instant, as YYYY-MM-DD. */
export function utcDay(at: Date = new Date()): string {
	return at.toISOString().slice(0, 10);
}

export interface DayUsage {
	day: string;
	jobsCreated: number;
	assetsCreated: number;
	bytesAdded: number;
}

/** A day's usage from its row, or zeros when the user has no row for that day yet. */
export function dayUsageOf(row: DailyUsage | null | undefined, day: string): DayUsage {
	return row
		? { day: row.day, jobsCreated: row.jobsCreated, assetsCreated: row.assetsCreated, bytesAdded: row.bytesAdded }
		: { day, jobsCreated: 0, assetsCreated: 0, bytesAdded: 0 };
}

export async function usageForDay(db: DbOrTx, userId: string, day = utcDay()): Promise<DayUsage> {
	const forDay = prepared(db, 'usage_for_day', (name) =>
		db
			.select()
			.from(dailyUsage)
			.where(and(eq(dailyUsage.userId, sql.placeholder('userId')), eq(dailyUsage.day, sql.placeholder('day'))))
			.prepare(name)
	);
	const [row] = await forDay.execute({ userId, day });
	return dayUsageOf(row, day);
}

/**
 * Counts `count` jobs against today's limit. Returns false, and changes nothing, when that would
 * pass the limit. One INSERT ... ON CONFLICT DO UPDATE ... WHERE: concurrent callers serialise on
 * the row, and each sees the count the previous one left.
 */
export async function tryConsumeDailyJobs(
	db: DbOrTx,
	userId: string,
	count: number,
	limit: number,
	day = utcDay(),
	{ asyncCommit = false }: { asyncCommit?: boolean } = {}
): Promise<boolean> {
	const rows = await db.execute<{ jobs_created: number }>(sql`
		with cfg as (select case when ${asyncCommit} then set_config('synchronous_commit', 'off', true) end as async_commit)
		insert into daily_usage (user_id, day, jobs_created)
		select ${userId}::uuid, ${day}::date, ${count}::int from cfg where ${count}::int <= ${limit}::int
		on conflict (user_id, day) do update
			set jobs_created = daily_usage.jobs_created + excluded.jobs_created
			where daily_usage.jobs_created + excluded.jobs_created <= ${limit}::int
		returning jobs_created`);
	return rows.length > 0;
}

/**
 * Counts `count` jobs against today's limit, or throws 429 quota_exceeded. Answers the day counted,
 * for giveBackDailyJobs. Meant as a statement of its own, ahead of the create's transaction (pass
 * the Db): it commits without waiting for its WAL flush. Every create of a user passes through
 * this one row, which stays locked until the commit; waiting for the flush there serialised the
 * creates behind the disk (bench:jobs: 1.4-1.7 ms a statement on average, the machine a fifth
 * idle in slow runs; without the wait, 54-85 -> 94-116 jobs/s). Nothing is risked: WAL is written in order, so the create's own commit,
 * which does wait, makes the count durable too; a crash before it loses a count whose job was
 * never made.
 */
export async function consumeDailyJobs(db: DbOrTx, user: User, defaults: QuotaDefaults, count = 1): Promise<string> {
	const limit = effectiveQuotas(user, defaults).jobsPerDay;
	const day = utcDay();
	if (!(await tryConsumeDailyJobs(db, user.id, count, limit, day, { asyncCommit: true }))) {
		throw new QuotaExceededError(`Daily job quota of ${limit} reached. It resets at midnight UTC.`, 429, {
			quota: 'jobs_per_day',
			limit
		});
	}
	return day;
}

/** Undoes consumeDailyJobs for a create that then failed: the count goes back on the day it was taken from. */
export async function giveBackDailyJobs(db: DbOrTx, userId: string, count: number, day: string): Promise<void> {
	await db.execute(sql`
		update daily_usage set jobs_created = greatest(0, jobs_created - ${count}::int)
		where user_id = ${userId}::uuid and day = ${day}::date`);
}

/** Adds created assets and bytes to today's record (no limit: storage is limited separately). */
export async function recordAssetUsage(db: DbOrTx, userId: string, assets: number, bytes: number, day = utcDay()): Promise<void> {
	await db.execute(sql`
		insert into daily_usage (user_id, day, assets_created, bytes_added)
		values (${userId}::uuid, ${day}::date, ${assets}::int, ${bytes}::bigint)
		on conflict (user_id, day) do update
			set assets_created = daily_usage.assets_created + excluded.assets_created,
			    bytes_added = daily_usage.bytes_added + excluded.bytes_added`);
}

/** Reserves storage bytes if they fit the user's quota; false (and nothing changed) if not. */
export async function tryReserveStorage(db: DbOrTx, userId: string, bytes: number, limit: number): Promise<boolean> {
	const rows = await db
		.update(users)
		.set({ storageBytesUsed: sql`${users.storageBytesUsed} + ${bytes}` })
		.where(and(eq(users.id, userId), sql`${users.storageBytesUsed} + ${bytes} <= ${limit}`))
		.returning({ used: users.storageBytesUsed });
	return rows.length > 0;
}

export async function releaseStorage(db: DbOrTx, userId: string, bytes: number): Promise<void> {
	await db
		.update(users)
		.set({ storageBytesUsed: sql`greatest(0, ${users.storageBytesUsed} - ${bytes})` })
		.where(eq(users.id, userId));
}

/**
 * The midnight roll-over: opens today's (zero) usage row for every active user, so each day has
 * an explicit record, and drops records older than the retention period.
 */
export async function rolloverDailyUsage(
	db: DbOrTx,
	retentionDays: number,
	now = new Date()
): Promise<{ opened: number; pruned: number }> {
	const today = utcDay(now);
	const cutoff = utcDay(new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000));
	const opened = await db.execute(sql`
		insert into daily_usage (user_id, day)
		select id, ${today}::date from users where is_active
		on conflict (user_id, day) do nothing
		returning user_id`);
	const pruned = await db.delete(dailyUsage).where(lt(dailyUsage.day, cutoff)).returning({ userId: dailyUsage.userId });
	return { opened: opened.length, pruned: pruned.length };
}
