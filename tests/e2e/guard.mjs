// guard.mjs - what every browser test holds a page to: loopback only (any
// request elsewhere is refused and reported), no console error (a CSP
// violation among them) and no page error, and every file a page loads
// exists (a page that fetches favicon.ico, say, and gets 404); API
// answers are the tests' own business. Each problem is pushed to
// `problems`, for the test to fail on.

/* Refuses and reports every request of ctx that leaves the machine. */
export async function loopbackOnly(ctx, problems) {
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.protocol === 'blob:' || u.protocol === 'data:')
      return route.continue();
    problems.push('external request: ' + u.href);
    return route.abort();
  });
}

/* Reports page's console errors, page errors and missing files. */
export function watch(page, problems) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text()))
      problems.push('console: ' + m.text());
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (r.status() === 404 && !u.pathname.startsWith('/v1/'))
      problems.push('404: ' + u.pathname);
  });
}

/* The chromium flags the project's browser tests run with. */
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                             '--disable-background-networking', '--disable-quic',
                             '--disable-component-update', '--disable-sync'];
