// Hash router: every screen is a route "#/name/:param" rendered into the main outlet. Screens register
// themselves through registerRoute (main.ts for the core screens, the viewer/measure modules for theirs), so
// adding a screen never means editing the router.

export type RouteParams = Record<string, string>;

// What a screen's render returns: nothing, or a cleanup run when the user leaves the screen (close feeds,
// release locks, drop OpenLayers maps). Render may be async; its errors are shown in the outlet.
export type Cleanup = () => void;
export type RouteRender = (outlet: HTMLElement, params: RouteParams) => void | Cleanup | Promise<void | Cleanup>;

export interface RouteOptions {
  // Public routes (the login screen) render without a token; every other route sends the user to login.
  public?: boolean;
  // Title shown in the browser tab.
  title?: string;
}

interface Route {
  pattern: string;
  segments: string[];
  render: RouteRender;
  options: RouteOptions;
}

const routes: Route[] = [];
let outletElement: HTMLElement | null = null;
let currentCleanup: Cleanup | null = null;
let renderGeneration = 0;
let authCheck: () => boolean = () => true;
let fallbackHash = '#/projects';
let lateRoutesLoader: (() => Promise<unknown>) | null = null;
let lateRoutes: Promise<unknown> | null = null;

function splitPath(path: string): string[] {
  return path.replace(/^#?\/?/, '').split('/').filter((s) => s.length > 0);
}

// Registers a screen. pattern: "#/viewer/:imageId" (the leading "#" is optional); ":name" segments become
// params (URI-decoded). Registering the same pattern twice is a programming error.
export function registerRoute(pattern: string, render: RouteRender, options: RouteOptions = {}): void {
  const normalized = '#/' + splitPath(pattern).join('/');
  if (routes.some((r) => r.pattern === normalized)) throw new Error(`route ${normalized} is registered twice`);
  // No re-render here: a screen registered late (a lazily loaded chunk) must not rebuild the screen the user
  // is on; a hash waiting for it is rendered by renderCurrent once the chunk has loaded.
  routes.push({ pattern: normalized, segments: splitPath(pattern), render, options });
}

export interface RouteMatch {
  route: Route;
  params: RouteParams;
}

export function matchRoute(hash: string): RouteMatch | null {
  const [path, query = ''] = hash.split('?', 2);
  const parts = splitPath(path);
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: RouteParams = {};
    let ok = true;
    route.segments.forEach((segment, k) => {
      if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(parts[k]);
      else if (segment !== parts[k]) ok = false;
    });
    if (!ok) continue;
    for (const [key, value] of new URLSearchParams(query)) params[key] ??= value;
    return { route, params };
  }
  return null;
}

export function navigate(hash: string): void {
  const target = hash.startsWith('#') ? hash : '#' + hash;
  if (location.hash === target) void renderCurrent();
  else location.hash = target;
}

export function currentHash(): string {
  return location.hash || fallbackHash;
}

async function renderCurrent(): Promise<void> {
  const outlet = outletElement;
  if (!outlet) return;
  const generation = ++renderGeneration;
  let match = matchRoute(currentHash());
  if (!match && lateRoutesLoader) {
    // A link to a screen whose module is not loaded yet: load it before falling back.
    await loadLateRoutes().catch(() => undefined);
    if (generation !== renderGeneration) return;
    match = matchRoute(currentHash());
  }
  if (!match) {
    navigate(fallbackHash);
    return;
  }
  if (!match.route.options.public && !authCheck()) {
    navigate('#/login');
    return;
  }
  if (currentCleanup) {
    const cleanup = currentCleanup;
    currentCleanup = null;
    try {
      cleanup();
    } catch (err) {
      console.error('route cleanup failed', err);
    }
  }
  outlet.replaceChildren();
  outlet.dataset.route = match.route.pattern;
  document.title = match.route.options.title ? `${match.route.options.title} · tessera` : 'tessera';
  document.dispatchEvent(new CustomEvent('tessera:route', { detail: match.route.pattern }));
  try {
    const cleanup = await match.route.render(outlet, match.params);
    // The user may have moved on while an async screen was loading: clean up what it built at once.
    if (generation !== renderGeneration) {
      if (cleanup) cleanup();
      return;
    }
    currentCleanup = cleanup ?? null;
  } catch (err) {
    if (generation !== renderGeneration) return;
    const box = document.createElement('div');
    box.className = 'error-box';
    box.textContent = err instanceof Error ? err.message : String(err);
    outlet.replaceChildren(box);
  }
}

// Screens built as separate chunks register their routes when loaded: loader loads them (once), the first time
// a hash matches no route, or earlier through loadLateRoutes (prefetch).
export function setLateRoutes(loader: () => Promise<unknown>): void {
  lateRoutesLoader = loader;
}

export function loadLateRoutes(): Promise<unknown> {
  if (!lateRoutesLoader) return Promise.resolve();
  lateRoutes ??= lateRoutesLoader();
  return lateRoutes;
}

// Starts routing into outlet. isAuthenticated decides whether non-public routes may render.
export function startRouter(outlet: HTMLElement, isAuthenticated: () => boolean, defaultHash = '#/projects'): void {
  outletElement = outlet;
  authCheck = isAuthenticated;
  fallbackHash = defaultHash;
  window.addEventListener('hashchange', () => void renderCurrent());
  void renderCurrent();
}
