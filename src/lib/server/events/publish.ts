/**
 * Publishing a job or asset event: a row in `events` (so a client that reconnects with
 * Last-Event-ID gets what it missed) and a pg_notify in the same transaction, which PostgreSQL
 * delivers only on commit. Every process publishes the same way; every web process listens.
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { events } from '../db/schema';

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
	const [row] = await db
		.insert(events)
		.values({ ownerId: event.ownerId, type: event.type, jobId: event.jobId ?? null, assetId: event.assetId ?? null, data: event.data ?? {} })
		.returning({ id: events.id });
	// The payload is only a pointer: listeners read the row, so payload size limits never matter.
	await db.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${`${event.ownerId}:${row.id}`})`);
	return row.id;
}
