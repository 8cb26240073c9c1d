import { pickableAsset, type AssetAnswer, type PickableAsset } from '$lib/jobs/form-data';
import { errorMessage } from './asset-feed.svelte';

/** What GET /api/v1/assets/{id} and POST /api/v1/assets/{id}/frame answer, as far as the form needs. */
type FrameAnswer = AssetAnswer & { error_message: string | null };

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 400;

/**
 * "Use a frame of this video" in the job form: asks the API for the frame as an image asset, then
 * waits for it to be ready (ingest thumbnails it within a second or two), because a job refuses an
 * input that is still processing. The frames taken are kept, so the pickers can list them.
 */
export class VideoFrame {
	busy = $state(false);
	error = $state<string | null>(null);
	taken = $state.raw<PickableAsset[]>([]);

	/** The frame as a pickable asset once it is ready; null (with `error` set) when it could not be made. */
	async take(videoId: string, atSec: number | null): Promise<PickableAsset | null> {
		this.busy = true;
		this.error = null;
		try {
			const res = await fetch(`/api/v1/assets/${videoId}/frame`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', accept: 'application/json' },
				body: JSON.stringify(atSec === null ? {} : { at_sec: atSec })
			});
			if (!res.ok) throw new Error(await errorMessage(res));
			const ready = await this.untilReady((await res.json()) as FrameAnswer);
			const frame = pickableAsset(ready);
			this.taken = [frame, ...this.taken.filter((a) => a.id !== frame.id)];
			return frame;
		} catch (err) {
			this.error = err instanceof Error ? err.message : String(err);
			return null;
		} finally {
			this.busy = false;
		}
	}

	private async untilReady(asset: FrameAnswer): Promise<FrameAnswer> {
		const deadline = Date.now() + READY_TIMEOUT_MS;
		let current = asset;
		while (current.status !== 'ready') {
			if (current.status === 'failed') throw new Error(current.error_message ?? 'The frame could not be processed.');
			if (Date.now() > deadline) throw new Error('The frame is taking long to prepare; choose it from the list in a moment.');
			await new Promise((r) => setTimeout(r, READY_POLL_MS));
			const res = await fetch(`/api/v1/assets/${asset.id}`, { headers: { accept: 'application/json' } });
			if (!res.ok) throw new Error(await errorMessage(res));
			current = (await res.json()) as FrameAnswer;
		}
		return current;
	}
}
