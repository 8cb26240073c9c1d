/**
 * Webhooks through the real worker process: a generation job's events reach a receiver in this
 * test, signed with the webhook's secret; the receiver's first answer is a 500, and that delivery
 * comes again (same delivery id) after pg-boss's backoff. The secret is in no log line.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltinAccounts } from '../../src/lib/server/accounts/pool';
import { webhooks, type User } from '../../src/lib/server/db/schema';
import { createJob } from '../../src/lib/server/jobs/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { createWebhook, queueTestPing } from '../../src/lib/server/webhooks/service';
import { testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { ended, startGenerationWorker, tempRoot, waitForJob, waitUntil, workerEnv } from '../support/generation';
import type { WorkerProcess } from '../support/worker-process';

interface Received {
	event: string;
	delivery: string;
	signatureValid: boolean;
	body: { id: string; type: string; created_at: string; data: Record<string, unknown> };
	answered: number;
}

let t: TestDatabase;
let root: string;
let worker: WorkerProcess;
let boss: PgBoss;
let owner: User;
let receiver: http.Server;
let receiverUrl: string;
let secret = '';
const received: Received[] = [];
const env = () => workerEnv({ databaseUrl: t.url, root, env: { LOCAL_PROVIDER_DELAY_MS: '300' } });

/** Stripe-style check: v1 = HMAC-SHA256(secret, "<t>.<body>"), compared in constant time. */
function verify(header: string | undefined, body: string): boolean {
	const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
	if (!parts.t || !parts.v1 || Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
	const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
	const given = Buffer.from(parts.v1, 'hex');
	return given.length === expected.length && timingSafeEqual(given, expected);
}

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('webhooks');
	receiver = http.createServer((req, res) => {
		let raw = '';
		req.on('data', (c) => (raw += c));
		req.on('end', () => {
			// The very first delivery fails, to be retried.
			const answered = received.length === 0 ? 500 : 200;
			received.push({
				event: String(req.headers['x-pixsim7-event']),
				delivery: String(req.headers['x-pixsim7-delivery']),
				signatureValid: req.headers['content-type'] === 'application/json' && verify(req.headers['x-pixsim7-signature'] as string | undefined, raw),
				body: JSON.parse(raw),
				answered
			});
			res.writeHead(answered).end(answered === 200 ? 'ok' : 'try later');
		});
	});
	await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
	receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks?token=abc`;

	await ensureBuiltinAccounts(t.db, testConfig(env()));
	owner = (await makeUser(t.db)).user;
	({ secret } = await createWebhook(t.db, testConfig(env()), owner.id, { url: receiverUrl }));
	worker = await startGenerationWorker({ databaseUrl: t.url, root, env: env() });
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
}, 90_000);

afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await new Promise((r) => receiver?.close(r));
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

describe('webhooks through the worker', () => {
	it("POSTs a job's events signed, retries the one answered 500, and records the last delivery", async () => {
		const { job } = await createJob(t.db, boss, testConfig(env()), owner, {
			operationType: 'text_to_video',
			providerId: 'local',
			params: { prompt: 'a webhook test', duration: 1, seed: 7 }
		});
		const done = await waitForJob(t.db, job.id, ended, worker, 60_000);
		expect(done.status).toBe('completed');

		const expected = ['job.created', 'job.queued', 'job.started', 'job.completed', 'asset.ready'];
		const succeeded = () => new Set(received.filter((r) => r.answered === 200).map((r) => r.event));
		await waitUntil(async () => expected.every((type) => succeeded().has(type)), `deliveries of ${expected.join(', ')}`, 60_000).catch((err: Error) => {
			throw new Error(`${err.message}: got ${JSON.stringify(received.map((r) => [r.event, r.answered]))}\n${worker.output().slice(-6000)}`);
		});

		expect(received.every((r) => r.signatureValid)).toBe(true);
		expect(received.map((r) => r.event)).not.toContain('job.progress');
		for (const r of received) {
			expect(r.body.type).toBe(r.event);
			expect(r.body.id).toMatch(/^\d+$/);
			expect(new Date(r.body.created_at).toISOString()).toBe(r.body.created_at);
		}
		const completed = received.find((r) => r.event === 'job.completed');
		expect(completed?.body.data).toMatchObject({ id: job.id, status: 'completed' });
		expect(received.find((r) => r.event === 'asset.ready')?.body.data).toMatchObject({ id: done.assetId, source_job_id: job.id });

		// The failed one came again, with the same delivery id and body; every other event once.
		const [first] = received;
		expect(first.answered).toBe(500);
		const again = received.filter((r) => r.delivery === first.delivery);
		expect(again.map((r) => r.answered)).toEqual([500, 200]);
		expect(again[1].body).toEqual(first.body);
		const perDelivery = new Map<string, number>();
		for (const r of received) perDelivery.set(r.delivery, (perDelivery.get(r.delivery) ?? 0) + 1);
		expect([...perDelivery.values()].filter((n) => n > 1)).toEqual([2]);
		expect(new Set(received.map((r) => r.body.id)).size).toBe(perDelivery.size);

		const [row] = await t.db.select().from(webhooks).where(eq(webhooks.ownerId, owner.id));
		expect(row).toMatchObject({ lastDeliveryStatus: 200, lastDeliveryError: null });
		expect(row.lastDeliveryAt).not.toBeNull();
		expect(worker.output()).toContain('"msg":"webhook:retrying"');
	}, 120_000);

	it('delivers a test ping, and never logs the secret, the signature or the URL', async () => {
		const { deliveryId } = await queueTestPing(t.db, boss, owner.id, (await t.db.select().from(webhooks))[0].id);
		await waitUntil(async () => received.some((r) => r.delivery === deliveryId), 'the ping', 30_000);
		const ping = received.find((r) => r.delivery === deliveryId);
		expect(ping).toMatchObject({ event: 'ping', signatureValid: true, answered: 200 });

		const log = worker.output() + worker.errors();
		expect(log).not.toContain(secret.slice(6));
		expect(log).not.toContain('token=abc');
		expect(log).not.toContain('v1=');
	}, 60_000);
});
