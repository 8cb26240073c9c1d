/** An asset whose bytes are stored, as the upload paths leave it: status `processing`, ready for ingest. */
import { Readable } from 'node:stream';
import type { Db } from '../../src/lib/server/db/client';
import { assets, type Asset, type NewAsset } from '../../src/lib/server/db/schema';
import type { Storage } from '../../src/lib/server/storage/local';

export async function makeStoredAsset(
	db: Db,
	storage: Storage,
	ownerId: string,
	bytes: Buffer,
	overrides: Partial<NewAsset> & { extension?: string } = {}
): Promise<Asset> {
	const { extension = 'jpg', ...values } = overrides;
	const temp = await storage.writeTemp(Readable.from([bytes]), bytes.length + 1);
	const storageKey = await storage.commitOriginal(temp, extension);
	const [asset] = await db
		.insert(assets)
		.values({
			ownerId,
			mediaType: 'image',
			mime: 'image/jpeg',
			status: 'processing',
			sha256: temp.sha256,
			fileSizeBytes: temp.size,
			storageBytesCharged: temp.size,
			originalFilename: `upload.${extension}`,
			storageKey,
			...values
		})
		.returning();
	return asset;
}
