/** What the registered providers offer, as clients see it: operations and their params as JSON Schema. */
import { z } from 'zod';
import { listProviders } from './registry';
import { operationTypes, type OperationType } from './types';

export interface ProviderSummary {
	id: string;
	label: string;
	requires_credentials: boolean;
	operations: Partial<Record<OperationType, { params_schema: Record<string, unknown> }>>;
}

/** The providers in registry order; computed once (the schemas do not change while running). */
let cached: ProviderSummary[] | undefined;

export function providerCatalog(): ProviderSummary[] {
	cached ??= listProviders().map((provider) => {
		const operations: ProviderSummary['operations'] = {};
		for (const op of operationTypes) {
			const spec = provider.operations[op];
			// io 'input': what a client sends, so fields with defaults are optional.
			if (spec) operations[op] = { params_schema: z.toJSONSchema(spec.params, { io: 'input' }) as Record<string, unknown> };
		}
		return { id: provider.id, label: provider.label, requires_credentials: provider.requiresCredentials, operations };
	});
	return cached;
}

/** Provider ids with their operation names, for the health check. */
export function providerOperations(): { id: string; operations: OperationType[] }[] {
	return listProviders().map((p) => ({ id: p.id, operations: operationTypes.filter((op) => p.operations[op]) }));
}
