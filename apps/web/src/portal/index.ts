import type { AppExtensions } from '../app.js';
import type { Services } from '../services.js';

/** The web portal (issue 5): registered after the API routes. */
export function createPortal(_s: Services): AppExtensions {
  return {};
}
