import { z } from 'zod';
import { AssetJson } from '$lib/schemas/assets';
import { assetJson } from '$lib/server/assets/json';
import { restoreAsset } from '$lib/server/assets/service';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Take an asset out of the trash',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 200, description: 'The restored asset', schema: AssetJson },
		errors: ['not_found']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, params }) => {
	const { asset, variants } = await restoreAsset(db(), user, params.id);
	return assetJson(asset, variants);
});
