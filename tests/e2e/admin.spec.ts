import { expect, test } from '@playwright/test';
import { mainNav, meStatus, registerViaApi, signInThroughForm, uniqueUser } from './support/app';
import { DEMO, userStatePath } from './support/env';

test.describe('an administrator', () => {
	test('sets a quota and turns an account off; that person can no longer sign in', async ({ page, request, browser }) => {
		const target = uniqueUser('managed');
		const targetToken = await registerViaApi(request, target);

		await signInThroughForm(page, DEMO);
		const nav = mainNav(page);
		await expect(nav.getByRole('link', { name: 'Accounts' })).toBeVisible();
		await nav.getByRole('link', { name: 'Users' }).click();
		await expect(page).toHaveURL(/\/admin\/users$/);
		await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();

		await page.getByLabel('Search users').fill(target.username);
		await page.getByRole('button', { name: 'Search' }).click();
		await expect(page).toHaveURL(new RegExp(`\\?q=${target.username}$`));
		await expect(page.getByText(/^Showing 1–1 of 1 user matching/)).toBeVisible();

		const row = page.getByRole('listitem').filter({ hasText: target.email });
		await expect(row.getByLabel('Jobs per day')).toHaveValue('');
		await expect(row.getByLabel('Jobs per day')).toHaveAttribute('placeholder', 'Default: 200');
		await expect(row.getByLabel('Active')).toBeChecked();

		// A bad value is refused beside its box, and nothing is saved.
		await row.getByLabel('Jobs per day').fill('lots');
		await row.getByRole('button', { name: /^Save/ }).click();
		await expect(row.getByLabel('Jobs per day')).toHaveAccessibleDescription('Enter a whole number.');

		await row.getByLabel('Jobs per day').fill('7');
		await row.getByLabel('Storage (GiB)').fill('2.5');
		await row.getByLabel('Active').uncheck();
		await row.getByRole('button', { name: /^Save/ }).click();
		await expect(row.getByRole('status')).toHaveText('Saved.');
		await expect(row).toContainText('inactive');

		// Stored, not just shown.
		await page.reload();
		const reloaded = page.getByRole('listitem').filter({ hasText: target.email });
		await expect(reloaded.getByLabel('Jobs per day')).toHaveValue('7');
		await expect(reloaded.getByLabel('Storage (GiB)')).toHaveValue('2.5');
		await expect(reloaded.getByLabel('Provider accounts')).toHaveValue('');
		await expect(reloaded.getByLabel('Active')).not.toBeChecked();

		// Turned off: the existing session is gone and signing in is refused.
		expect(await meStatus(request, targetToken)).toBe(401);
		const context = await browser.newContext();
		const theirPage = await context.newPage();
		await theirPage.goto('/login');
		await theirPage.getByLabel('Email').fill(target.email);
		await theirPage.getByLabel('Password').fill(target.password);
		await theirPage.getByRole('button', { name: 'Sign in' }).click();
		await expect(theirPage.getByRole('alert')).toHaveText(/This account is disabled/);
		await expect(theirPage).toHaveURL(/\/login$/);
		await context.close();
	});

	test('cannot demote the last administrator', async ({ page }) => {
		await signInThroughForm(page, DEMO);
		await page.goto(`/admin/users?q=${encodeURIComponent(DEMO.email)}`);
		const row = page.getByRole('listitem').filter({ hasText: DEMO.email });
		await expect(row).toContainText('you');
		await row.getByLabel('Role').selectOption('user');
		await row.getByRole('button', { name: /^Save/ }).click();
		await expect(row.getByRole('alert')).toHaveText('PixSim7 needs at least one active administrator.');
		await page.reload();
		await expect(page.getByRole('listitem').filter({ hasText: DEMO.email }).getByLabel('Role')).toHaveValue('admin');
	});
});

test.describe('a user who is not an administrator', () => {
	test.use({ storageState: userStatePath() });

	test('gets 403 on the admin pages and does not see their links', async ({ page }) => {
		for (const path of ['/admin/users']) {
			const response = await page.goto(path);
			expect(response?.status()).toBe(403);
			await expect(page.getByRole('heading', { name: 'You do not have access' })).toBeVisible();
			// Still inside the app shell, with a way on.
			await expect(mainNav(page)).toBeVisible();
		}
		await expect(mainNav(page).getByRole('link', { name: 'Users' })).toHaveCount(0);
		// Accounts is for everyone: users manage their own private provider accounts there.
		await expect(mainNav(page).getByRole('link', { name: 'Accounts' })).toBeVisible();
	});
});
