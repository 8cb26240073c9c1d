/**
 * One LISTEN connection per web process, fanned out to the event streams open in it by owner id.
 * Notifications carry only "<owner>:<event id>"; the hub reads the rows (in batches, in id order)
 * only for owners someone is listening to, so an idle process does no reads at all.
 */
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type postgres from 'postgres';
import { openPostgres, type DbOrTx } from '../db/client';
import { events, type EventRow } from '../db/schema';
import type { Logger } from '../logger';
import { EVENTS_CHANNEL, parseNotification } from './publish';

export interface EventSubscriber {
	onEvent(row: EventRow): void;
	/**
	 * The LISTEN connection was re-established after a drop: notifications in between are lost,
	 * so the subscriber replays from the table.
	 */
	onResync(): void;
	/** The process is shutting down: end the stream so the server can close its connection. */
	onEnd(): void;
}

export interface EventHub {
	/** Resolves once LISTEN is active: anything committed afterwards reaches the subscriber. */
	subscribe(ownerId: string, subscriber: EventSubscriber): Promise<() => void>;
	/** Open subscriptions (for tests and health: a closed stream must leave none behind). */
	subscriberCount(): number;
	/** Ends every open stream (on SIGTERM: an open stream would hold the HTTP server open). */
	endAll(): void;
	close(): Promise<void>;
}

const BATCH = 500;

export function createEventHub(url: string, db: DbOrTx, log: Logger): EventHub {
	const byOwner = new Map<string, Set<EventSubscriber>>();
	let listener: postgres.Sql | null = null;
	let listening: Promise<void> | null = null;
	let listens = 0;
	let closed = false;
	// Notified ids waiting to be read, with their owner; drained by one loop at a time.
	const pending: { ownerId: string; id: number }[] = [];
	let draining = false;

	function start(): Promise<void> {
		// A dedicated client: a LISTEN connection must never be handed out to queries.
		listener = openPostgres(url, { max: 1, onnotice: () => {}, idle_timeout: 0, connection: { application_name: 'pixsim7-events' } });
		return listener
			.listen(EVENTS_CHANNEL, onNotify, () => {
				listens++;
				if (listens > 1) {
					log.warn({ subscribers: count() }, 'events:relisten');
					for (const set of byOwner.values()) for (const s of set) s.onResync();
				}
			})
			.then(() => log.info('events:listening'));
	}

	function onNotify(payload: string): void {
		const mine = parseNotification(payload).filter((p) => byOwner.has(p.ownerId));
		if (mine.length === 0) return;
		pending.push(...mine);
		void drain();
	}

	async function drain(): Promise<void> {
		if (draining) return;
		draining = true;
		try {
			while (pending.length && !closed) {
				const batch = pending.splice(0, BATCH);
				const rows = await db
					.select()
					.from(events)
					.where(inArray(events.id, batch.map((b) => b.id)))
					.orderBy(asc(events.id));
				for (const row of rows) {
					for (const s of byOwner.get(row.ownerId) ?? []) {
						try {
							s.onEvent(row);
						} catch (err) {
							log.warn({ err, user_id: row.ownerId }, 'events:subscriber-error');
						}
					}
				}
			}
		} catch (err) {
			log.error({ err }, 'events:read-failed');
		} finally {
			draining = false;
		}
		if (pending.length && !closed) void drain();
	}

	function count(): number {
		let n = 0;
		for (const set of byOwner.values()) n += set.size;
		return n;
	}

	return {
		async subscribe(ownerId, subscriber) {
			if (closed) throw new Error('The event hub is closed');
			let set = byOwner.get(ownerId);
			if (!set) byOwner.set(ownerId, (set = new Set()));
			set.add(subscriber);
			const unsubscribe = () => {
				const current = byOwner.get(ownerId);
				if (!current) return;
				current.delete(subscriber);
				if (current.size === 0) byOwner.delete(ownerId);
			};
			try {
				listening ??= start().catch((err: unknown) => {
					listening = null;
					void listener?.end({ timeout: 1 });
					listener = null;
					throw err;
				});
				await listening;
			} catch (err) {
				unsubscribe();
				throw err;
			}
			return unsubscribe;
		},
		subscriberCount: count,
		endAll() {
			for (const set of [...byOwner.values()]) for (const s of [...set]) s.onEnd();
		},
		async close() {
			closed = true;
			byOwner.clear();
			await listener?.end({ timeout: 2 });
			listener = null;
		}
	};
}

/** The owner's events after `afterId`, oldest first, at most `limit`. */
export async function eventsAfter(db: DbOrTx, ownerId: string, afterId: number, limit = BATCH): Promise<EventRow[]> {
	return db
		.select()
		.from(events)
		.where(and(eq(events.ownerId, ownerId), gt(events.id, afterId)))
		.orderBy(asc(events.id))
		.limit(limit);
}
