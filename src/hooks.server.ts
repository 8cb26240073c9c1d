import { randomUUID } from 'node:crypto';
import { json, type Handle, type HandleServerError, type RequestEvent, type ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { config } from '$lib/server/config';
import { logger } from '$lib/server/logger';
import { errorBody, ServiceUnavailableError } from '$lib/server/errors';
import { isDatabaseUnavailable } from '$lib/server/db/errors';
import { crossSiteRefusal, isForbiddenCrossSiteForm } from '$lib/server/http/cross-site';
import { db, endEventStreams, startWebRuntime, stopWebRuntime } from '$lib/server/runtime';
import { authenticateBearer } from '$lib/server/auth/service';
import { validateSessionToken } from '$lib/server/auth/sessions';
import { deleteSessionCookie, SESSION_COOKIE, setSessionCookie } from '$lib/server/auth/cookie';

export const init: ServerInit = async () => {
	await startWebRuntime();
	process.once('sveltekit:shutdown', () => void stopWebRuntime());
	// adapter-node waits for open responses before sveltekit:shutdown; event streams never end
	// by themselves, so they are ended first (browsers reconnect to the next process).
	for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, endEventStreams);
};

// Replaces SvelteKit's own origin check (turned off in svelte.config.js); see cross-site.ts.
const crossSiteForms: Handle = async ({ event, resolve }) =>
	isForbiddenCrossSiteForm(event.request, event.url) ? crossSiteRefusal(event.request) : resolve(event);

const requestContext: Handle = async ({ event, resolve }) => {
	const requestId = event.request.headers.get('x-request-id')?.slice(0, 64) || randomUUID();
	event.locals.requestId = requestId;
	event.locals.log = logger.child({ request_id: requestId });
	event.locals.user = null;
	event.locals.session = null;
	event.locals.apiToken = null;
	event.locals.usageToday = null;

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
	try {
		await identify(event);
	} catch (err) {
		if (!isDatabaseUnavailable(err)) throw err;
		// The health check still answers (it reports the database as unreachable); everything
		// else gets a 503, never a misleading 401 or a sign-in redirect.
		event.locals.log.warn({ err }, 'db:unavailable');
		if (event.url.pathname !== '/health') return unavailable(event);
	}
	if (event.locals.user) event.locals.log = event.locals.log.child({ user_id: event.locals.user.id });
	return resolve(event);
};

function unavailable(event: RequestEvent): Response {
	const err = new ServiceUnavailableError();
	if (event.url.pathname.startsWith('/api/')) return json(errorBody(err), { status: 503, headers: { 'retry-after': '5' } });
	return new Response(`<!doctype html><title>PixSim7 is unavailable</title><p>${err.message}</p>`, {
		status: 503,
		headers: { 'content-type': 'text/html; charset=utf-8', 'retry-after': '5' }
	});
}

/** Fills locals from a bearer token or the session cookie. */
async function identify(event: RequestEvent): Promise<void> {
	const ttlDays = config().SESSION_TTL_DAYS;
	const authorization = event.request.headers.get('authorization');
	if (authorization) {
		const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
		const principal = token ? await authenticateBearer(db(), token, config()) : null;
		if (principal) {
			event.locals.user = principal.user;
			event.locals.session = principal.session;
			event.locals.apiToken = principal.apiToken;
			event.locals.usageToday = principal.usageToday;
		}
	} else {
		const token = event.cookies.get(SESSION_COOKIE);
		if (token) {
			const found = await validateSessionToken(db(), token, ttlDays);
			if (found) {
				event.locals.user = found.user;
				event.locals.session = found.session;
				event.locals.usageToday = found.usageToday;
				// Re-set on every valid request so the browser's expiry follows the sliding one.
				setSessionCookie(event.cookies, event.url, token, found.session.expiresAt);
			} else {
				deleteSessionCookie(event.cookies, event.url);
			}
		}
	}
}

/**
 * SvelteKit answers a method a +server.ts does not export with a plain-text 405; the API answers
 * in its own error shape, keeping the Allow header.
 */
const apiMethodNotAllowed: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	if (response.status !== 405 || !event.url.pathname.startsWith('/api/')) return response;
	const allow = response.headers.get('allow') ?? '';
	return json(
		{
			error: {
				code: 'method_not_allowed',
				message: `${event.request.method} is not supported on ${event.url.pathname}.`,
				details: { allow: allow.split(',').map((m) => m.trim()).filter(Boolean) }
			}
		},
		{ status: 405, headers: allow ? { allow } : {} }
	);
};

export const handle = sequence(crossSiteForms, requestContext, authenticate, apiMethodNotAllowed);

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	const log = event.locals.log ?? logger;
	if (status < 500) {
		// A client's mistake (unknown page, wrong method): worth a line, not an alarm.
		log.info({ status, err_message: message }, 'http:client-error');
		return { message: status === 404 ? 'Not found' : message, code: status === 404 ? 'not_found' : 'bad_request' };
	}
	if (isDatabaseUnavailable(error)) {
		log.warn({ err: error, status }, 'db:unavailable');
		return { message: new ServiceUnavailableError().message, code: 'service_unavailable' };
	}
	log.error({ err: error, status }, 'http:error');
	return { message: 'Something went wrong on our side.', code: 'internal_error' };
};
