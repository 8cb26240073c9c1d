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
