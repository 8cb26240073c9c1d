/**
 * The event stream's parts on a real database: the hub's one LISTEN connection, a stream's resume
 * without gap or repeat while events keep arriving, no subscription left after the client goes,
 * pruning, and ingest announcing asset.ready / asset.failed in its own transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../src/lib/server/db/schema';
import { createEventHub, type EventHub } from '../../src/lib/server/events/hub';
import { pruneEvents } from '../../src/lib/server/events/prune';
import { EVENTS_CHANNEL, publishEvent, publishEvents } from '../../src/lib/server/events/publish';
import { openEventStream } from '../../src/lib/server/events/stream';
import { ingestAsset, type IngestContext } from '../../src/lib/server/ingest/service';
import { createLocalStorage } from '../../src/lib/server/storage/local';
import { makeStoredAsset } from '../support/assets';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import * as make from '../support/media';

const log = pino({ level: 'silent' });
let t: TestDatabase;
let hub: EventHub;

beforeAll(async () => {
	t = await createTestDatabase();
	hub = createEventHub(t.url, t.db, log);
});
afterAll(async () => {
	await hub?.close();
	await t?.destroy();
});

/** Reads SSE frames from a stream; `ids()` waits until `count` events arrived. */
function reader(stream: ReadableStream<Uint8Array>) {
	const frames: { id: number; type: string; data: Record<string, unknown> }[] = [];
	const r = stream.getReader();
	const decoder = new TextDecoder();
	let buffer = '';
	const pump = (async () => {
		for (;;) {
			const { value, done } = await r.read();
			if (done) return;
			buffer += decoder.decode(value, { stream: true });
			let cut: number;
			while ((cut = buffer.indexOf('\n\n')) >= 0) {
				const block = buffer.slice(0, cut);
				buffer = buffer.slice(cut + 2);
				const id = /^id: (\d+)$/m.exec(block)?.[1];
				if (!id) continue;
				frames.push({ id: Number(id), type: /^event: (.*)$/m.exec(block)![1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]) });
			}
		}
	})().catch(() => {});
	return {
		frames,
		async waitFor(count: number, timeoutMs = 5000) {
			const deadline = Date.now() + timeoutMs;
			while (frames.length < count) {
				if (Date.now() > deadline) throw new Error(`got ${frames.length} of ${count} events`);
				await new Promise((res) => setTimeout(res, 20));
			}
			return frames;
		},
		async cancel() {
			await r.cancel();
			await pump;
		}
	};
}

const publish = (ownerId: string, n: number) =>
	t.db.transaction((tx) => publishEvent(tx, { ownerId, type: 'job.progress', data: { n } }));

