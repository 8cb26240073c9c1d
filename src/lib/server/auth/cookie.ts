import type { Cookies } from '@sveltejs/kit';

export const SESSION_COOKIE = 'pixsim7_session';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Secure everywhere but plain-HTTP localhost, where browsers would drop a Secure cookie. */
function secureFor(url: URL): boolean {
	return url.protocol === 'https:' || !LOCAL_HOSTS.has(url.hostname);
}

export function setSessionCookie(cookies: Cookies, url: URL, token: string, expiresAt: Date): void {
	cookies.set(SESSION_COOKIE, token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure: secureFor(url),
		expires: expiresAt
	});
}

export function deleteSessionCookie(cookies: Cookies, url: URL): void {
	cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureFor(url) });
}
