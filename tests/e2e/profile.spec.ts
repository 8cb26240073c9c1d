import { expect, test } from '@playwright/test';
import { contextWithSession, registerViaApi, section, uniqueUser } from './support/app';

test('a username change is saved, and a taken one is refused beside the field', async ({ browser, request }) => {
	const user = uniqueUser('rename');
	const other = uniqueUser('owner');
	await registerViaApi(request, other);
	const context = await contextWithSession(browser, await registerViaApi(request, user));
	const page = await context.newPage();

	await page.goto('/settings');
	const profile = section(page, 'Profile');
	await expect(profile).toContainText(user.email);
	const username = profile.getByLabel('Username');
	await expect(username).toHaveValue(user.username);

	await username.fill(other.username.toUpperCase());
	await profile.getByRole('button', { name: 'Save username' }).click();
	await expect(username).toHaveAttribute('aria-invalid', 'true');
	await expect(username).toHaveAccessibleDescription(/This username is taken\./);

	await username.fill('no spaces allowed');
	await profile.getByRole('button', { name: 'Save username' }).click();
	await expect(username).toHaveAccessibleDescription(/Use letters, digits, dots, dashes and underscores only\./);

	const renamed = `${user.username}_2`;
	await username.fill(renamed);
	await profile.getByRole('button', { name: 'Save username' }).click();
	await expect(profile.getByRole('status')).toHaveText('Username saved.');
	await expect(username).not.toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByRole('banner')).toContainText(renamed);
	await page.reload();
	await expect(section(page, 'Profile').getByLabel('Username')).toHaveValue(renamed);
	await context.close();
});
