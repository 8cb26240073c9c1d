import { z } from 'zod';
import { LineageGraphJson, LineageQuery } from '$lib/schemas/assets';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { lineageGraph, lineageGraphJson } from '$lib/server/lineage/service';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'What an asset was made from, and what was made from it',
		description: 'Ancestors (negative depth) and descendants (positive depth), `depth` generations each way (default 2, at most 5).',
		tags: ['assets'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		query: LineageQuery,
		success: { status: 200, description: 'Nodes and edges', schema: LineageGraphJson },
		errors: ['not_found']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, params, query }) =>
	lineageGraphJson(await lineageGraph(db(), user, params.id, query.depth))
);
