/**
 * The generation pipeline with the Pixverse adapter against its stand-in (tests/support/
 * pixverse-standin.ts), through the real worker process: a success; other jobs still submitted
 * while the provider is slow to answer one; and what each error class does to a job: an exhausted
 * account (500090) fails over to the next account and is marked exhausted; moderation fails the
 * job at once with its credits refunded and no other account tried; a bad parameter fails at
 * once; a transient overload is retried and, when it persists, fails the job as transient after
 * the configured number of attempts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetLineage, assets, jobs, providerAccounts, providerSubmissions, type ProviderAccount, type User } from '../../src/lib/server/db/schema';
import { createJob } from '../../src/lib/server/jobs/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { createLocalStorage } from '../../src/lib/server/storage/local';
import { makeAccount, testConfig } from '../support/accounts';
import { makeReadyStoredAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { ended, jobOutcome, slotsHeld, startGenerationWorker, tempRoot, waitForJob, waitUntil, workerEnv } from '../support/generation';
import { startPixverseStandin, type PixverseStandin } from '../support/pixverse-standin';
import * as make from '../support/media';
import type { WorkerProcess } from '../support/worker-process';

const KEYS = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, `standin-key-${i}-0123456789abcdef`]));
const COST = 45; // 540p, 5 s (providers/pixverse/params.ts)

let t: TestDatabase;
let root: string;
let px: PixverseStandin;
let worker: WorkerProcess;
let boss: PgBoss;
let env: Record<string, string>;

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('gen-pixverse');
	px = await startPixverseStandin({ keys: KEYS, statuses: [5, 1] });
	env = workerEnv({
		databaseUrl: t.url,
		root,
		env: { PIXVERSE_BASE_URL: px.url, PIXVERSE_POLL_MS: '100', GENERATION_TRANSIENT_RETRIES: '2' }
	});
	worker = await startGenerationWorker({ databaseUrl: t.url, root, env });
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
}, 90_000);

afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await px?.stop();
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh user with private accounts on the given stand-in keys (first = highest priority). */
async function userWithAccounts(...keyLabels: string[]): Promise<{ user: User; accounts: ProviderAccount[] }> {
	const { user } = await makeUser(t.db);
	const accounts = [];
	for (const [i, label] of keyLabels.entries()) {
		accounts.push(
			await makeAccount(t.db, {
				ownerId: user.id,
				label,
				priority: 10 - i,
				credentials: { api_key: KEYS[label] },
				credits: { default: 100 },
				maxConcurrentJobs: 2
			})
		);
	}
	return { user, accounts };
}

const generate = (user: User, prompt: string) =>
	createJob(t.db, boss, testConfig(env), user, { operationType: 'text_to_video', providerId: 'pixverse', params: { prompt } }).then((r) => r.job);

const account = async (id: string) => (await t.db.select().from(providerAccounts).where(eq(providerAccounts.id, id)))[0];
const ledger = (jobId: string) =>
	t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, jobId)).orderBy(asc(providerSubmissions.retryAttempt));

