import { json, type RequestHandler } from '@sveltejs/kit';

/** Unknown API paths answer in the API's error shape, not with an HTML page. */
const notFound: RequestHandler = ({ url }) =>
	json({ error: { code: 'not_found', message: `No endpoint at ${url.pathname}.`, details: null } }, { status: 404 });

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
