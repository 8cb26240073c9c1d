/**
 * Scheduling and chaining through the real worker with the local provider: a scheduled job stays
 * pending until its time and then runs; a child waits for its parent and renders from the
 * parent's result (parent_asset_as), as the worker completes the parent.
 */
import fs from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltinAccounts } from '../../src/lib/server/accounts/pool';
import { assetLineage, jobs, type User } from '../../src/lib/server/db/schema';
import { createJob } from '../../src/lib/server/jobs/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { ended, startGenerationWorker, tempRoot, waitForJob, workerEnv } from '../support/generation';
import type { WorkerProcess } from '../support/worker-process';

let t: TestDatabase;
let root: string;
let worker: WorkerProcess;
let boss: PgBoss;
let owner: User;
const env = () => workerEnv({ databaseUrl: t.url, root, env: { LOCAL_PROVIDER_DELAY_MS: '0' } });
const config = () => testConfig(env());

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('jobs-chaining');
	await ensureBuiltinAccounts(t.db, config());
	worker = await startGenerationWorker({ databaseUrl: t.url, root, env: env() });
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	owner = (await makeUser(t.db)).user;
}, 90_000);

afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

const status = async (id: string) => (await t.db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, id)))[0].status;

describe('scheduled and chained jobs through the worker', () => {
	it('keeps a scheduled job pending until its time, then runs it', async () => {
		const at = new Date(Date.now() + 3000);
		const { job } = await createJob(t.db, boss, config(), owner, {
			operationType: 'text_to_video',
			providerId: 'local',
			params: { prompt: 'later', duration: 1 },
			scheduledAt: at
		});
		await new Promise((r) => setTimeout(r, 1500));
		expect(await status(job.id)).toBe('pending');
		const done = await waitForJob(t.db, job.id, ended, worker, 60_000);
		expect(done.status, done.errorMessage ?? '').toBe('completed');
		expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime() - 50);
	}, 90_000);

	it('runs a child after its parent, from the parent’s result, with lineage to it', async () => {
		const { job: parent } = await createJob(t.db, boss, config(), owner, {
			operationType: 'text_to_video',
			providerId: 'local',
			params: { prompt: 'a parent clip', duration: 1 }
		});
		const { job: child } = await createJob(t.db, boss, config(), owner, {
			operationType: 'video_extend',
			providerId: 'local',
			parentJobId: parent.id,
			params: { parent_asset_as: 'video_asset_id', duration: 1 }
		});
		expect(child.status).toBe('pending');
		const finishedParent = await waitForJob(t.db, parent.id, ended, worker, 60_000);
		expect(finishedParent.status, finishedParent.errorMessage ?? '').toBe('completed');
		const finishedChild = await waitForJob(t.db, child.id, ended, worker, 60_000);
		expect(finishedChild.status, finishedChild.errorMessage ?? '').toBe('completed');
		expect(finishedChild.params).toMatchObject({ video_asset_id: finishedParent.assetId });
		expect(finishedChild.startedAt!.getTime()).toBeGreaterThanOrEqual(finishedParent.finishedAt!.getTime());
		const lineage = await t.db.select().from(assetLineage).where(eq(assetLineage.childAssetId, finishedChild.assetId!));
		expect(lineage.map((l) => l.parentAssetId)).toEqual([finishedParent.assetId]);
	}, 90_000);
});
