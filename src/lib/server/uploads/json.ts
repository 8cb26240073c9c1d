import type { DuplicateOf } from './service';

export function duplicateJson(d: DuplicateOf) {
	return { asset_id: d.assetId, duplicate: true as const, in_trash: d.inTrash };
}
