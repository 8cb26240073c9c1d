import { expect, test, type Page } from '@playwright/test';
import { mainNav, registerViaApi, uniqueUser, type TestUser } from './support/app';

async function fillSignIn(page: Page, email: string, password: string) {
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
}

async function fillRegister(page: Page, user: TestUser) {
	await page.getByLabel('Email').fill(user.email);
	await page.getByLabel('Username').fill(user.username);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Create account' }).click();
}

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('a wrong password is refused beside the form, the right one opens the app', async ({ page, request }) => {
		const user = uniqueUser('nojs');
		await registerViaApi(request, user);

		await page.goto('/login');
		await fillSignIn(page, user.email, 'not the password');
		await expect(page.getByRole('alert')).toHaveText('Invalid email or password.');
		await expect(page.getByLabel('Email')).toHaveValue(user.email);
		await expect(page.getByLabel('Password')).toHaveValue('');
		expect(await page.content()).not.toContain('not the password');

		await page.getByLabel('Password').fill(user.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page).toHaveURL(/\/gallery$/);
		await expect(mainNav(page).getByRole('link', { name: 'Gallery' })).toHaveAttribute('aria-current', 'page');
	});

	test('registration errors appear beside their fields', async ({ page }) => {
		await page.goto('/register');
		await fillRegister(page, { ...uniqueUser('fresh'), email: 'not-an-email', password: 'short' });
		await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
		await expect(page.getByLabel('Email')).toHaveAccessibleDescription('Enter a valid email address.');
		await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
		await expect(page.getByLabel('Password')).toHaveAccessibleDescription(/at least 8 characters/);
		// Without JavaScript the page is rendered anew: what was typed comes back, but not the password.
		await expect(page.getByLabel('Username')).toHaveValue(/^fresh_/);
		await expect(page.getByLabel('Password')).toHaveValue('');
	});
});

test.describe('registration', () => {
	test('a short password and a taken email are explained beside their fields', async ({ page, request }) => {
		const taken = uniqueUser('taken');
		await registerViaApi(request, taken);
		const fresh = uniqueUser('fresh');

		await page.goto('/register');
		await fillRegister(page, { ...fresh, password: 'short' });
		const password = page.getByLabel('Password');
		await expect(password).toHaveAttribute('aria-invalid', 'true');
		await expect(password).toHaveAccessibleDescription(/Password must be at least 8 characters\./);
		await expect(page.getByLabel('Email')).toHaveValue(fresh.email);
		await expect(page.getByLabel('Username')).toHaveValue(fresh.username);
		await expect(page.getByLabel('Email')).not.toHaveAttribute('aria-invalid', 'true');

		await fillRegister(page, { ...fresh, email: taken.email.toUpperCase() });
		const email = page.getByLabel('Email');
		await expect(email).toHaveAttribute('aria-invalid', 'true');
		await expect(email).toHaveAccessibleDescription(/An account with this email already exists\./);
		await expect(password).not.toHaveAttribute('aria-invalid', 'true');
		await expect(page).toHaveURL(/\/register$/);
	});
});

test.describe('sign-in', () => {
	test('returns to the page that asked for it', async ({ page, request }) => {
		const user = uniqueUser('return');
		await registerViaApi(request, user);

		await page.goto('/settings');
		await expect(page).toHaveURL(/\/login\?redirectTo=%2Fsettings$/);
		await fillSignIn(page, user.email, user.password);
		await expect(page).toHaveURL(/\/settings$/);
		// Signed in, the sign-in and registration pages send you on.
		await page.goto('/login');
		await expect(page).toHaveURL(/\/gallery$/);
		await page.goto('/register');
		await expect(page).toHaveURL(/\/gallery$/);
	});

	test('ignores a redirect target on another site', async ({ page, request }) => {
		const user = uniqueUser('offsite');
		await registerViaApi(request, user);

		await page.goto('/login?redirectTo=//example.com/phish');
		await fillSignIn(page, user.email, user.password);
		await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/gallery$/);
	});

	test('after too many attempts says how long to wait', async ({ page, request }) => {
		const user = uniqueUser('limited');
		await registerViaApi(request, user);
		// The default allows 10 attempts per account in the window; spend them through the API.
		for (let i = 0; i < 10; i++) {
			const response = await request.post('/api/v1/auth/login', { data: { email: user.email, password: 'wrong password' } });
			expect(response.status()).toBe(401);
		}

		await page.goto('/login');
		await fillSignIn(page, user.email, user.password);
		await expect(page.getByRole('alert')).toHaveText(/^Too many attempts\. Wait \d+ seconds and try again\.$/);
		await expect(page).toHaveURL(/\/login$/);
	});
});
