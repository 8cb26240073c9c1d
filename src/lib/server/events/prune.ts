import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';

/**
 * Drops events older than `olderThan` (the sweep keeps 7 days): a client away longer than that
 * reloads its lists instead of replaying. Returns how many went.
 */
export async function pruneEvents(db: DbOrTx, olderThan: Date): Promise<number> {
	const rows = await db.execute<{ n: number }>(sql`
		with gone as (delete from events where created_at < ${olderThan.toISOString()}::timestamptz returning 1)
		select count(*)::int as n from gone`);
	return rows[0].n;
}
