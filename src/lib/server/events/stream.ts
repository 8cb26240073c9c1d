/**
 * A user's events as a Server-Sent Events stream. Order of operations gives "no gap, no
 * duplicate" on resume: subscribe first (live events are buffered), then replay the rows after
 * Last-Event-ID from the table, then flush the buffer, skipping what the replay already sent.
 */
import type { DbOrTx } from '../db/client';
import type { EventRow } from '../db/schema';
import type { Logger } from '../logger';
import { eventsAfter, type EventHub } from './hub';

export const HEARTBEAT_MS = 15_000;
const REPLAYED_IDS_KEPT = 10_000;

export function formatEvent(row: EventRow): string {
	// JSON has no raw newlines, so one data line is always enough.
	return `id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(row.data)}\n\n`;
}

export interface EventStreamOptions {
	db: DbOrTx;
	hub: EventHub;
	ownerId: string;
	/** Resume after this id (Last-Event-ID); null: live events only. */
	lastEventId: number | null;
	log: Logger;
	heartbeatMs?: number;
}

export function openEventStream({ db, hub, ownerId, lastEventId, log, heartbeatMs = HEARTBEAT_MS }: EventStreamOptions): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let unsubscribe: (() => void) | null = null;
	let heartbeat: ReturnType<typeof setInterval> | null = null;
	let closed = false;
	// Highest id sent; replays after a reconnect of the LISTEN connection start here.
	let lastSent = lastEventId ?? 0;
	// While replaying, live events wait here. The hub reads notified rows asynchronously, so an
	// event the replay sent may still arrive live after the buffer is flushed: replayed ids are
	// remembered for the stream's life (only the newest ones: the overlap is the replay's tail).
	let buffer: EventRow[] | null = [];
	let replayedIds = new Set<number>();

	function cleanup(): void {
		if (closed) return;
		closed = true;
		if (heartbeat) clearInterval(heartbeat);
		heartbeat = null;
		unsubscribe?.();
		unsubscribe = null;
		log.info({ user_id: ownerId, subscribers: hub.subscriberCount() }, 'events:stream-closed');
	}

	return new ReadableStream<Uint8Array>({
		async start(controller) {
			const write = (text: string) => {
				if (closed) return;
				try {
					controller.enqueue(encoder.encode(text));
				} catch {
					cleanup();
				}
			};
			const send = (row: EventRow) => {
				if (replayedIds.has(row.id)) return;
				write(formatEvent(row));
				if (row.id > lastSent) lastSent = row.id;
			};
			const replay = async (after: number) => {
				for (;;) {
					const rows = await eventsAfter(db, ownerId, after);
					for (const row of rows) {
						send(row);
						replayedIds.add(row.id);
					}
					if (rows.length === 0 || closed) return;
					after = rows[rows.length - 1].id;
				}
			};
			const catchUp = async (after: number | null) => {
				buffer ??= [];
				try {
					if (after !== null) await replay(after);
				} finally {
					const waiting = buffer ?? [];
					buffer = null;
					for (const row of waiting) send(row);
					if (replayedIds.size > REPLAYED_IDS_KEPT) {
						replayedIds = new Set([...replayedIds].sort((a, b) => a - b).slice(-REPLAYED_IDS_KEPT));
					}
				}
			};

			try {
				unsubscribe = await hub.subscribe(ownerId, {
					onEvent: (row) => (buffer ? buffer.push(row) : send(row)),
					onResync: () => void catchUp(lastSent).catch((err: unknown) => log.warn({ err, user_id: ownerId }, 'events:resync-failed')),
					onEnd: () => {
						cleanup();
						try {
							controller.close();
						} catch {
							// already closed by the client
						}
					}
				});
				if (closed) {
					unsubscribe();
					unsubscribe = null;
					return;
				}
				log.info({ user_id: ownerId, last_event_id: lastEventId, subscribers: hub.subscriberCount() }, 'events:stream-open');
				// Browsers reconnect after this many ms when the connection drops.
				write(`retry: 3000\n: connected\n\n`);
				await catchUp(lastEventId);
				heartbeat = setInterval(() => write(`: heartbeat\n\n`), heartbeatMs);
			} catch (err) {
				log.error({ err, user_id: ownerId }, 'events:stream-failed');
				cleanup();
				controller.error(err);
			}
		},
		cancel() {
			cleanup();
		}
	});
}
