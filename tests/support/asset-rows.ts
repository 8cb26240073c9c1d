/** Asset rows (ready, as ingest leaves them) and their stored files for tests, made directly, not through the upload path. */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../src/lib/server/db/client';
import { assets, assetVariants, type Asset, type NewAsset } from '../../src/lib/server/db/schema';
import { originalKey, type Storage } from '../../src/lib/server/storage/local';

export function sha256Of(bytes: Uint8Array): string {
	return createHash('sha256').update(bytes).digest('hex');
}

/** A ready image asset of the owner; override anything. No file is stored unless you store one. */
export async function makeAsset(db: Db, ownerId: string, overrides: Partial<NewAsset> = {}): Promise<Asset> {
	const sha256 = overrides.sha256 ?? randomBytes(32).toString('hex');
	const [row] = await db
		.insert(assets)
		.values({
			ownerId,
			mediaType: 'image',
			mime: 'image/png',
			status: 'ready',
			sha256,
			fileSizeBytes: 1000,
			width: 10,
			height: 10,
			originalFilename: `pic-${sha256.slice(0, 6)}.png`,
			storageKey: originalKey(sha256, 'png'),
			...overrides
		})
		.returning();
	return row;
}

/** Stores bytes as an original and makes a ready asset for them, with the matching sha256 and size. */
export async function makeReadyStoredAsset(
	db: Db,
	storage: Storage,
	ownerId: string,
	bytes: Uint8Array,
	overrides: Partial<NewAsset> = {}
): Promise<Asset> {
	const sha256 = sha256Of(bytes);
	const key = originalKey(sha256, overrides.mime === 'video/mp4' ? 'mp4' : 'png');
	await storage.putDerived(key, bytes);
	return makeAsset(db, ownerId, {
		sha256,
		storageKey: key,
		fileSizeBytes: bytes.length,
		storageBytesCharged: bytes.length,
		...overrides
	});
}

/** A thumbnail row and its file. */
export async function makeThumb(db: Db, storage: Storage, assetId: string, size: number, bytes: Uint8Array = randomBytes(64)) {
	const key = `derived/${assetId}/thumb-${size}.webp`;
	await storage.putDerived(key, bytes);
	const [row] = await db
		.insert(assetVariants)
		.values({ assetId, kind: 'thumb', size, format: 'webp', width: size, height: size, byteSize: bytes.length, storageKey: key })
		.returning();
	return row;
}
