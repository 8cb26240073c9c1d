import { randomUUID } from 'node:crypto';
import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { config } from '$lib/server/config';
import { logger } from '$lib/server/logger';
import { db, startWebRuntime, stopWebRuntime } from '$lib/server/runtime';
import { authenticateBearer } from '$lib/server/auth/service';
import { validateSessionToken } from '$lib/server/auth/sessions';
import { deleteSessionCookie, SESSION_COOKIE, setSessionCookie } from '$lib/server/auth/cookie';

export const init: ServerInit = async () => {
	await startWebRuntime();
	process.once('sveltekit:shutdown', () => void stopWebRuntime());
};

const requestContext: Handle = async ({ event, resolve }) => {
	const requestId = event.request.headers.get('x-request-id')?.slice(0, 64) || randomUUID();
	event.locals.requestId = requestId;
	event.locals.log = logger.child({ request_id: requestId });
	event.locals.user = null;
	event.locals.session = null;
	event.locals.apiToken = null;

	const started = performance.now();
	const response = await resolve(event);
	try {
		response.headers.set('x-request-id', requestId);
	} catch {
		// Some responses (e.g. proxied fetches) have immutable headers; the id is still logged.
	}
	// event.locals.log is the child that `authenticate` bound user_id to, when someone signed in.
	event.locals.log.info(
		{
			method: event.request.method,
			path: event.url.pathname,
			status: response.status,
			duration_ms: Math.round((performance.now() - started) * 10) / 10
		},
		'http:request'
	);
	return response;
};

const authenticate: Handle = async ({ event, resolve }) => {
	const ttlDays = config().SESSION_TTL_DAYS;
	const authorization = event.request.headers.get('authorization');
	if (authorization) {
		const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
		const principal = token ? await authenticateBearer(db(), token, config()) : null;
		if (principal) {
			event.locals.user = principal.user;
			event.locals.session = principal.session;
			event.locals.apiToken = principal.apiToken;
		}
	} else {
		const token = event.cookies.get(SESSION_COOKIE);
		if (token) {
			const found = await validateSessionToken(db(), token, ttlDays);
			if (found) {
				event.locals.user = found.user;
				event.locals.session = found.session;
				// Re-set on every valid request so the browser's expiry follows the sliding one.
				setSessionCookie(event.cookies, event.url, token, found.session.expiresAt);
			} else {
				deleteSessionCookie(event.cookies, event.url);
			}
		}
	}
	if (event.locals.user) event.locals.log = event.locals.log.child({ user_id: event.locals.user.id });
	return resolve(event);
};

export const handle = sequence(requestContext, authenticate);

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	if (status === 404) return { message: 'Not found', code: 'not_found' };
	(event.locals.log ?? logger).error({ err: error, status }, 'http:error');
	return { message: status >= 500 ? 'Something went wrong on our side.' : message, code: 'internal_error' };
};
