/**
 * The inspector: a page at `/` for people, showing what the engine holds
 * and does. (Placeholder until the page lands: a login form and a plain
 * summary.)
 *
 * @module
 */

import type { InspectorContext } from "./server.ts";

/**
 * Answers the inspector's routes.
 *
 * @param _request The request.
 * @param _url Its URL.
 * @param context The database and the request's authentication.
 * @returns The response.
 */
export function inspector(
  _request: Request,
  _url: URL,
  context: InspectorContext,
): Response {
  if (!context.authenticated) {
    return new Response("login required\n", { status: 401 });
  }
  return new Response("Strata\n");
}
