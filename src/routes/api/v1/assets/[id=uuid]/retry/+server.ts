import { z } from 'zod';
import { AssetJson } from '$lib/schemas/assets';
import { variantsOf } from '$lib/server/assets/queries';
import { assetJson } from '$lib/server/assets/json';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { retryIngest } from '$lib/server/ingest/service';
import { boss, db } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Process a failed asset again',
		description:
			'A failed asset goes back to `processing` and is queued for ingest. An asset already processing or ready is answered unchanged. 409 while the upload is unfinished, when its file was never stored, or when the same bytes are already in your library.',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 202, description: 'The asset, now processing (or as it was)', schema: AssetJson },
		errors: ['not_found', 'conflict']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, params, event }) => {
	const asset = await retryIngest(db(), boss(), user.id, params.id);
	event.locals.log.info({ asset_id: asset.id, status: asset.status }, 'assets:retry');
	return assetJson(asset, (await variantsOf(db(), [asset.id])).get(asset.id) ?? []);
});
