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

/** Events named by one notification at most: 100 pointers stay well under NOTIFY's 8000 bytes. */
const POINTERS_PER_NOTIFY = 100;

/**
 * The events' pointers, as one notification's payload says them: `owner:id` pairs separated by
 * spaces, in id order. Listeners read the rows, so the payload's size limit never matters.
 */
export function parseNotification(payload: string): { ownerId: string; id: number }[] {
	const pointers: { ownerId: string; id: number }[] = [];
	for (const pointer of payload.split(' ')) {
		const sep = pointer.lastIndexOf(':');
		const id = Number(pointer.slice(sep + 1));
		if (sep > 0 && Number.isSafeInteger(id)) pointers.push({ ownerId: pointer.slice(0, sep), id });
	}
	return pointers;
}

function insertEvents(db: DbOrTx) {
	// One notification per batch (per POINTERS_PER_NOTIFY events), not per event: each is delivered
	// to every listening process (the web processes' streams, the workers' webhook wake), and a
	// batch stage publishes up to 32 events at once.
	return preparedSql<{ id: string | number }>(db, 'publish_events', () => sql`
		with e as (
			insert into events (owner_id, type, job_id, asset_id, data)
			select v.owner_id, v.type, v.job_id, v.asset_id, v.data
			from rows from (jsonb_to_recordset(${sql.placeholder('rows')}::jsonb) as (owner_id uuid, type text, job_id uuid, asset_id uuid, data jsonb))
				with ordinality as v(owner_id, type, job_id, asset_id, data, n)
			order by v.n
			returning id, owner_id
		), notified as (
			select pg_notify(${EVENTS_CHANNEL}, string_agg(owner_id || ':' || id, ' ' order by id))
			from (select id, owner_id, (row_number() over (order by id) - 1) / ${sql.raw(String(POINTERS_PER_NOTIFY))} as chunk from e) as numbered
			group by chunk
		)
		select id from e where (select count(*) from notified) >= 0 order by id`);
}
