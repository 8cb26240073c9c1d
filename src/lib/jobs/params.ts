/**
 * The job form's parameter fields, read from a provider operation's JSON Schema (what
 * GET /api/v1/providers publishes), and the form values turned back into a params object. Pure,
 * so the page renders the same fields on the server (no-JS) and in the browser.
 */

/** The subset of JSON Schema that z.toJSONSchema writes for provider params. */
export interface JsonSchema {
	type?: string | string[];
	title?: string;
	description?: string;
	properties?: Record<string, JsonSchema>;
	required?: string[];
	enum?: unknown[];
	const?: unknown;
	default?: unknown;
	minimum?: number;
	maximum?: number;
	exclusiveMinimum?: number;
	exclusiveMaximum?: number;
	minLength?: number;
	maxLength?: number;
	minItems?: number;
	maxItems?: number;
	items?: JsonSchema;
	anyOf?: JsonSchema[];
	oneOf?: JsonSchema[];
	format?: string;
}

export type AssetMedia = 'image' | 'video' | 'any';

interface FieldBase {
	name: string;
	label: string;
	required: boolean;
	description?: string;
}

export type ParamField =
	| (FieldBase & { kind: 'text'; multiline: boolean; maxLength?: number; default?: string })
	| (FieldBase & { kind: 'number'; integer: boolean; min?: number; max?: number; default?: number })
	| (FieldBase & { kind: 'enum'; options: string[]; default?: string })
	| (FieldBase & { kind: 'boolean'; default?: boolean })
	| (FieldBase & { kind: 'asset'; media: AssetMedia })
	| (FieldBase & { kind: 'assets'; media: AssetMedia; minItems: number; maxItems: number });

/** A form value per field: text for single inputs, a list for multi-asset pickers. */
export type ParamValues = Record<string, string | string[]>;

/** Prefix of the params' form field names ("params.prompt"), the key the jobs service reports errors under. */
export const PARAM_PREFIX = 'params.';

// Job chaining is set by the API (parent_job_id), not typed into this form.
const HIDDEN = new Set(['parent_asset_as']);

const LABELS: Record<string, string> = {
	prompt: 'Prompt',
	negative_prompt: 'Negative prompt',
	duration: 'Duration (seconds)',
	seed: 'Seed',
	aspect_ratio: 'Aspect ratio',
	image_asset_id: 'Image',
	video_asset_id: 'Video',
	image_asset_ids: 'Images',
	first_asset_id: 'First frame',
	last_asset_id: 'Last frame'
};

