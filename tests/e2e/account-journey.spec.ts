import { expect, test } from '@playwright/test';
import { mainNav, meStatus, section, uniqueUser } from './support/app';

test('a new user registers, creates an API token that works, revokes it and signs out', async ({ page, context, request }) => {
	await context.grantPermissions(['clipboard-read', 'clipboard-write']);
	const user = uniqueUser('journey');

	await page.goto('/register');
	await page.getByLabel('Email').fill(user.email);
	await page.getByLabel('Username').fill(user.username);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Create account' }).click();

	// The app shell: product name, navigation with the current page marked, the username.
	await expect(page).toHaveURL(/\/gallery$/);
	await expect(page.getByRole('link', { name: 'PixSim7' })).toBeVisible();
	const nav = mainNav(page);
	for (const name of ['Gallery', 'Jobs', 'Scenes', 'Devices', 'Settings']) {
		await expect(nav.getByRole('link', { name })).toBeVisible();
	}
	await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
	await expect(nav.getByRole('link', { name: 'Gallery' })).toHaveAttribute('aria-current', 'page');
	await expect(page.getByRole('banner')).toContainText(user.username);

	await nav.getByRole('link', { name: 'Settings' }).click();
	await expect(page).toHaveURL(/\/settings$/);
	await expect(nav.getByRole('link', { name: 'Settings' })).toHaveAttribute('aria-current', 'page');

	// Create a token: it is shown once, with a warning and a working Copy button.
	const tokens = section(page, 'API tokens');
	await tokens.getByLabel('Token name').fill('e2e script');
	await tokens.getByRole('button', { name: 'Create token' }).click();
	const shown = tokens.getByRole('group', { name: /Your new token/ });
	await expect(shown).toContainText('It will not be shown again');
	const token = await shown.getByLabel('New API token').inputValue();
	expect(token).toMatch(/^pxs7_[a-z2-7]{32}$/);
	await expect(tokens.getByLabel('Token name')).toHaveValue('');

	await shown.getByRole('button', { name: 'Copy' }).click();
	await expect(shown.getByRole('button', { name: 'Copied' })).toBeVisible();
	expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

	const listed = tokens.getByRole('listitem').filter({ hasText: 'e2e script' });
	await expect(listed).toContainText(token.slice(0, 9));

	// The token works against the JSON API as this user.
	const me = await request.get('/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });
	expect(me.status()).toBe(200);
	expect(await me.json()).toMatchObject({ username: user.username, email: user.email });

	// Shown once: after a reload only its prefix remains.
	await page.reload();
	await expect(tokens.getByRole('group', { name: /Your new token/ })).toHaveCount(0);
	await expect(page.getByText(token)).toHaveCount(0);
	await expect(listed).toBeVisible();

	// Revoked, it stops working.
	await listed.getByRole('button', { name: /Revoke/ }).click();
	await expect(tokens.getByRole('status')).toContainText('Token revoked');
	await expect(listed).toHaveCount(0);
	expect(await meStatus(request, token)).toBe(401);

	// Sign out: back to the sign-in page, and the session no longer opens the app.
	await page.getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(/\/login$/);
	await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
	await page.goto('/settings');
	await expect(page).toHaveURL(/\/login\?redirectTo=%2Fsettings$/);
});
