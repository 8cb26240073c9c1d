/**
 * What pages need around their service calls: the sign-in guard, the admin guard, where to go
 * after signing in, and starting or ending the browser session.
 */
import { error, redirect, type Cookies, type RequestEvent } from '@sveltejs/kit';
import type { Principal, SignedIn } from '../auth/service';
import { deleteSessionCookie, setSessionCookie } from '../auth/cookie';
import { invalidateSession } from '../auth/sessions';
import type { User } from '../db/schema';
import { db } from '../runtime';

interface PageEvent {
	locals: App.Locals;
	url: URL;
}

export const HOME_PATH = '/gallery';

/** The sign-in page, remembering where the person was going. */
export function signInPath(from: URL): string {
	const target = from.pathname + from.search;
	return target === '/' || target === HOME_PATH ? '/login' : `/login?redirectTo=${encodeURIComponent(target)}`;
}

/**
 * The signed-in principal, or a redirect to the sign-in page. Load functions and form actions
 * each call it: an action runs without its layout's load, so the layout guard alone is not enough.
 */
export function requireUser(event: PageEvent): Principal & { user: User } {
	const { user, session, apiToken } = event.locals;
	if (!user) redirect(303, signInPath(event.url));
	return { user, session, apiToken };
}

export function requireAdmin(event: PageEvent): Principal & { user: User } {
	const principal = requireUser(event);
	if (principal.user.role !== 'admin') error(403, { message: 'Only administrators can open this page.', code: 'forbidden' });
	return principal;
}

/**
 * Where to send someone who just signed in: the `redirectTo` path when it stays on this site,
 * else the gallery. Anything that could leave the origin (`//host`, `/\host`, a scheme) is ignored.
 */
export function afterSignInPath(url: URL): string {
	const wanted = url.searchParams.get('redirectTo');
	if (!wanted || !wanted.startsWith('/') || wanted.startsWith('//') || wanted.startsWith('/\\')) return HOME_PATH;
	const target = new URL(wanted, url.origin);
	if (target.origin !== url.origin || ['/login', '/register', '/logout'].includes(target.pathname)) return HOME_PATH;
	return target.pathname + target.search + target.hash;
}

export function startBrowserSession(event: { cookies: Cookies; url: URL }, signedIn: SignedIn): void {
	setSessionCookie(event.cookies, event.url, signedIn.token, signedIn.session.expiresAt);
}

export async function endBrowserSession(event: RequestEvent): Promise<void> {
	if (event.locals.session) await invalidateSession(db(), event.locals.session.id);
	deleteSessionCookie(event.cookies, event.url);
}
