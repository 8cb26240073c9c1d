import { expect, test as setup } from '@playwright/test';
import { mainNav, uniqueUser } from './support/app';
import { userStatePath } from './support/env';

// Tests that only need "a signed-in user" start from this state. They must not sign it out,
// revoke its session or change its password: other tests share it.
setup('register a user through the form and keep the session', async ({ page }) => {
	const user = uniqueUser('shared');
	await page.goto('/register');
	await page.getByLabel('Email').fill(user.email);
	await page.getByLabel('Username').fill(user.username);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(mainNav(page).getByRole('link', { name: 'Gallery' })).toHaveAttribute('aria-current', 'page');
	await page.context().storageState({ path: userStatePath() });
});
