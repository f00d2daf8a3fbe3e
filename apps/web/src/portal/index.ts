import { AuthError, NotFoundError, projectsOfUser } from '@robotrace/core';
import type { AppExtensions } from '../app.js';
import type { Router } from '../http/router.js';
import type { Services } from '../services.js';
import { registerApiKeysPage } from './api-keys-page.js';
import { loadAssets } from './assets.js';
import { registerAuthPages } from './auth-pages.js';
import { registerCliAuthPage } from './cli-auth-page.js';
import { registerComparePage } from './compare-page.js';
import { registerDeletePage } from './delete-page.js';
import { registerEpisodePage } from './episode-page.js';
import { registerEpisodesPage } from './episodes-page.js';
import { registerEvalPage } from './eval-page.js';
import { registerEvalsPage } from './evals-page.js';
import { type PortalKit, portalPage, requireViewer, sessionUser } from './guard.js';
import { registerInsightsActions } from './insights-card.js';
import type { PortalConfig } from './portal-config.js';
import { registerSettingsPage } from './settings-page.js';
import { loadTraceLinkConfig } from './trace-link-config.js';
import { registerTracePage } from './trace-page.js';
import { registerVerifyPage } from './verify-page.js';

/**
 * The web portal (issue 5): server-rendered pages on the same node:http server as the API. Runs at start:
 * loads the static assets and the trace link configuration (refused templates are logged here).
 */
export function createPortal(s: Services): AppExtensions {
  const kit: PortalKit = { s, assets: loadAssets() };
  const config: PortalConfig = { traceLinks: loadTraceLinkConfig(s.log) };

  return {
    register(router: Router) {
      kit.assets.register(router);
      registerAuthPages(router, kit);
      // Before the episode page, or /portal/episodes/delete would be read as an episode id.
      registerDeletePage(router, kit);
      registerEpisodesPage(router, kit);
      registerEpisodePage(router, kit, config);
      registerTracePage(router, kit, config);
      registerComparePage(router, kit);
      registerApiKeysPage(router, kit);
      registerCliAuthPage(router, kit);
      registerEvalsPage(router, kit);
      registerEvalPage(router, kit);
      registerVerifyPage(router, kit);
      registerInsightsActions(router, kit);
      registerSettingsPage(router, kit, config);
      // Anything else under /portal is a portal 404 page (after the session check, so it leaks nothing).
      router.on(
        'GET',
        '/portal/*',
        portalPage(kit, async (ctx) => {
          await requireViewer(ctx, s);
          throw new NotFoundError();
        }),
      );
    },

    /** Lets the <video> element and download links read artifacts with the portal session cookie. */
    async artifactScope(ctx) {
      const user = await sessionUser(ctx, s);
      if (!user)
        throw new AuthError('Sign in to the portal, or pass an API key as `Authorization: Bearer rt_…`');
      const [project] = await projectsOfUser(s.core, user.id);
      if (!project) throw new NotFoundError('Episode not found');
      return { projectId: project.id };
    },
  };
}
