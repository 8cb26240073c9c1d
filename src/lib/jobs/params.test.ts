import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldsFromSchema, paramsFromValues, valuesFromForm, valuesFromParams, type JsonSchema } from './params';

// The shape the local provider publishes (GET /api/v1/providers uses io: 'input').
const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input' }) as JsonSchema;
const fusion = schemaOf(
	z.strictObject({
		image_asset_ids: z.array(z.uuid()).min(1).max(3),
		prompt: z.string().max(2048).optional(),
		duration: z.int().min(1).max(10).default(3).describe('Seconds of video to generate.'),
		seed: z.int().min(0).max(2147483647).default(0),
		aspect_ratio: z.enum(['16:9', '1:1', '9:16']).default('16:9'),
		loop: z.boolean().default(false),
		parent_asset_as: z.string().optional()
	})
);

describe('job form fields from a params JSON Schema', () => {
	it('renders each kind of parameter as its input, asset pickers first, prompt next, hidden chaining left out', () => {
		const fields = fieldsFromSchema(fusion);
		expect(fields.map((f) => [f.name, f.kind])).toEqual([
			['image_asset_ids', 'assets'],
			['prompt', 'text'],
			['duration', 'number'],
			['seed', 'number'],
			['aspect_ratio', 'enum'],
			['loop', 'boolean']
		]);
		expect(fields[0]).toMatchObject({ media: 'image', minItems: 1, maxItems: 3, required: true, label: 'Images' });
		expect(fields[1]).toMatchObject({ multiline: true, maxLength: 2048, required: false });
		expect(fields[2]).toMatchObject({ integer: true, min: 1, max: 10, default: 3, required: false, description: 'Seconds of video to generate.' });
		expect(fields[4]).toMatchObject({ options: ['16:9', '1:1', '9:16'], default: '16:9' });
	});

	it('takes single asset fields by media from their names', () => {
		const fields = fieldsFromSchema(schemaOf(z.object({ video_asset_id: z.uuid(), first_asset_id: z.uuid(), image_asset_id: z.uuid().nullable().optional() })));
		expect(fields.map((f) => (f.kind === 'asset' ? [f.name, f.media, f.required] : null))).toEqual([
			['video_asset_id', 'video', true],
			['first_asset_id', 'any', true],
			['image_asset_id', 'image', false]
		]);
	});

	it('prefills a remixed job’s params and the schema’s defaults for the rest', () => {
		const fields = fieldsFromSchema(fusion);
		const values = valuesFromParams(fields, { image_asset_ids: ['a', 'b'], prompt: 'a red fox', seed: 42 });
		expect(values).toEqual({ image_asset_ids: ['a', 'b'], prompt: 'a red fox', duration: '3', seed: '42', aspect_ratio: '16:9', loop: 'false' });
	});

	it('turns a submitted form back into typed params, leaving empty inputs to the provider’s defaults', () => {
		const fields = fieldsFromSchema(fusion);
		const form = new URLSearchParams([
			['params.image_asset_ids', 'a'],
			['params.image_asset_ids', 'b'],
			['params.prompt', '  a red fox  '],
			['params.duration', '5'],
			['params.seed', ''],
			['params.aspect_ratio', '1:1'],
			['params.loop', 'false'],
			['params.loop', 'true'],
			['params.unknown', 'x']
		]);
		expect(paramsFromValues(fields, valuesFromForm(fields, form))).toEqual({
			image_asset_ids: ['a', 'b'],
			prompt: 'a red fox',
			duration: 5,
			aspect_ratio: '1:1',
			loop: true
		});
	});

	it('keeps a number that does not parse as text, so the service names the field', () => {
		const fields = fieldsFromSchema(fusion);
		expect(paramsFromValues(fields, { duration: 'five' })).toEqual({ duration: 'five' });
	});
});
