/** Helpers the end-to-end tests share: unique users, signing in, and the app's landmarks. */
import { randomBytes } from 'node:crypto';
import { expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { BASE_URL } from './env';

export interface TestUser {
	email: string;
	username: string;
	password: string;
}

export const PASSWORD = 'correct horse battery';

/** A user nobody has registered yet (usernames allow 3 to 32 letters, digits, `_.-`). */
export function uniqueUser(label: string): TestUser {
	const id = `${label.slice(0, 12)}_${randomBytes(5).toString('hex')}`;
	return { email: `${id}@example.test`, username: id, password: PASSWORD };
}

/** Registers through the JSON API (quicker than the form) and returns the session token. */
export async function registerViaApi(request: APIRequestContext, user: TestUser): Promise<string> {
	const response = await request.post('/api/v1/auth/register', { data: user });
	expect(response.status(), await response.text()).toBe(201);
	return ((await response.json()) as { access_token: string }).access_token;
}

/** A browser context already signed in with a session token (no sign-in form, no rate limit). */
export async function contextWithSession(browser: Browser, token: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
	const context = await browser.newContext({ baseURL: BASE_URL, ...options });
	await context.addCookies([{ name: 'pixsim7_session', value: token, url: BASE_URL, httpOnly: true, sameSite: 'Lax' }]);
	return context;
}

export async function signInThroughForm(page: Page, user: { email: string; password: string }): Promise<void> {
	await page.goto('/login');
	await page.getByLabel('Email').fill(user.email);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/gallery$/);
}

export const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

export const section = (page: Page, name: string) => page.getByRole('region', { name });

export async function meStatus(request: APIRequestContext, token: string): Promise<number> {
	const response = await request.get('/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });
	return response.status();
}

/** Signs in through the JSON API: a new session, and its token. */
export async function loginViaApi(request: APIRequestContext, user: { email: string; password: string }): Promise<string> {
	const response = await request.post('/api/v1/auth/login', { data: { email: user.email, password: user.password } });
	expect(response.status(), await response.text()).toBe(200);
	return ((await response.json()) as { access_token: string }).access_token;
}

export async function logoutViaApi(request: APIRequestContext, token: string): Promise<void> {
	const response = await request.post('/api/v1/auth/logout', { headers: { authorization: `Bearer ${token}` } });
	expect(response.status()).toBe(204);
}

/**
 * Holds back the app's script and style (SvelteKit's /_app/immutable/ files) until the returned
 * function is called, as a slow device or network would: the page shows the server's HTML,
 * not yet taken over by its script. Navigate with `waitUntil: 'commit'`, since
 * 'domcontentloaded' waits for the held module scripts.
 */
export async function holdAppScript(page: Page): Promise<() => void> {
	let release = () => {};
	const released = new Promise<void>((resolve) => (release = resolve));
	await page.route('**/_app/immutable/**', async (route) => {
		await released;
		await route.continue();
	});
	return release;
}
