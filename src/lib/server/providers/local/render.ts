/** Turns a stored local task into its clip: the operation's params, resolved to files, handed to media/. */
import { renderExtendedClip, renderFusionClip, renderImageClip, renderTextClip, renderTransitionClip, type ClipInput, type ClipTarget } from '../../media/clips';
import { ProviderError } from '../types';
import { ASPECT_SIZES, EXTEND_MAX_EDGE, taskParams, type TaskParams } from './params';
import { exists, type LocalTask, type TaskStore } from './tasks';

/** The input's file; a missing one means the upload cache outlived our folder: upload it again. */
export async function uploadedFile(store: TaskStore, uploadId: string): Promise<ClipInput> {
	const file = store.uploadPath(uploadId);
	if (!file || !(await exists(file))) {
		throw new ProviderError('request', `The local renderer has no upload "${uploadId}".`, { staleUpload: true });
	}
	return { path: file, mediaType: uploadId.startsWith('video-') ? 'video' : 'image' };
}

async function image(store: TaskStore, uploadId: string): Promise<string> {
	const input = await uploadedFile(store, uploadId);
	if (input.mediaType !== 'image') throw new ProviderError('request', 'This input must be an image.');
	return input.path;
}

/** Renders the task into target.output. */
export async function renderTask(store: TaskStore, task: LocalTask, target: ClipTarget): Promise<void> {
	const parsed = taskParams[task.operation].safeParse(task.params);
	if (!parsed.success) throw new ProviderError('request', `The task's parameters are not valid: ${parsed.error.issues[0]?.message}`);
	const common = { seconds: parsed.data.duration, seed: parsed.data.seed };
	switch (task.operation) {
		case 'text_to_video': {
			const p = parsed.data as TaskParams['text_to_video'];
			return renderTextClip(target, { ...common, prompt: p.prompt, size: ASPECT_SIZES[p.aspect_ratio] });
		}
		case 'image_to_video': {
			const p = parsed.data as TaskParams['image_to_video'];
			return renderImageClip(target, { ...common, image: await image(store, p.image_asset_id), size: ASPECT_SIZES[p.aspect_ratio] });
		}
		case 'video_extend': {
			const p = parsed.data as TaskParams['video_extend'];
			const source = await uploadedFile(store, p.video_asset_id);
			if (source.mediaType !== 'video') throw new ProviderError('request', 'video_extend needs a video.');
			return renderExtendedClip(target, { ...common, video: source.path, maxEdge: EXTEND_MAX_EDGE });
		}
		case 'video_transition': {
			const p = parsed.data as TaskParams['video_transition'];
			const [first, last] = [await uploadedFile(store, p.first_asset_id), await uploadedFile(store, p.last_asset_id)];
			return renderTransitionClip(target, { ...common, first, last, size: ASPECT_SIZES[p.aspect_ratio] });
		}
		case 'fusion': {
			const p = parsed.data as TaskParams['fusion'];
			const images: string[] = [];
			for (const id of p.image_asset_ids) images.push(await image(store, id));
			return renderFusionClip(target, { ...common, images, size: ASPECT_SIZES[p.aspect_ratio] });
		}
	}
}
