/**
 * The cross-site form check, as SvelteKit's `csrf` option does it, with one difference: a request
 * that authenticates with `Authorization: Bearer` passes. Browsers never attach that header to a
 * cross-site form post (and a cross-site fetch with it needs a CORS preflight this app never
 * grants), so only a script can send it, and scripts must be able to post multipart uploads
 * without faking an Origin header.
 */
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain', 'application/x-sveltekit-formdata'];
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isForbiddenCrossSiteForm(request: Request, url: URL): boolean {
	if (!UNSAFE.has(request.method)) return false;
	const type = request.headers.get('content-type')?.split(';', 1)[0].trim().toLowerCase() ?? '';
	if (!FORM_TYPES.includes(type)) return false;
	if (request.headers.get('origin') === url.origin) return false;
	return !/^Bearer\s+\S+$/i.test(request.headers.get('authorization') ?? '');
}

export function crossSiteRefusal(request: Request): Response {
	const message = `Cross-site ${request.method} form submissions are forbidden`;
	return request.headers.get('accept') === 'application/json'
		? Response.json({ message }, { status: 403 })
		: new Response(message, { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
