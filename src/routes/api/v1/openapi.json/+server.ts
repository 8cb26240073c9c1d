import { json } from '@sveltejs/kit';
import { buildOpenApiDocument, type RouteModules } from '$lib/server/openapi/document';

// Every route module's declared operations; this file itself is left out (it would import itself).
const modules = import.meta.glob(['/src/routes/**/+server.ts', '!/src/routes/api/v1/openapi.json/+server.ts'], {
	eager: true
}) as RouteModules;

let document: ReturnType<typeof buildOpenApiDocument> | undefined;

export const GET = () => {
	document ??= buildOpenApiDocument(modules, '1');
	return json(document, { headers: { 'cache-control': 'no-cache' } });
};
