/**
 * The local renderer's parameters, per operation. Users send asset ids; the task the renderer
 * stores carries the same fields with its own upload ids in their place, so one builder makes both.
 */
import { z } from 'zod';
import type { OperationType } from '../types';

/** Upload ids name what the file is, so a transition knows a still from a clip without reading it. */
export const UPLOAD_ID = /^(image|video)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const ASPECT_SIZES = {
	'16:9': { width: 320, height: 180 },
	'1:1': { width: 240, height: 240 },
	'9:16': { width: 180, height: 320 }
} as const;
/** video_extend keeps its source's shape, scaled to this longest edge. */
export const EXTEND_MAX_EDGE = 320;

function schemas<R extends z.ZodType<string>>(ref: R) {
	const prompt = z.string().trim().max(2048).describe('What the clip shows; drawn on text_to_video clips.');
	const common = {
		duration: z.int().min(1).max(10).default(3).describe('Seconds of video to generate.'),
		seed: z.int().min(0).max(2147483647).default(0).describe('The same seed and parameters give the same video.')
	};
	const aspect_ratio = z.enum(['16:9', '1:1', '9:16']).default('16:9').describe('Frame shape (320×180, 240×240 or 180×320).');
	return {
		text_to_video: z.strictObject({ prompt: prompt.min(1), ...common, aspect_ratio }),
		image_to_video: z.strictObject({ image_asset_id: ref, prompt: prompt.optional(), ...common, aspect_ratio }),
		video_extend: z.strictObject({
			video_asset_id: ref,
			prompt: prompt.optional(),
			...common,
			duration: common.duration.describe('Seconds added after the source video.')
		}),
		video_transition: z.strictObject({
			first_asset_id: ref.describe('Image or video the clip starts from (a video contributes its end).'),
			last_asset_id: ref.describe('Image or video the clip ends on (a video contributes its start).'),
			prompt: prompt.optional(),
			...common,
			aspect_ratio
		}),
		fusion: z.strictObject({ image_asset_ids: z.array(ref).min(1).max(3), prompt: prompt.optional(), ...common, aspect_ratio })
	} satisfies Record<OperationType, z.ZodType>;
}

/** What users send (asset ids). */
export const localParams = schemas(z.uuid());
/** What a stored task holds (the renderer's upload ids). */
export const taskParams = schemas(z.string().regex(UPLOAD_ID, 'must be an upload id of the local renderer'));

export type TaskParams = { [K in OperationType]: z.output<(typeof taskParams)[K]> };

/** The params fields that name input assets, and the lineage relation each stands for. */
export const ASSET_FIELDS: Record<OperationType, { field: string; relation: string }[]> = {
	text_to_video: [],
	image_to_video: [{ field: 'image_asset_id', relation: 'source_image' }],
	video_extend: [{ field: 'video_asset_id', relation: 'source_video' }],
	video_transition: [
		{ field: 'first_asset_id', relation: 'first_frame' },
		{ field: 'last_asset_id', relation: 'last_frame' }
	],
	fusion: [{ field: 'image_asset_ids', relation: 'reference' }]
};
