/**
 * The webhook dispatcher on a real PostgreSQL and pg-boss: it reads the events outbox after its
 * cursor and queues one delivery per (active webhook, event) of the webhook's owner, exactly once,
 * including an event whose transaction commits after a later one was read (a gap), and it gives a
 * rolled-back id up after the grace period.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookCursor, type User } from '../../src/lib/server/db/schema';
import { publishEvent, type NewEvent } from '../../src/lib/server/events/publish';
import { logger } from '../../src/lib/server/logger';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { dispatchWebhookEvents, GAP_GRACE_MS } from '../../src/lib/server/webhooks/dispatch';
import { createWebhook, updateWebhook } from '../../src/lib/server/webhooks/service';
import { testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let boss: PgBoss;
let alice: User;
let bob: User;
let hookA: string;
let hookOff: string;
const config = testConfig();
const dispatch = () => dispatchWebhookEvents({ db: t.db, boss, log: logger });
const publish = (event: NewEvent) => publishEvent(t.db, event);

/** Every delivery job queued so far, as (webhook, event id, type), by event id then webhook. */
async function deliveries(): Promise<{ webhook: string; event: string; type: string }[]> {
	const rows = await t.db.execute<{ data: { webhook_id: string; event: { id: string; type: string } } }>(
		sql`select data from pgboss.job where name = 'webhooks.deliver'`
	);
	return rows
		.map((r) => ({ webhook: r.data.webhook_id, event: r.data.event.id, type: r.data.event.type }))
		.sort((a, b) => Number(a.event) - Number(b.event) || a.webhook.localeCompare(b.webhook));
}

beforeAll(async () => {
	t = await createTestDatabase();
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	alice = (await makeUser(t.db)).user;
	bob = (await makeUser(t.db)).user;
	// An event from before any webhook is not delivered.
	await publish({ ownerId: alice.id, type: 'job.created', data: { n: 0 } });
	hookA = (await createWebhook(t.db, config, alice.id, { url: 'https://example.com/a' })).webhook.id;
	hookOff = (await createWebhook(t.db, config, alice.id, { url: 'https://example.com/off' })).webhook.id;
	await updateWebhook(t.db, alice.id, hookOff, { active: false });
});
afterAll(async () => {
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
});

describe('webhooks.dispatch', () => {
	it("queues one delivery per event of the webhook's owner to active webhooks only, skipping progress ticks and other users' events", async () => {
		const first = await publish({ ownerId: alice.id, type: 'job.created', data: { n: 1 } });
		await publish({ ownerId: bob.id, type: 'job.created', data: { n: 2 } });
		await publish({ ownerId: alice.id, type: 'job.progress', data: { n: 3 } });
		const done = await publish({ ownerId: alice.id, type: 'job.completed', data: { n: 4 } });

		const result = await dispatch();
		expect(result).toMatchObject({ deliveries: 2, gaps: 0, last_event_id: done });
		expect(await deliveries()).toEqual([
			{ webhook: hookA, event: String(first), type: 'job.created' },
			{ webhook: hookA, event: String(done), type: 'job.completed' }
		]);
		// A re-run finds nothing new.
		expect(await dispatch()).toMatchObject({ deliveries: 0 });
		expect(await deliveries()).toHaveLength(2);
	});

	it('delivers an event whose transaction committed after a later event was dispatched, once', async () => {
		let release!: () => void;
		const held = new Promise<void>((r) => (release = r));
		let lateId = 0;
		let published!: () => void;
		const inside = new Promise<void>((r) => (published = r));
		const slow = t.db.transaction(async (tx) => {
			lateId = await publishEvent(tx, { ownerId: alice.id, type: 'asset.ready', data: { late: true } });
			published();
			await held;
		});
		await inside;
		const after = await publish({ ownerId: alice.id, type: 'job.failed', data: {} });
		expect(after).toBeGreaterThan(lateId);

		expect(await dispatch()).toMatchObject({ deliveries: 1, gaps: 1, last_event_id: after });
		release();
		await slow;
		expect(await dispatch()).toMatchObject({ deliveries: 1, gaps: 0 });
		expect(await dispatch()).toMatchObject({ deliveries: 0, gaps: 0 });
		const mine = (await deliveries()).slice(2);
		expect(mine).toEqual([
			{ webhook: hookA, event: String(lateId), type: 'asset.ready' },
			{ webhook: hookA, event: String(after), type: 'job.failed' }
		]);
	});

	it('gives a rolled-back id up after the grace period', async () => {
		await t.db
			.transaction(async (tx) => {
				await publishEvent(tx, { ownerId: alice.id, type: 'job.queued', data: {} });
				throw new Error('roll back');
			})
			.catch(() => {});
		await publish({ ownerId: alice.id, type: 'job.started', data: {} });
		expect(await dispatch()).toMatchObject({ deliveries: 1, gaps: 1 });
		expect(await dispatch()).toMatchObject({ deliveries: 0, gaps: 1 });
		// As if the gap had waited out the grace period.
		const [cursor] = await t.db.select().from(webhookCursor);
		const old = new Date(Date.now() - GAP_GRACE_MS - 1000).toISOString();
		await t.db.update(webhookCursor).set({ gaps: cursor.gaps.map((g) => ({ ...g, since: old })) }).where(eq(webhookCursor.id, 1));
		expect(await dispatch()).toMatchObject({ deliveries: 0, gaps: 0 });
	});

	it('a webhook switched back on receives what happens from then on, not what it missed', async () => {
		await publish({ ownerId: alice.id, type: 'job.cancelled', data: { missed: true } });
		await dispatch();
		const before = (await deliveries()).length;
		await updateWebhook(t.db, alice.id, hookOff, { active: true });
		const next = await publish({ ownerId: alice.id, type: 'job.created', data: {} });
		expect(await dispatch()).toMatchObject({ deliveries: 2 });
		expect((await deliveries()).slice(before)).toEqual([
			{ webhook: hookA, event: String(next), type: 'job.created' },
			{ webhook: hookOff, event: String(next), type: 'job.created' }
		].sort((a, b) => a.webhook.localeCompare(b.webhook)));
	});
});
