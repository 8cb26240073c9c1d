/**
 * A fixture provider for tests of the jobs service: real parameter schemas and input-asset rules,
 * no network (the service never calls submit; the worker's tests use the real adapters). It is
 * not a stand-in for any real provider. registerFixtureProvider adds it to the live registry.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { listProviders } from '../../src/lib/server/providers/registry';
import type { Provider } from '../../src/lib/server/providers/types';

const prompt = z.string().trim().min(1, 'Write a prompt.').max(2000);
const notForSubmission = () => {
	throw new Error('The fixture provider does not run jobs');
};

export const fixtureProvider: Provider = {
	id: 'fixture',
	label: 'Fixture',
	requiresCredentials: false,
	pollIntervalMs: 1000,
	deadlineMs: 60_000,
	operations: {
		text_to_video: {
			params: z.object({ prompt, duration: z.number().int().min(1).max(10).default(5), seed: z.number().int().optional() }),
			estimateCost: () => null
		},
		image_to_video: {
			params: z.object({ prompt, image_asset_id: z.uuid('Give an asset id.') }),
			estimateCost: () => null
		},
		fusion: {
			params: z.object({ prompt, image_asset_ids: z.array(z.uuid()).min(1).max(3) }),
			estimateCost: () => null
		}
	},
	inputAssets(_op, params) {
		const refs: { assetId: string; relation: string }[] = [];
		if (typeof params.image_asset_id === 'string') refs.push({ assetId: params.image_asset_id, relation: 'source_image' });
		if (Array.isArray(params.image_asset_ids)) {
			for (const id of params.image_asset_ids) if (typeof id === 'string') refs.push({ assetId: id, relation: 'reference' });
		}
		return refs;
	},
	mapParameters: (_op, params) => params,
	submit: notForSubmission,
	checkStatus: notForSubmission,
	uploadAsset: notForSubmission,
	openResult: async () => Readable.from([]),
	classifyError: () => 'transient'
};

export function registerFixtureProvider(): void {
	const registered = listProviders() as Provider[];
	if (!registered.some((p) => p.id === fixtureProvider.id)) registered.push(fixtureProvider);
}
