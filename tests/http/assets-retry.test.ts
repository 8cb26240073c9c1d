/** POST /api/v1/assets/{id}/retry over HTTP: a failed asset goes back to processing with a queued ingest job. */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetJson } from '../../src/lib/schemas/assets';
import { assets } from '../../src/lib/server/db/schema';
import { makeAsset } from '../support/asset-rows';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, parseBody, registerViaApi, type RegisteredUser } from '../support/http';

const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let owner: RegisteredUser;

beforeAll(async () => {
	t = await createTestDatabase();
	server = await startAppServer(t.url);
	api = new ApiClient(server.url);
	await registerViaApi(api); // the admin
	owner = await registerViaApi(api);
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
});

async function ingestJobs(assetId: string): Promise<number> {
	const [row] = await t.db.execute<{ n: number }>(
		sql`select count(*)::int as n from pgboss.job where name = 'assets.ingest' and data->>'asset_id' = ${assetId}`
	);
	return row.n;
}

describe('POST /api/v1/assets/{id}/retry', () => {
	it('puts a failed asset back to processing and queues one ingest job', async () => {
		const failed = await makeAsset(t.db, owner.id, { status: 'failed', errorMessage: 'Processing failed after several attempts.' });
		const res = await api.as(owner.token).post(`/api/v1/assets/${failed.id}/retry`);
		expect(res.status, res.text).toBe(202);
		expect(parseBody(AssetJson.strict(), res)).toMatchObject({ id: failed.id, status: 'processing', error_message: null });
		const [row] = await t.db.select({ status: assets.status }).from(assets).where(eq(assets.id, failed.id));
		expect(row.status).toBe('processing');
		expect(await ingestJobs(failed.id)).toBe(1);
	});

	it('answers a ready asset unchanged, with its thumbnails, and queues nothing', async () => {
		const ready = await makeAsset(t.db, owner.id);
		const res = await api.as(owner.token).post(`/api/v1/assets/${ready.id}/retry`);
		expect(res.status).toBe(202);
		expect(parseBody(AssetJson, res)).toMatchObject({ id: ready.id, status: 'ready' });
		expect(await ingestJobs(ready.id)).toBe(0);
	});

	it('answers 409 for an unfinished upload and for a failed asset whose file was never stored', async () => {
		const uploading = await makeAsset(t.db, owner.id, { status: 'uploading' });
		expectError(await api.as(owner.token).post(`/api/v1/assets/${uploading.id}/retry`), 'conflict');
		const noFile = await makeAsset(t.db, owner.id, { status: 'failed', errorMessage: 'Too large', storageKey: null });
		expectError(await api.as(owner.token).post(`/api/v1/assets/${noFile.id}/retry`), 'conflict');
		expect(await ingestJobs(noFile.id)).toBe(0);
	});

	it('answers 409 when the same bytes have since arrived in the library', async () => {
		const failed = await makeAsset(t.db, owner.id, { status: 'failed', errorMessage: 'Not an image' });
		await makeAsset(t.db, owner.id, { sha256: failed.sha256 });
		expectError(await api.as(owner.token).post(`/api/v1/assets/${failed.id}/retry`), 'conflict');
	});

	it('answers 404 for another user’s asset, an unknown, a purged and a malformed id; 401 without a token', async () => {
		const mallory = await registerViaApi(api);
		const failed = await makeAsset(t.db, owner.id, { status: 'failed', errorMessage: 'x' });
		const purged = await makeAsset(t.db, owner.id, { status: 'failed', deletedAt: new Date(), purgedAt: new Date() });
		expectError(await api.as(mallory.token).post(`/api/v1/assets/${failed.id}/retry`), 'not_found');
		expectError(await api.as(owner.token).post(`/api/v1/assets/${UNKNOWN_ID}/retry`), 'not_found');
		expectError(await api.as(owner.token).post(`/api/v1/assets/${purged.id}/retry`), 'not_found');
		expectError(await api.as(owner.token).post('/api/v1/assets/not-a-uuid/retry'), 'not_found');
		expectError(await api.post(`/api/v1/assets/${failed.id}/retry`), 'unauthorized');
		const [row] = await t.db.select({ status: assets.status }).from(assets).where(eq(assets.id, failed.id));
		expect(row.status).toBe('failed');
	});
});
