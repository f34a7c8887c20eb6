// The seeds' flows in a real browser: delete a post through its confirmation page, cancel,
// a CSRF failure, and a protected product whose blockers leave no delete button.
const { test, expect } = require('@playwright/test');
const path = require('path');

const shots = process.env.CASCADE_BROWSER_OUTPUT || 'test-results';

test('delete a post after its confirmation page, which lists its comments', async ({ page }) => {
  // A post that has comments: the post of the first comment.
  await page.goto('/blog/comment/');
  await page.locator('table a').first().click();
  await page.locator('th', { hasText: 'post' }).locator('xpath=../td/a').click();
  const title = (await page.locator('h1').innerText()).replace(/^Post: /, '').trim();
  await page.getByRole('link', { name: 'Delete' }).click();
  await expect(page.locator('h1')).toHaveText('Are you sure?');
  await expect(page.locator('.tree')).toContainText('Comment:');
  await expect(page.locator('.summary')).toContainText('Post: 1');
  await page.screenshot({ path: path.join(shots, 'confirm-delete.png'), fullPage: true });
  await page.getByRole('button', { name: 'Yes, I’m sure' }).click();
  await expect(page).toHaveURL(/\/blog\/post\/$/);
  await expect(page.getByRole('status')).toContainText(`The post “${title}” was deleted`);
  await page.screenshot({ path: path.join(shots, 'deleted.png'), fullPage: true });
  await expect(page.locator('table')).not.toContainText(title);
});

test('cancel goes back to the object and deletes nothing', async ({ page }) => {
  await page.goto('/blog/author/');
  const first = page.locator('table a').first();
  const name = (await first.innerText()).trim();
  const href = await first.getAttribute('href');
  await page.goto(href + 'delete/');
  await page.getByRole('link', { name: 'No, take me back' }).click();
  await expect(page).toHaveURL(new RegExp(href.replace(/\//g, '\\/') + '$'));
  await page.goto('/blog/author/');
  await expect(page.locator('table')).toContainText(name);
});

test('a form without its CSRF cookie is refused with the reason', async ({ page, context }) => {
  await page.goto('/blog/comment/');
  await page.locator('table a').first().click();
  await page.getByRole('link', { name: 'Delete' }).click();
  await context.clearCookies();
  await page.getByRole('button', { name: 'Yes, I’m sure' }).click();
  await expect(page.locator('h1')).toContainText('403');
  await expect(page.locator('main')).toContainText('CSRF cookie not set.');
  await page.screenshot({ path: path.join(shots, 'csrf-403.png'), fullPage: true });
});

test('a protected product shows what blocks it and no delete button', async ({ page }) => {
  await page.goto('/shop/orderitem/');
  await page.locator('table a').first().click();
  const product = page.locator('th', { hasText: 'product' }).locator('xpath=../td/a');
  await product.click();
  await page.getByRole('link', { name: 'Delete' }).click();
  await expect(page.locator('.blocked')).toContainText('is not possible');
  await expect(page.locator('.blocked')).toContainText('Order item:');
  await expect(page.getByRole('button', { name: 'Yes, I’m sure' })).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'protected.png'), fullPage: true });
});
