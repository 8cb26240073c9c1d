/**
 * Publishing a job or asset event: a row in `events` (so a client that reconnects with
 * Last-Event-ID gets what it missed) and a pg_notify in the same transaction, which PostgreSQL
 * delivers only on commit. Every process publishes the same way; every web process listens.
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { preparedSql } from '../db/prepared';

export const EVENTS_CHANNEL = 'pixsim7_events';

export type EventType =
	| 'job.created'
	| 'job.queued'
	| 'job.started'
	| 'job.progress'
	| 'job.completed'
	| 'job.failed'
	| 'job.cancelled'
	| 'asset.ready'
	| 'asset.failed';

export interface NewEvent {
	ownerId: string;
	type: EventType;
	jobId?: string | null;
	assetId?: string | null;
	data?: Record<string, unknown>;
}

export async function publishEvent(db: DbOrTx, event: NewEvent): Promise<number> {
	const [id] = await publishEvents(db, [event]);
	return id;
}

/**
 * Several events in ONE statement (the rows and their notifications), in order: the pipeline's
 * batch stages publish a whole batch's events at once. Prepared once per connection: the same
 * text serves any number of events (they travel as one JSON array).
 */
export async function publishEvents(db: DbOrTx, list: NewEvent[]): Promise<number[]> {
	if (list.length === 0) return [];
	const rows = list.map((e) => ({ owner_id: e.ownerId, type: e.type, job_id: e.jobId ?? null, asset_id: e.assetId ?? null, data: e.data ?? {} }));
	const inserted = await insertEvents(db).execute({ rows: JSON.stringify(rows) });
	return inserted.map((r) => Number(r.id));
}

function insertEvents(db: DbOrTx) {
	// The payload is only a pointer: listeners read the row, so payload size limits never matter.
	return preparedSql<{ id: string | number }>(db, 'publish_events', () => sql`
		with e as (
			insert into events (owner_id, type, job_id, asset_id, data)
			select v.owner_id, v.type, v.job_id, v.asset_id, v.data
			from rows from (jsonb_to_recordset(${sql.placeholder('rows')}::jsonb) as (owner_id uuid, type text, job_id uuid, asset_id uuid, data jsonb))
				with ordinality as v(owner_id, type, job_id, asset_id, data, n)
			order by v.n
			returning id, owner_id
		)
		select id, pg_notify(${EVENTS_CHANNEL}, owner_id || ':' || id) is null as notified from e order by id`);
}
