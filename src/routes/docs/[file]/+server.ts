import fs from 'node:fs/promises';
import path from 'node:path';
import { error } from '@sveltejs/kit';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const FILES: Record<string, string> = {
	'swagger-ui.css': 'text/css; charset=utf-8',
	'swagger-ui-bundle.js': 'text/javascript; charset=utf-8'
};

// Inline scripts would need a CSP exception; this small file starts the UI instead.
const INIT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true, tryItOutEnabled: true });`;

export const GET = async ({ params }) => {
	if (params.file === 'init.js') {
		return new Response(INIT, { headers: { 'content-type': 'text/javascript; charset=utf-8' } });
	}
	const type = FILES[params.file];
	if (!type) error(404, 'Not found');
	const body = await fs.readFile(path.join(dist, params.file));
	return new Response(body, { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } });
};
