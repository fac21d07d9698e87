// Entry point: mounts the top bar, the connection banner and the live feed panel, registers the core screens
// and starts the hash router. The viewer, annotate and measure folders register their routes through
// registerRoute from their own index.ts, loaded below.

import './styles.css';
import { mountBanner } from './components/banner';
import { mountFeedPanel } from './components/feed_panel';
import { mountTopbar } from './components/topbar';
import { loadLateRoutes, registerRoute, setLateRoutes, startRouter } from './router';
import { renderImages } from './screens/images';
import { renderLogin } from './screens/login';
import { renderProjects } from './screens/projects';
import { session } from './session';
import { replayQueue } from './writes';

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html has no #${id}`);
  return found;
}

performance.mark('tessera:boot');
mountTopbar(element('topbar'));
mountBanner(element('banner'));
mountFeedPanel(element('feed-panel'));

registerRoute('#/login', renderLogin, { public: true, title: 'Log in' });
registerRoute('#/projects', renderProjects, { title: 'Projects' });
registerRoute('#/images', renderImages, { title: 'Images' });

// The viewer, annotation and measurement screens (each folder's index.ts registers its routes) load as a
// separate chunk: OpenLayers is most of the code, and the login, projects and image browser screens do not
// need it. The chunk loads when one of its routes is opened, or a few seconds after start when the browser is
// idle, so it never competes with the first screen's requests.
const screenModules = import.meta.glob(['./viewer/index.ts', './annotate/index.ts', './measure/index.ts']);
setLateRoutes(() => Promise.all(Object.values(screenModules).map((load) => load())));
window.setTimeout(() => requestIdleCallback(() => void loadLateRoutes()), 3000);

startRouter(element('outlet'), () => session.isSignedIn());
// Edits left queued by a previous visit (server down, tab closed) go out as soon as possible.
if (session.isSignedIn()) void replayQueue();
