/**
 * What a user may ask Pixverse for, per operation, and what it is expected to cost. Inputs are
 * asset ids; the adapter swaps them for Pixverse upload ids when it maps the parameters.
 * The limits are the documented ones (/work/shared/providers/pixverse.md), checked here so a bad
 * request fails with a field error before it reaches an account.
 */
import { z } from 'zod';
import type { OperationType } from '../types';

export const qualities = ['360p', '540p', '720p', '1080p'] as const;
export type Quality = (typeof qualities)[number];

const assetId = z.uuid();

const common = {
	prompt: z.string().trim().min(1).max(2048).describe('What the video shows (at most 2048 characters).'),
	// Pixverse adds models often (v4.5, v5, ...): any "v…" name passes, the provider judges the rest.
	model: z
		.string()
		.regex(/^v\d+(\.\d+)*[a-z0-9_.-]*$/i, 'must be a Pixverse model name such as v4.5 or v5')
		.default('v4.5')
		.describe('Pixverse model, e.g. v4.5 or v5.'),
	duration: z.literal([5, 8]).default(5).describe('Seconds; 8 is not available at 1080p.'),
	quality: z.enum(qualities).default('540p'),
	aspect_ratio: z.enum(['16:9', '4:3', '1:1', '3:4', '9:16']).optional(),
	motion_mode: z.enum(['normal', 'fast']).optional().describe('fast: 5-second videos below 1080p only.'),
	negative_prompt: z.string().max(2048).optional().describe('What the video should avoid.'),
	seed: z.number().int().min(0).max(2147483647).optional().describe('The same seed and settings give a similar video.'),
	style: z.string().min(1).max(64).optional().describe('A Pixverse style, e.g. anime, 3d_animation, clay, comic, cyberpunk.'),
	template_id: z.number().int().positive().optional().describe('A Pixverse effect template.'),
	water_mark: z.boolean().optional().describe('Ask Pixverse for its watermark.')
};

interface CommonParams {
	model: string;
	duration: 5 | 8;
	quality: Quality;
	motion_mode?: 'normal' | 'fast';
}

/** The documented combinations Pixverse refuses, as field errors. */
function checkCombinations(params: CommonParams, ctx: z.RefinementCtx): void {
	if (params.duration === 8 && params.quality === '1080p') {
		ctx.addIssue({ code: 'custom', path: ['duration'], message: '8-second videos are not available at 1080p; choose 5 seconds or a lower quality' });
	}
	if (params.motion_mode === 'fast' && (params.duration !== 5 || params.quality === '1080p')) {
		ctx.addIssue({ code: 'custom', path: ['motion_mode'], message: 'fast motion needs a 5-second video below 1080p' });
	}
}

/** "v4.5" → [4, 5]; null for names that are not plain version numbers. */
function modelVersion(model: string): number[] | null {
	const match = /^v(\d+(?:\.\d+)*)$/i.exec(model);
	return match ? match[1].split('.').map(Number) : null;
}

function versionAtLeast(version: number[], minimum: number[]): boolean {
	for (let i = 0; i < Math.max(version.length, minimum.length); i++) {
		const a = version[i] ?? 0;
		const b = minimum[i] ?? 0;
		if (a !== b) return a > b;
	}
	return true;
}

const refName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,29}$/, 'must be a letter then letters, digits or _ (at most 30)');

export const textToVideoParams = z
	.object({ ...common, aspect_ratio: common.aspect_ratio.default('16:9') })
	.superRefine(checkCombinations);

export const imageToVideoParams = z.object({ ...common, image_asset_id: assetId }).superRefine(checkCombinations);

export const transitionParams = z
	.object({ ...common, first_asset_id: assetId, last_asset_id: assetId })
	.superRefine(checkCombinations);

export const extendParams = z.object({ ...common, video_asset_id: assetId }).superRefine(checkCombinations);

export const fusionParams = z
	.object({
		...common,
		aspect_ratio: common.aspect_ratio.default('16:9'),
		image_asset_ids: z.array(assetId).min(1).max(3).describe('1 to 3 images; the prompt names them @ref1, @ref2, @ref3 unless image_references names them.'),
		// One per image, in the same order; the prompt names them as @ref_name. Default: each image
		// is a subject called ref1, ref2, ref3.
		image_references: z
			.array(z.object({ type: z.enum(['subject', 'background']).default('subject'), ref_name: refName }))
			.min(1)
			.max(3)
			.optional()
			.describe('One per image, in order: subject or background, and the name the prompt uses as @name.')
	})
	.superRefine((params, ctx) => {
		checkCombinations(params, ctx);
		const version = modelVersion(params.model);
		if (version && !versionAtLeast(version, [4, 5])) {
			ctx.addIssue({ code: 'custom', path: ['model'], message: 'fusion needs model v4.5 or newer' });
		}
		const refs = params.image_references;
		if (refs && refs.length !== params.image_asset_ids.length) {
			ctx.addIssue({ code: 'custom', path: ['image_references'], message: 'give one reference per image in image_asset_ids' });
		}
		if (refs && new Set(refs.map((r) => r.ref_name.toLowerCase())).size !== refs.length) {
			ctx.addIssue({ code: 'custom', path: ['image_references'], message: 'reference names must differ' });
		}
	});

export type TextToVideoParams = z.infer<typeof textToVideoParams>;
export type ImageToVideoParams = z.infer<typeof imageToVideoParams>;
export type TransitionParams = z.infer<typeof transitionParams>;
export type ExtendParams = z.infer<typeof extendParams>;
export type FusionParams = z.infer<typeof fusionParams>;

export const paramsSchemas = {
	text_to_video: textToVideoParams,
	image_to_video: imageToVideoParams,
	video_transition: transitionParams,
	video_extend: extendParams,
	fusion: fusionParams
} as const satisfies Record<OperationType, z.ZodType>;

/**
 * Credits for a 5-second video by quality. Approximate: Pixverse's price list changes with its
 * models and plans and no endpoint states it (the balance endpoint itself is unconfirmed), so this
 * only keeps the pool from picking an account that is clearly short. Pass `prices` to
 * createPixverseProvider to use other figures.
 */
export const defaultPrices: Record<Quality, number> = { '360p': 45, '540p': 45, '720p': 60, '1080p': 120 };

export function estimateCredits(params: CommonParams, prices: Record<Quality, number> = defaultPrices): number {
	const base = prices[params.quality];
	// 8 s bills about twice 5 s, and fast motion twice normal, in Pixverse's published plans.
	return base * (params.duration === 8 ? 2 : 1) * (params.motion_mode === 'fast' ? 2 : 1);
}
