/**
 * A fixture provider for tests of the jobs service, for what no registered provider shows (an
 * operation a provider does not offer: local and pixverse offer all five). Real parameter schemas,
 * no network; the service never calls submit. It is not a stand-in for any real provider.
 * registerFixtureProvider adds it to the live registry.
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
		text_to_video: { params: z.object({ prompt }), estimateCost: () => null }
	},
	inputAssets: () => [],
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
