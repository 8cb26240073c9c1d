/**
 * Reading jobs: the owner's list, keyset-paginated on (created_at desc, id desc) like the gallery
 * (the order of jobs_owner_created_idx), and a queued job's place in the line.
 */
import { and, eq, ilike, or, sql, type SQL } from 'drizzle-orm';
import { decodeCursor, encodeCursor, escapeLike } from '../assets/queries';
import type { DbOrTx } from '../db/client';
import { jobs, type Job, type JobStatus, type OperationType } from '../db/schema';

export interface JobFilters {
	status?: JobStatus;
	workspaceId?: string;
	operationType?: OperationType;
	providerId?: string;
	q?: string;
	cursor?: string;
	limit: number;
}

export async function selectJobPage(db: DbOrTx, ownerId: string, filters: JobFilters): Promise<{ items: Job[]; nextCursor: string | null }> {
	const where: (SQL | undefined)[] = [
		eq(jobs.ownerId, ownerId),
		filters.status ? eq(jobs.status, filters.status) : undefined,
		filters.workspaceId ? eq(jobs.workspaceId, filters.workspaceId) : undefined,
		filters.operationType ? eq(jobs.operationType, filters.operationType) : undefined,
		filters.providerId ? eq(jobs.providerId, filters.providerId) : undefined,
		filters.q ? or(ilike(jobs.prompt, `%${escapeLike(filters.q)}%`), ilike(jobs.name, `%${escapeLike(filters.q)}%`)) : undefined
	];
	if (filters.cursor) {
		const c = decodeCursor(filters.cursor);
		where.push(sql`(${jobs.createdAt}, ${jobs.id}) < (${c.at}::timestamptz, ${c.id}::uuid)`);
	}
	const rows = await db
		.select({
			job: jobs,
			// Microseconds, so two jobs created within one millisecond are neither skipped nor repeated.
			at: sql<string>`to_char(${jobs.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
		})
		.from(jobs)
		.where(and(...where))
		.orderBy(sql`${jobs.createdAt} desc nulls last`, sql`${jobs.id} desc nulls last`)
		.limit(filters.limit + 1);
	const page = rows.slice(0, filters.limit);
	const last = page.at(-1);
	return {
		items: page.map((r) => r.job),
		nextCursor: rows.length > filters.limit && last ? encodeCursor({ at: last.at, id: last.job.id }) : null
	};
}

/**
 * 1-based place of a queued job among every user's queued jobs, in the order workers take them:
 * priority, then the time it joined the queue. Null when the job is not queued.
 */
export async function queuePosition(db: DbOrTx, jobId: string): Promise<number | null> {
	// Counts the jobs ahead along jobs_queue_line_idx (a range of one index).
	const rows = await db.execute<{ position: number }>(sql`
		select (select count(*)::int from jobs ahead
			where ahead.status = 'queued'
			  and (ahead.priority, coalesce(ahead.queued_at, ahead.created_at), ahead.id)
			    < (me.priority, coalesce(me.queued_at, me.created_at), me.id)) + 1 as position
		from jobs me where me.id = ${jobId} and me.status = 'queued'`);
	return rows[0]?.position ?? null;
}

/**
 * queuePosition for several jobs in one query (a list page); jobs not queued are left out. One
 * ordered pass over the queued jobs (in jobs_queue_line_idx order) numbers them all, instead of
 * one count per job.
 */
export async function queuePositions(db: DbOrTx, jobIds: string[]): Promise<Map<string, number>> {
	if (jobIds.length === 0) return new Map();
	const rows = await db.execute<{ id: string; position: number }>(sql`
		select id, position from (
			select id, (row_number() over (order by priority, coalesce(queued_at, created_at), id))::int as position
			from jobs where status = 'queued'
		) line
		where id = any(${`{${jobIds.join(',')}}`}::uuid[])`);
	return new Map(rows.map((r) => [r.id, r.position]));
}
