import type { Plugin } from 'graphql-yoga';

/**
 * GET /readyz: 200 while `check` says the instance can serve, 503 otherwise. In place of Yoga's
 * useReadinessCheck, which tests a URLPattern against every request's URL: 2% of the server's CPU per
 * gift (docs/benchmarks.md, "Issue 26"), where comparing the path Yoga has already parsed does.
 */
export function useReadiness(check: () => Promise<boolean>): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/readyz') return;
      return check().then((ready) => endResponse(new fetchAPI.Response(null, { status: ready ? 200 : 503 })));
    },
  };
}