describe('event streams', () => {
	it('resumes after Last-Event-ID with every later event exactly once, while events keep arriving', async () => {
		const { user } = await makeUser(t.db);
		const before: number[] = [];
		for (let i = 0; i < 30; i++) before.push(await publish(user.id, i));
		const resumeAfter = before[9];

		// Publishing continues while the stream subscribes and replays.
		const publishing = (async () => {
			for (let i = 30; i < 80; i++) await publish(user.id, i);
		})();
		const stream = reader(openEventStream({ db: t.db, hub, ownerId: user.id, lastEventId: resumeAfter, log }));
		await publishing;
		const frames = await stream.waitFor(70);
		await new Promise((r) => setTimeout(r, 200));
		const ns = stream.frames.map((f) => f.data.n);
		expect(ns).toHaveLength(70);
		expect(new Set(ns).size).toBe(70);
		expect([...ns].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 70 }, (_, i) => i + 10));
		expect(frames.every((f) => f.id > resumeAfter)).toBe(true);
		await stream.cancel();
	});

	it('delivers only the owner’s events, and leaves no subscription behind when the reader cancels', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const base = hub.subscriberCount();
		const mine = reader(openEventStream({ db: t.db, hub, ownerId: user.id, lastEventId: null, log }));
		const theirs = reader(openEventStream({ db: t.db, hub, ownerId: other.id, lastEventId: null, log }));
		for (let i = 0; i < 100 && hub.subscriberCount() < base + 2; i++) await new Promise((r) => setTimeout(r, 10));
		expect(hub.subscriberCount()).toBe(base + 2);
		await publish(other.id, 1);
		await publish(user.id, 2);
		expect((await mine.waitFor(1)).map((f) => f.data.n)).toEqual([2]);
		expect((await theirs.waitFor(1)).map((f) => f.data.n)).toEqual([1]);
		await mine.cancel();
		await theirs.cancel();
		expect(hub.subscriberCount()).toBe(base);
		const listeners = await t.sql`select count(*)::int as n from pg_stat_activity where datname = ${t.name} and application_name = 'pixsim7-events'`;
		expect(listeners[0].n).toBe(1);
	});

	it('announces a batch in one notification per hundred events, and each owner’s stream still gets exactly its own', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const payloads: string[] = [];
		const listener = await t.sql.listen(EVENTS_CHANNEL, (payload) => payloads.push(payload));
		const mine = reader(openEventStream({ db: t.db, hub, ownerId: user.id, lastEventId: null, log }));
		const theirs = reader(openEventStream({ db: t.db, hub, ownerId: other.id, lastEventId: null, log }));
		const base = hub.subscriberCount();
		for (let i = 0; i < 100 && hub.subscriberCount() < base; i++) await new Promise((r) => setTimeout(r, 10));
		await new Promise((r) => setTimeout(r, 100));

		const batch = Array.from({ length: 150 }, (_, n) => ({ ownerId: n % 3 === 0 ? other.id : user.id, type: 'job.progress' as const, data: { n } }));
		await t.db.transaction((tx) => publishEvents(tx, batch));
		expect((await mine.waitFor(100)).map((f) => f.data.n)).toEqual(batch.map((e, n) => (e.ownerId === user.id ? n : -1)).filter((n) => n >= 0));
		expect((await theirs.waitFor(50)).map((f) => f.data.n)).toEqual(batch.map((e, n) => (e.ownerId === other.id ? n : -1)).filter((n) => n >= 0));
		for (let i = 0; i < 100 && payloads.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
		expect(payloads).toHaveLength(2);
		expect(payloads.map((p) => p.split(' ').length)).toEqual([100, 50]);
		await listener.unlisten();
		await mine.cancel();
		await theirs.cancel();
	});

	it('survives the LISTEN connection dropping: events published meanwhile are replayed, none twice', async () => {
		const { user } = await makeUser(t.db);
		const stream = reader(openEventStream({ db: t.db, hub, ownerId: user.id, lastEventId: null, log }));
		for (let i = 0; i < 100 && hub.subscriberCount() === 0; i++) await new Promise((r) => setTimeout(r, 10));
		await publish(user.id, 0);
		await stream.waitFor(1);
		await t.sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${t.name} and application_name = 'pixsim7-events'`;
		for (let i = 1; i <= 5; i++) await publish(user.id, i);
		const frames = await stream.waitFor(6, 10_000);
		await publish(user.id, 6);
		await stream.waitFor(7, 10_000);
		await new Promise((r) => setTimeout(r, 200));
		expect(frames.map((f) => f.data.n)).toEqual([0, 1, 2, 3, 4, 5, 6]);
		await stream.cancel();
	});

	it('sends heartbeat comments on the interval', async () => {
		const { user } = await makeUser(t.db);
		const stream = openEventStream({ db: t.db, hub, ownerId: user.id, lastEventId: null, log, heartbeatMs: 50 });
		const r = stream.getReader();
		const decoder = new TextDecoder();
		let text = '';
		const deadline = Date.now() + 3000;
		while ((text.match(/: heartbeat/g) ?? []).length < 2 && Date.now() < deadline) {
			const { value } = await r.read();
			if (value) text += decoder.decode(value, { stream: true });
		}
		expect((text.match(/: heartbeat/g) ?? []).length).toBeGreaterThanOrEqual(2);
		await r.cancel();
	});
});

describe('pruneEvents', () => {
	it('drops events older than the cutoff and keeps newer ones', async () => {
		const { user } = await makeUser(t.db);
		const old = await publish(user.id, 1);
		const fresh = await publish(user.id, 2);
		await t.db.update(events).set({ createdAt: new Date(Date.now() - 8 * 86400_000) }).where(eq(events.id, old));
		expect(await pruneEvents(t.db, new Date(Date.now() - 7 * 86400_000))).toBeGreaterThanOrEqual(1);
		const left = await t.db.select({ id: events.id }).from(events).where(eq(events.ownerId, user.id));
		expect(left.map((r) => r.id)).toEqual([fresh]);
	});
});

describe('asset events from ingest', () => {
	it('publishes asset.ready with a summary when an asset becomes ready, asset.failed with the reason when it fails', async () => {
		const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-events-'));
		try {
			const storage = createLocalStorage(root);
			const ctx: IngestContext = { db: t.db, storage, config: { THUMB_SIZES: [64], FFMPEG_PATH: process.env.FFMPEG_PATH }, log };
			const { user } = await makeUser(t.db);
			const good = await makeStoredAsset(t.db, storage, user.id, await make.png(40, 30));
			const bad = await makeStoredAsset(t.db, storage, user.id, make.textFile());
			await ingestAsset(ctx, good.id);
			await ingestAsset(ctx, bad.id);
			const rows = await t.db.select().from(events).where(eq(events.ownerId, user.id)).orderBy(events.id);
			expect(rows.map((r) => [r.type, r.assetId])).toEqual([
				['asset.ready', good.id],
				['asset.failed', bad.id]
			]);
			expect(rows[0].data).toMatchObject({ id: good.id, status: 'ready', media_type: 'image', width: 40, height: 30 });
			expect(rows[1].data).toMatchObject({ id: bad.id, status: 'failed', error_message: expect.stringMatching(/not a supported/) });
		} finally {
			fs.rmSync(root, { recursive: true, force: true });
		}
	});
});