describe('pixverse through the worker', () => {
	it('completes a job: the result is an asset with Pixverse ids, the credits are spent, the key is never in the ledger', async () => {
		const { user, accounts } = await userWithAccounts('k0');
		const job = await waitForJob(t.db, (await generate(user, 'a red fox in snow')).id, ended, worker);
		expect(job).toMatchObject({ status: 'completed', accountId: accounts[0].id });
		const [submission] = await ledger(job.id);
		const [asset] = await t.db.select().from(assets).where(eq(assets.sourceJobId, job.id));
		expect(asset).toMatchObject({ id: job.assetId, providerId: 'pixverse', providerAssetId: submission.providerTaskId, providerAccountId: accounts[0].id });
		expect(submission).toMatchObject({ status: 'succeeded', payload: expect.objectContaining({ prompt: 'a red fox in snow' }) });
		expect(JSON.stringify(await ledger(job.id))).not.toContain(KEYS.k0);
		expect(worker.output()).not.toContain(KEYS.k0);
		expect((await account(accounts[0].id)).credits).toEqual({ default: 100 - COST });
		expect(await jobOutcome(t.db, job.id)).toEqual({ assets: 1, completedEvents: 1 });
	}, 30_000);

	it('keeps submitting other jobs while the provider is slow to answer one submit', async () => {
		// A submit batch holds its worker lane until its slowest provider call returns: the worker
		// needs another lane free for everyone else's jobs (queue/jobs.ts, generation.submit).
		px.script({ prompt: /slow to answer/, delayMs: 10_000, times: 1 });
		const slowUser = await userWithAccounts('k2');
		const slow = await generate(slowUser.user, 'slow to answer');
		await waitUntil(async () => px.requestsTo('/video/text/generate').some((r) => JSON.stringify(r.body).includes('slow to answer')), 'the slow submit to reach Pixverse');

		const { user } = await userWithAccounts('k3');
		const other = await waitForJob(t.db, (await generate(user, 'an owl at dusk')).id, ended, worker, 8_000);
		expect(other.status).toBe('completed');
		expect((await ledger(slow.id)).map((s) => s.status)).toEqual(['submitting']);
		expect((await waitForJob(t.db, slow.id, ended, worker, 20_000)).status).toBe('completed');
	}, 40_000);

	it('fails over to the next account when the first has no balance (500090), and marks the first exhausted', async () => {
		const { user, accounts } = await userWithAccounts('k1', 'k2');
		px.script({ key: 'k1', path: '/video/text/generate', errCode: 500090, errMsg: 'insufficient balance' });
		const job = await waitForJob(t.db, (await generate(user, 'failover')).id, ended, worker);
		expect(job).toMatchObject({ status: 'completed', accountId: accounts[1].id });
		const [first, second] = await ledger(job.id);
		expect(first).toMatchObject({ accountId: accounts[0].id, status: 'failed', errorClass: 'account', providerTaskId: null });
		expect(second).toMatchObject({ accountId: accounts[1].id, status: 'succeeded', previousSubmissionId: first.id, retryAttempt: 1 });
		expect(await account(accounts[0].id)).toMatchObject({ status: 'exhausted', credits: { default: 100 } });
		expect((await account(accounts[1].id)).credits).toEqual({ default: 100 - COST });
		expect(await slotsHeld(t.db)).toEqual({ currentJobs: 0, holdingJobs: 0 });
	}, 30_000);

	it('fails a job at moderation at once: credits refunded, no other account tried', async () => {
		const { user, accounts } = await userWithAccounts('k3', 'k4');
		px.script({ prompt: /forbidden/, statuses: [5, 7] });
		const job = await waitForJob(t.db, (await generate(user, 'something forbidden')).id, ended, worker);
		expect(job).toMatchObject({ status: 'failed', errorClass: 'request', assetId: null });
		const rows = await ledger(job.id);
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ accountId: accounts[0].id, status: 'failed', errorClass: 'request' });
		expect(rows[0].providerTaskId).not.toBeNull();
		expect((await account(accounts[0].id)).credits).toEqual({ default: 100 });
		expect(await account(accounts[0].id)).toMatchObject({ status: 'active' });
		expect(await account(accounts[1].id)).toMatchObject({ credits: { default: 100 }, lastUsedAt: null });
		expect(await jobOutcome(t.db, job.id)).toEqual({ assets: 0, completedEvents: 0 });
	}, 30_000);

	it('fails a job the provider refuses as invalid (400017) at once, without trying another account', async () => {
		const { user, accounts } = await userWithAccounts('k5', 'k6');
		px.script({ key: 'k5', path: '/video/text/generate', errCode: 400017, errMsg: 'invalid parameter' });
		const job = await waitForJob(t.db, (await generate(user, 'bad parameter')).id, ended, worker);
		expect(job).toMatchObject({ status: 'failed', errorClass: 'request' });
		expect(await ledger(job.id)).toHaveLength(1);
		expect((await account(accounts[0].id)).credits).toEqual({ default: 100 });
		expect((await account(accounts[1].id)).lastUsedAt).toBeNull();
	}, 30_000);

	it('runs jobs beyond an account\'s slots one after another: the others wait, saying why, and never exceed the limit', async () => {
		const { user, accounts } = await userWithAccounts('k9');
		await t.db.update(providerAccounts).set({ maxConcurrentJobs: 1, credits: { default: 1000 } }).where(eq(providerAccounts.id, accounts[0].id));
		px.script({ key: 'k9', path: '/video/text/generate', statuses: [5, 5, 5, 1], times: 3 });
		const created = [];
		for (const i of [1, 2, 3]) created.push(await generate(user, `one slot ${i}`));
		let maxHeld = 0;
		const started = Date.now();
		const waitReasons = new Set<string>();
		for (;;) {
			const rows = await t.db.select().from(jobs).where(eq(jobs.ownerId, user.id));
			maxHeld = Math.max(maxHeld, (await account(accounts[0].id)).currentJobs, rows.filter((j) => j.holdsSlot).length);
			for (const j of rows) if (j.waitReason) waitReasons.add(j.waitReason);
			if (rows.every(ended)) break;
			if (Date.now() - started > 20_000) {
				const ids = rows.map((j) => j.id);
				const lines = worker.output().split('\n').filter((l) => ids.some((id) => l.includes(id)) || l.includes('"level":50'));
				throw new Error(`${JSON.stringify(rows.map((j) => [j.status, j.waitReason, j.holdsSlot, j.updatedAt]))}\n${lines.slice(-30).join('\n')}`);
			}
			await new Promise((r) => setTimeout(r, 20));
		}
		expect(maxHeld).toBe(1);
		expect([...waitReasons]).toContain('The account for Pixverse is busy');
		for (const job of created) expect((await waitForJob(t.db, job.id, ended)).status).toBe('completed');
		expect((await account(accounts[0].id)).currentJobs).toBe(0);
	}, 30_000);

	it('sends an input image once per account through the upload cache, and uploads it again when Pixverse forgot it (400032)', async () => {
		const { user, accounts } = await userWithAccounts('k0');
		await t.db.update(providerAccounts).set({ credits: { default: 1000 } }).where(eq(providerAccounts.id, accounts[0].id));
		const storage = createLocalStorage(path.join(root, 'media'));
		const image = await makeReadyStoredAsset(t.db, storage, user.id, await make.png(64, 64));
		const animate = async (prompt: string) =>
			(await createJob(t.db, boss, testConfig(env), user, { operationType: 'image_to_video', providerId: 'pixverse', params: { prompt, image_asset_id: image.id } })).job;
		const uploads = () => px.requestsTo('/image/upload').filter((r) => r.key === 'k0').length;
		const before = uploads();

		const first = await waitForJob(t.db, (await animate('first')).id, ended, worker);
		const second = await waitForJob(t.db, (await animate('second')).id, ended, worker);
		expect([first.status, second.status]).toEqual(['completed', 'completed']);
		expect(uploads() - before).toBe(1);

		px.forgetUploads('k0');
		const third = await waitForJob(t.db, (await animate('third')).id, ended, worker);
		expect(third.status).toBe('completed');
		expect(uploads() - before).toBe(2);
		expect((await ledger(third.id)).map((s) => [s.status, s.errorClass])).toEqual([
			['failed', 'request'],
			['succeeded', null]
		]);
		const lineage = await t.db.select().from(assetLineage).where(eq(assetLineage.childAssetId, third.assetId as string));
		expect(lineage.map((l) => [l.parentAssetId, l.relation])).toEqual([[image.id, 'source_image']]);
	}, 30_000);

	it('retries a transient overload (500069) and completes; a persistent one fails the job as transient', async () => {
		const { user } = await userWithAccounts('k7');
		px.script({ key: 'k7', path: '/video/text/generate', errCode: 500069, times: 1 });
		const retried = await waitForJob(t.db, (await generate(user, 'busy once')).id, ended, worker);
		expect(retried.status).toBe('completed');
		expect((await ledger(retried.id)).map((s) => [s.status, s.errorClass])).toEqual([
			['failed', 'transient'],
			['succeeded', null]
		]);

		const other = await userWithAccounts('k8');
		px.script({ key: 'k8', path: '/video/text/generate', errCode: 500069 });
		const failed = await waitForJob(t.db, (await generate(other.user, 'always busy')).id, ended, worker);
		expect(failed).toMatchObject({ status: 'failed', errorClass: 'transient', errorMessage: expect.stringMatching(/gave up after 3 attempts/) });
		expect(await ledger(failed.id)).toHaveLength(3);
		expect((await account(other.accounts[0].id)).credits).toEqual({ default: 100 });
		expect(await slotsHeld(t.db)).toEqual({ currentJobs: 0, holdingJobs: 0 });
	}, 30_000);
});
