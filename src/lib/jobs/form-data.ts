/** What the job form page gets from its load: providers with their params schemas, and assets to pick. */
import type { JsonSchema, ParamValues } from './params';
import type { Operation } from './labels';

export interface ProviderOption {
	id: string;
	label: string;
	/** The params JSON Schema of each operation the provider supports. */
	operations: Partial<Record<Operation, JsonSchema>>;
}

export interface PickableAsset {
	id: string;
	media_type: 'image' | 'video';
	name: string;
	thumbnail: string | null;
	created_at: string;
	/** Videos: their length, the bound of a frame's time ("Use a frame of this video"). */
	duration_sec: number | null;
	/** A frame just taken is still being thumbnailed; a job can use it once it is ready. */
	status: 'uploading' | 'processing' | 'ready' | 'failed';
}

/** An asset as the API answers it (GET /api/v1/assets/{id}), as far as a picker needs. */
export interface AssetAnswer {
	id: string;
	media_type: 'image' | 'video';
	status: PickableAsset['status'];
	original_filename: string | null;
	duration_sec: number | null;
	created_at: string;
	thumbnails: Record<string, string>;
	poster: string | null;
}

/** The picker's view of an asset: its poster, else its smallest thumbnail. */
export function pickableAsset(a: AssetAnswer): PickableAsset {
	const sizes = Object.keys(a.thumbnails)
		.map(Number)
		.sort((x, y) => x - y);
	return {
		id: a.id,
		media_type: a.media_type,
		name: a.original_filename ?? `Untitled ${a.media_type}`,
		thumbnail: a.poster ?? (sizes.length ? a.thumbnails[String(sizes[0])] : null),
		created_at: a.created_at,
		duration_sec: a.duration_sec,
		status: a.status
	};
}

/** The form's values: the job's own fields as text, the params by field name. */
export interface JobFormValues {
	operation_type: string;
	provider_id: string;
	name: string;
	priority: string;
	scheduled_at: string;
	workspace_id: string;
	params: ParamValues;
}

/** "Use a frame of this video": offered beside an image picker when the remixed asset is a video. */
export interface FrameOffer {
	video: PickableAsset;
	/** A frame is being made (the button says so and waits). */
	busy: boolean;
	error: string | null;
	/** Takes the frame (at a second, or the poster's moment) and puts it in the field. */
	use: (atSec: number | null) => void;
}
