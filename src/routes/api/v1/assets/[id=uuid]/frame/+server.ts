import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { FrameAssetJson, FrameRequest } from '$lib/schemas/assets';
import { assetJson } from '$lib/server/assets/json';
import { variantsOf } from '$lib/server/assets/queries';
import { createFrameAsset } from '$lib/server/assets/frames';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db, frameDeps } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Make an image asset from a frame of a video',
		description:
			'Takes one frame of your ready video as a PNG image asset (e.g. the input of an image_to_video job), stored, charged to your storage quota and processed like an upload, with a lineage edge to the video (relation `source_video`). It starts `processing`; a job can use it once it is `ready`. 400 when the asset is an image or `at_sec` is outside the video; 409 while the video is not ready or is in the trash.',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		body: FrameRequest,
		success: { status: 201, description: 'The new image asset, processing', schema: FrameAssetJson },
		otherResponses: [{ status: 200, description: 'The same bytes were already an asset of yours: that asset, with `duplicate: true`', schema: FrameAssetJson }],
		errors: ['not_found', 'conflict', 'quota_exceeded']
	})
};

export const POST = endpoint(_operations.POST, async ({ user, params, body, event }) => {
	const { asset, duplicate, atSec } = await createFrameAsset(frameDeps(), user, params.id, { atSec: body.at_sec });
	event.locals.log.info({ asset_id: asset.id, video_id: params.id, at_sec: atSec, duplicate }, 'assets:frame');
	const variants = (await variantsOf(db(), [asset.id])).get(asset.id) ?? [];
	return json({ ...assetJson(asset, variants), duplicate, at_sec: atSec }, { status: duplicate ? 200 : 201 });
});
