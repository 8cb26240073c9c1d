import { ProviderList } from '$lib/schemas/providers';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { providerCatalog } from '$lib/server/providers/catalog';

export const _operations = {
	GET: operation({
		summary: 'List the video providers',
		description: 'Every registered provider with the operations it can do and, for each, the JSON Schema of its job params.',
		tags: ['providers'],
		auth: 'user',
		success: { status: 200, description: 'The providers', schema: ProviderList }
	})
};

export const GET = endpoint(_operations.GET, async () => ({ items: providerCatalog() }));
