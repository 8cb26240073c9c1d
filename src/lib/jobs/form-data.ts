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
