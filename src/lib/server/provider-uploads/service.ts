/**
 * The cross-provider upload cache. Providers want their own upload id for an input image or video,
 * and that id belongs to the provider account that uploaded it: `getAssetForProvider` answers the
 * cached id for (asset, provider, account) while it is valid, else uploads once and caches.
 * Generation calls it with the adapter's upload function; nothing here knows any provider.
 */
import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { assetProviderUploads, type Asset } from '../db/schema';
import { ConflictError } from '../errors';
import type { Storage } from '../storage/local';

export interface ProviderUpload {
	providerUploadId: string;
	/** When the provider forgets the upload, if it says; null: never, as far as we know. */
	expiresAt: Date | null;
}

/** The adapter's upload: given the stored file, answers the provider's id for it. */
export type UploadToProvider = (file: { path: string; mime: string; asset: Asset }) => Promise<ProviderUpload>;

export async function getAssetForProvider(
	db: DbOrTx,
	storage: Storage,
	asset: Asset,
	target: { providerId: string; providerAccountId: string },
	upload: UploadToProvider,
	now: Date = new Date()
): Promise<{ providerUploadId: string; cached: boolean }> {
	const where = and(
		eq(assetProviderUploads.assetId, asset.id),
		eq(assetProviderUploads.providerId, target.providerId),
		eq(assetProviderUploads.providerAccountId, target.providerAccountId)
	);
	const [hit] = await db.select().from(assetProviderUploads).where(where);
	if (hit && (!hit.expiresAt || hit.expiresAt > now)) return { providerUploadId: hit.providerUploadId, cached: true };

	if (asset.status !== 'ready' || !asset.storageKey) {
		throw new ConflictError('Only a ready asset can be sent to a provider.');
	}
	const uploaded = await upload({ path: storage.absolutePath(asset.storageKey), mime: asset.mime, asset });
	await db
		.insert(assetProviderUploads)
		.values({
			assetId: asset.id,
			providerId: target.providerId,
			providerAccountId: target.providerAccountId,
			providerUploadId: uploaded.providerUploadId,
			expiresAt: uploaded.expiresAt,
			uploadedAt: now
		})
		.onConflictDoUpdate({
			target: [assetProviderUploads.assetId, assetProviderUploads.providerId, assetProviderUploads.providerAccountId],
			set: { providerUploadId: uploaded.providerUploadId, expiresAt: uploaded.expiresAt, uploadedAt: now }
		});
	return { providerUploadId: uploaded.providerUploadId, cached: false };
}

/** Drops a cached id the provider rejected as stale (e.g. Pixverse 400032), so the next call re-uploads. */
export async function forgetProviderUpload(
	db: DbOrTx,
	assetId: string,
	target: { providerId: string; providerAccountId: string }
): Promise<void> {
	await db
		.delete(assetProviderUploads)
		.where(
			and(
				eq(assetProviderUploads.assetId, assetId),
				eq(assetProviderUploads.providerId, target.providerId),
				eq(assetProviderUploads.providerAccountId, target.providerAccountId)
			)
		);
}