/** "motion_strength" → "Motion strength". */
export function labelFor(name: string): string {
	if (LABELS[name]) return LABELS[name];
	const words = name.replace(/_/g, ' ').trim();
	return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Which media an asset field takes, from its name (image_asset_id takes images, video_asset_id videos). */
export function assetMediaFor(name: string): AssetMedia {
	if (name.startsWith('image_')) return 'image';
	if (name.startsWith('video_')) return 'video';
	return 'any';
}

const isAssetId = (name: string) => name.endsWith('_asset_id');
const isAssetIds = (name: string) => name.endsWith('_asset_ids');

/** A nullable or optional property is written as anyOf/oneOf or a type list: take its non-null part. */
function concrete(schema: JsonSchema): JsonSchema {
	const variants = schema.anyOf ?? schema.oneOf;
	if (variants) {
		const inner = variants.find((v) => v.type !== 'null');
		if (inner) return { ...concrete(inner), default: schema.default ?? inner.default, description: schema.description ?? inner.description };
	}
	if (Array.isArray(schema.type)) {
		const type = schema.type.find((t) => t !== 'null');
		return { ...schema, type };
	}
	return schema;
}

// z.number().int() without bounds publishes ±MAX_SAFE_INTEGER; that is no limit worth showing.
const bound = (n: number | undefined) => (n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined);

function fieldFor(name: string, raw: JsonSchema, required: boolean): ParamField | null {
	const schema = concrete(raw);
	const base: FieldBase = { name, label: labelFor(name), required, description: schema.description };
	if (isAssetIds(name) && schema.type === 'array') {
		return { ...base, kind: 'assets', media: assetMediaFor(name), minItems: schema.minItems ?? 0, maxItems: schema.maxItems ?? 10 };
	}
	if (isAssetId(name)) return { ...base, kind: 'asset', media: assetMediaFor(name) };
	if (schema.enum && schema.enum.every((v) => typeof v === 'string' || typeof v === 'number')) {
		const options = schema.enum.map(String);
		return { ...base, kind: 'enum', options, default: schema.default === undefined ? undefined : String(schema.default) };
	}
	switch (schema.type) {
		case 'string':
			return {
				...base,
				kind: 'text',
				multiline: name.includes('prompt') || (schema.maxLength ?? 0) > 200,
				maxLength: schema.maxLength,
				default: typeof schema.default === 'string' ? schema.default : undefined
			};
		case 'integer':
		case 'number':
			return {
				...base,
				kind: 'number',
				integer: schema.type === 'integer',
				min: bound(schema.minimum ?? schema.exclusiveMinimum),
				max: bound(schema.maximum ?? schema.exclusiveMaximum),
				default: typeof schema.default === 'number' ? schema.default : undefined
			};
		case 'boolean':
			return { ...base, kind: 'boolean', default: typeof schema.default === 'boolean' ? schema.default : undefined };
		default:
			// Objects and free-form arrays have no sensible single input; the provider's default applies.
			return null;
	}
}

/** The fields to render for an operation's params schema, in the schema's order, prompt first. */
export function fieldsFromSchema(schema: JsonSchema | null | undefined): ParamField[] {
	if (!schema?.properties) return [];
	const required = new Set(schema.required ?? []);
	const fields: ParamField[] = [];
	for (const [name, property] of Object.entries(schema.properties)) {
		if (HIDDEN.has(name)) continue;
		// In the output schema a defaulted field is "required"; it is not something a person must fill.
		const field = fieldFor(name, property, required.has(name) && concrete(property).default === undefined);
		if (field) fields.push(field);
	}
	const rank = (f: ParamField) => (f.kind === 'asset' || f.kind === 'assets' ? 0 : f.name === 'prompt' ? 1 : 2);
	return fields.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
}

/** Form values from a params object (a job being remixed), with the schema's defaults for the rest. */
export function valuesFromParams(fields: ParamField[], params: Record<string, unknown> = {}): ParamValues {
	const values: ParamValues = {};
	for (const field of fields) {
		const given = params[field.name];
		if (field.kind === 'assets') {
			values[field.name] = Array.isArray(given) ? given.filter((v): v is string => typeof v === 'string') : [];
		} else if (given !== undefined && given !== null && typeof given !== 'object') {
			values[field.name] = String(given);
		} else if (field.kind !== 'asset' && field.default !== undefined) {
			values[field.name] = String(field.default);
		} else {
			values[field.name] = '';
		}
	}
	return values;
}

/** Form values from a submitted form (the `params.<name>` entries). */
export function valuesFromForm(fields: ParamField[], form: FormData | URLSearchParams): ParamValues {
	const values: ParamValues = {};
	for (const field of fields) {
		const key = PARAM_PREFIX + field.name;
		const all = form.getAll(key).filter((v): v is string => typeof v === 'string');
		if (field.kind === 'assets') values[field.name] = all.filter((v) => v !== '');
		// A checkbox follows a hidden "false", so the last value is the one that counts.
		else values[field.name] = all.at(-1) ?? '';
	}
	return values;
}

/**
 * The params object the jobs service validates. Empty inputs are left out (the provider's
 * default applies); numbers that do not parse stay text, so the service names the field.
 */
export function paramsFromValues(fields: ParamField[], values: ParamValues): Record<string, unknown> {
	const params: Record<string, unknown> = {};
	for (const field of fields) {
		const value = values[field.name];
		if (Array.isArray(value)) {
			if (value.length > 0) params[field.name] = value;
			continue;
		}
		const text = (value ?? '').trim();
		if (field.kind === 'boolean') {
			if (text !== '') params[field.name] = text === 'true';
		} else if (text === '') {
			continue;
		} else if (field.kind === 'number') {
			const n = Number(text);
			params[field.name] = Number.isFinite(n) ? n : text;
		} else if (field.kind === 'enum') {
			const numeric = Number(text);
			// An enum of numbers (e.g. durations 5 | 8) is sent back as numbers.
			params[field.name] = field.options.every((o) => o !== '' && Number.isFinite(Number(o))) && Number.isFinite(numeric) ? numeric : text;
		} else {
			params[field.name] = text;
		}
	}
	return params;
}
