import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetProviderUploads } from '../../src/lib/server/db/schema';
import { ConflictError } from '../../src/lib/server/errors';
import { forgetProviderUpload, getAssetForProvider, type UploadToProvider } from '../../src/lib/server/provider-uploads/service';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { makeAsset, makeReadyStoredAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let storage: Storage;
let root: string;
beforeAll(async () => {
	t = await createTestDatabase();
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-provider-uploads-'));
	storage = createLocalStorage(root);
});
afterAll(async () => {
	await t.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

/** Counts its calls and checks it is handed the stored bytes. */
function recordingUpload(expected: Uint8Array, expiresAt: Date | null = null) {
	const calls: string[] = [];
	const upload: UploadToProvider = async ({ path: file }) => {
		expect(fs.readFileSync(file).equals(Buffer.from(expected))).toBe(true);
		const id = `up-${calls.length + 1}`;
		calls.push(id);
		return { providerUploadId: id, expiresAt };
	};
	return { upload, calls };
}

describe('getAssetForProvider', () => {
	it('uploads once per (asset, provider, account) and answers the cached id after that', async () => {
		const { user } = await makeUser(t.db);
		const bytes = randomBytes(300);
		const asset = await makeReadyStoredAsset(t.db, storage, user.id, bytes, { status: 'ready' });
		const accountA = randomUUID();
		const accountB = randomUUID();
		const { upload, calls } = recordingUpload(bytes);

		const first = await getAssetForProvider(t.db, storage, asset, { providerId: 'pixverse', providerAccountId: accountA }, upload);
		const again = await getAssetForProvider(t.db, storage, asset, { providerId: 'pixverse', providerAccountId: accountA }, upload);
		expect(first).toEqual({ providerUploadId: 'up-1', cached: false });
		expect(again).toEqual({ providerUploadId: 'up-1', cached: true });

		// Upload ids belong to the account that uploaded: another account uploads its own.
		const other = await getAssetForProvider(t.db, storage, asset, { providerId: 'pixverse', providerAccountId: accountB }, upload);
		expect(other).toEqual({ providerUploadId: 'up-2', cached: false });
		expect(calls).toHaveLength(2);
		expect(await t.db.select().from(assetProviderUploads)).toHaveLength(2);
	});

	it('uploads again once the cached id has expired, or after it was forgotten as stale', async () => {
		const { user } = await makeUser(t.db);
		const bytes = randomBytes(200);
		const asset = await makeReadyStoredAsset(t.db, storage, user.id, bytes, { status: 'ready' });
		const target = { providerId: 'pixverse', providerAccountId: randomUUID() };
		const { upload, calls } = recordingUpload(bytes, new Date('2030-01-01T00:00:00Z'));

		await getAssetForProvider(t.db, storage, asset, target, upload, new Date('2029-12-31T00:00:00Z'));
		const expired = await getAssetForProvider(t.db, storage, asset, target, upload, new Date('2030-01-02T00:00:00Z'));
		expect(expired).toEqual({ providerUploadId: 'up-2', cached: false });

		await forgetProviderUpload(t.db, asset.id, target);
		const fresh = await getAssetForProvider(t.db, storage, asset, target, upload, new Date('2029-06-01T00:00:00Z'));
		expect(fresh.cached).toBe(false);
		expect(calls).toHaveLength(3);
		expect(await t.db.select().from(assetProviderUploads)).toHaveLength(3);
	});

	it('refuses an asset that is not ready', async () => {
		const { user } = await makeUser(t.db);
		const asset = await makeAsset(t.db, user.id, { status: 'processing' });
		const { upload, calls } = recordingUpload(new Uint8Array());
		await expect(
			getAssetForProvider(t.db, storage, asset, { providerId: 'pixverse', providerAccountId: randomUUID() }, upload)
		).rejects.toBeInstanceOf(ConflictError);
		expect(calls).toHaveLength(0);
	});
});
