import { expect, test } from '@playwright/test';
import {
	contextWithSession,
	loginViaApi,
	logoutViaApi,
	mainNav,
	meStatus,
	registerViaApi,
	section,
	signInThroughForm,
	uniqueUser
} from './support/app';

test('changing the password signs out the other session', async ({ browser, request }) => {
	const user = uniqueUser('passwd');
	await registerViaApi(request, user);
	const first = await browser.newContext();
	const second = await browser.newContext();
	const here = await first.newPage();
	const elsewhere = await second.newPage();
	await signInThroughForm(here, user);
	await signInThroughForm(elsewhere, user);

	await here.goto('/settings');
	const password = section(here, 'Password');
	await password.getByLabel('Current password').fill('not my password');
	await password.getByLabel('New password').fill('a brand new password');
	await password.getByRole('button', { name: 'Change password' }).click();
	await expect(password.getByLabel('Current password')).toHaveAccessibleDescription('Your current password is not correct.');

	await password.getByLabel('Current password').fill(user.password);
	await password.getByLabel('New password').fill('a brand new password');
	await password.getByRole('button', { name: 'Change password' }).click();
	await expect(password.getByRole('status')).toHaveText('Password changed. Every other session was signed out.');
	await expect(password.getByLabel('New password')).toHaveValue('');

	// The other browser is sent to sign in at its next navigation; this one stays in.
	await mainNav(elsewhere).getByRole('link', { name: 'Jobs' }).click();
	await expect(elsewhere).toHaveURL(/\/login\?redirectTo=%2Fjobs$/);
	await here.reload();
	await expect(here).toHaveURL(/\/settings$/);
	await expect(section(here, 'Sessions').getByRole('listitem')).toHaveCount(1);

	// And only the new password works.
	await signInThroughForm(elsewhere, { email: user.email, password: 'a brand new password' });
	await Promise.all([first.close(), second.close()]);
});

test('a session revoked from the list is signed out', async ({ browser, request }) => {
	const user = uniqueUser('revoke');
	await logoutViaApi(request, await registerViaApi(request, user));
	const mine = await browser.newContext();
	const other = await browser.newContext({ userAgent: 'PixSim7-E2E-Other-Browser/1.0' });
	const page = await mine.newPage();
	const otherPage = await other.newPage();
	await signInThroughForm(page, user);
	await signInThroughForm(otherPage, user);

	await page.goto('/settings');
	const sessions = section(page, 'Sessions');
	const rows = sessions.getByRole('listitem');
	await expect(rows).toHaveCount(2);
	const current = rows.filter({ hasText: 'This session' });
	await expect(current).toContainText('127.0.0.1');
	await expect(current.getByRole('button', { name: /Revoke/ })).toHaveCount(0);
	const otherRow = rows.filter({ hasText: 'PixSim7-E2E-Other-Browser/1.0' });
	await expect(otherRow).toContainText('Last seen');
	await expect(otherRow).not.toContainText('This session');

	await otherRow.getByRole('button', { name: /Revoke/ }).click();
	await expect(sessions.getByRole('status')).toHaveText('Session signed out.');
	await expect(rows).toHaveCount(1);

	await mainNav(otherPage).getByRole('link', { name: 'Scenes' }).click();
	await expect(otherPage).toHaveURL(/\/login\?redirectTo=%2Fscenes$/);
	await Promise.all([mine.close(), other.close()]);
});

test('"Sign out all other sessions" keeps only this one', async ({ browser, request }) => {
	const user = uniqueUser('others');
	const registered = await registerViaApi(request, user);
	await loginViaApi(request, user);
	const context = await contextWithSession(browser, await loginViaApi(request, user));
	const page = await context.newPage();

	await page.goto('/settings');
	const sessions = section(page, 'Sessions');
	await expect(sessions.getByRole('listitem')).toHaveCount(3);
	await sessions.getByRole('button', { name: 'Sign out all other sessions' }).click();
	await expect(sessions.getByRole('status')).toHaveText('Signed out of 2 other sessions.');
	await expect(sessions.getByRole('listitem')).toHaveCount(1);
	await expect(sessions.getByRole('button', { name: 'Sign out all other sessions' })).toHaveCount(0);
	expect(await meStatus(request, registered)).toBe(401);
	await context.close();
});
