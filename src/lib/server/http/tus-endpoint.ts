/**
 * The SvelteKit side of the tus routes: the signed-in user (cookie or bearer, from the auth hook)
 * goes with the request into the tus server, and our errors answer in the API's error shape.
 */
import type { RequestHandler } from '@sveltejs/kit';
import { UnauthorizedError } from '../errors';
import { tusUploads } from '../runtime';
import { errorResponse } from './endpoint';

export const tusEndpoint: RequestHandler = async (event) => {
	const user = event.locals.user;
	if (!user && event.request.method !== 'OPTIONS') {
		const res = errorResponse(new UnauthorizedError('A valid bearer token or session is required.'), event);
		res.headers.set('Tus-Resumable', '1.0.0');
		return res;
	}
	return tusUploads().handle(event.request, {
		user,
		toResponse: (err) => errorResponse(err, event)
	});
};
