import type { AssetVariant } from '../db/schema';
import type { Storage } from '../storage/local';
import { fileResponse } from './files';

/** A thumbnail or poster. Re-ingest may rewrite one in place, so its ETag follows the row, not the URL. */
export function variantResponse(storage: Storage, variant: AssetVariant, request: Request): Promise<Response> {
	return fileResponse(
		storage,
		{
			key: variant.storageKey,
			contentType: `image/${variant.format}`,
			etag: `"${variant.id}.${variant.byteSize}.${variant.width}x${variant.height}"`,
			cacheControl: 'private, max-age=3600'
		},
		request
	);
}
