/**
 * The dispatcher: the events table is the outbox. Each pass reads the ids after the stored cursor
 * (any owner's: an index-only walk of the primary key), queues one `webhooks.deliver` per
 * (active webhook of the event's owner, event) and moves the cursor, all in one transaction with
 * the cursor row locked: two dispatchers take turns, and a crash after the commit leaves nothing
 * to send twice (the deliveries' singletonKey would refuse a second one anyway).
 *
 * Ids are taken at insert and rows appear at commit, so a higher id can be seen while a lower one
 * is still in flight. Such a missing id is kept in `gaps` and looked for on each pass until it
 * appears or is GAP_GRACE_MS old (its transaction rolled back, or a sequence jump after a crash).
 * publishEvent is untouched: the hot path pays nothing for webhooks.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import { events, webhookCursor, webhooks } from '../db/schema';
import { enqueue } from '../queue/boss';
import type { HandlerContext } from '../worker/handlers';
import { deliverySingletonKey, eventEnvelope } from './envelope';

const BATCH = 1000;
/** Passes per run; a longer backlog continues in the next run, queued at the end of this one. */
const MAX_PASSES = 20;
/** Longer than any transaction that publishes events lives, so only a rolled-back id is given up. */
export const GAP_GRACE_MS = 60_000;
const MAX_GAPS = 1000;
/**
 * Progress ticks are many per job and stale within seconds: they stay on the live stream
 * (GET /api/v1/events) and are not POSTed. Every other job and asset event is.
 */
export const UNDELIVERED_EVENT_TYPES = ['job.progress'];

type Gap = { id: number; since: string };

export interface DispatchResult {
	deliveries: number;
	passes: number;
	last_event_id: number;
	gaps: number;
}

export async function dispatchWebhookEvents(ctx: Pick<HandlerContext, 'db' | 'boss' | 'log'>): Promise<DispatchResult> {
	const result: DispatchResult = { deliveries: 0, passes: 0, last_event_id: 0, gaps: 0 };
	let more = true;
	while (more && result.passes < MAX_PASSES) {
		const pass = await ctx.db.transaction((tx) => dispatchPass(ctx, tx));
		result.passes++;
		result.deliveries += pass.deliveries;
		result.last_event_id = pass.lastEventId;
		result.gaps = pass.gaps;
		more = pass.more;
	}
	// A backlog left: the next run picks it up at once rather than at the next minute.
	if (more) await enqueue(ctx.boss, 'webhooks.dispatch', {});
	return result;
}

async function dispatchPass(ctx: Pick<HandlerContext, 'boss' | 'log'>, tx: Tx): Promise<{ deliveries: number; lastEventId: number; gaps: number; more: boolean }> {
	const cursor = await lockCursor(tx);
	const now = new Date();

	const [{ n: activeWebhooks }] = await tx.select({ n: sql<number>`count(*)::int` }).from(webhooks).where(eq(webhooks.active, true));
	if (activeWebhooks === 0) {
		// Nobody to send to: skip to the end, so a first webhook does not start with a backlog.
		const [{ max }] = await tx.select({ max: sql<number | null>`max(${events.id})` }).from(events);
		const lastEventId = Math.max(cursor.lastEventId, Number(max ?? 0));
		await tx.update(webhookCursor).set({ lastEventId, gaps: [], updatedAt: now }).where(eq(webhookCursor.id, 1));
		return { deliveries: 0, lastEventId, gaps: 0, more: false };
	}

	const ids = (
		await tx.select({ id: events.id }).from(events).where(gt(events.id, cursor.lastEventId)).orderBy(asc(events.id)).limit(BATCH)
	).map((r) => r.id);
	const waiting = cursor.gaps.map((g) => g.id);
	const arrived = waiting.length
		? new Set((await tx.select({ id: events.id }).from(events).where(inArray(events.id, waiting))).map((r) => r.id))
		: new Set<number>();
	const upTo = ids.length ? ids[ids.length - 1] : cursor.lastEventId;

	const gaps: Gap[] = [
		...cursor.gaps.filter((g) => !arrived.has(g.id) && now.getTime() - Date.parse(g.since) < GAP_GRACE_MS),
		...missingIds(cursor.lastEventId, ids).map((id) => ({ id, since: now.toISOString() }))
	];
	if (gaps.length > MAX_GAPS) {
		ctx.log.warn({ gaps: gaps.length, kept: MAX_GAPS }, 'webhooks:gaps-trimmed');
		gaps.splice(0, gaps.length - MAX_GAPS);
	}

	let deliveries = 0;
	if (ids.length || arrived.size) {
		const rows = await tx
			.select({ id: events.id, type: events.type, createdAt: events.createdAt, data: events.data, webhookId: webhooks.id })
			.from(events)
			// Only events from when the webhook exists: a new webhook does not receive the past.
			.innerJoin(webhooks, and(eq(webhooks.ownerId, events.ownerId), eq(webhooks.active, true), lte(webhooks.createdAt, events.createdAt)))
			.where(
				and(
					or(and(gt(events.id, cursor.lastEventId), lte(events.id, upTo)), arrived.size ? inArray(events.id, [...arrived]) : undefined),
					notInArray(events.type, UNDELIVERED_EVENT_TYPES)
				)
			)
			.orderBy(asc(events.id), asc(webhooks.id));
		for (const row of rows) {
			const event = eventEnvelope(row);
			await enqueue(
				ctx.boss,
				'webhooks.deliver',
				{ webhook_id: row.webhookId, delivery_id: randomUUID(), event },
				{ tx, singletonKey: deliverySingletonKey(row.webhookId, event.id) }
			);
			deliveries++;
		}
	}

	await tx.update(webhookCursor).set({ lastEventId: upTo, gaps, updatedAt: now }).where(eq(webhookCursor.id, 1));
	return { deliveries, lastEventId: upTo, gaps: gaps.length, more: ids.length === BATCH };
}

/**
 * The cursor row, locked for this transaction. Made on the first run at the newest event before
 * the first webhook was created: earlier events are not deliverable, and later ones are not lost
 * between a webhook's creation and the first run.
 */
async function lockCursor(tx: Tx): Promise<{ lastEventId: number; gaps: Gap[] }> {
	await tx.execute(sql`
		insert into webhook_cursor (id, last_event_id)
		values (1, coalesce((select max(id) from events where created_at < (select coalesce(min(created_at), now()) from webhooks)), 0))
		on conflict (id) do nothing`);
	const [row] = await tx.select().from(webhookCursor).where(eq(webhookCursor.id, 1)).for('update');
	return { lastEventId: row.lastEventId, gaps: row.gaps };
}

/** Ids after `after` that `ids` (ascending) skips; for a huge jump only the last MAX_GAPS. */
export function missingIds(after: number, ids: number[]): number[] {
	const missing: number[] = [];
	let expected = after + 1;
	for (const id of ids) {
		for (let m = Math.max(expected, id - MAX_GAPS); m < id; m++) missing.push(m);
		expected = id + 1;
	}
	return missing.length > MAX_GAPS ? missing.slice(-MAX_GAPS) : missing;
}
