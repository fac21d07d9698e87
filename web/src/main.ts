// Entry point: mounts the top bar, the connection banner and the live feed panel, registers the core screens
// and starts the hash router. Screens of other modules (viewer, annotate, measure) register their routes
// through registerRoute from their own files, imported below.

import './styles.css';
import { mountBanner } from './components/banner';
import { mountFeedPanel } from './components/feed_panel';
import { mountTopbar } from './components/topbar';
import { registerRoute, startRouter } from './router';
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

// Part-2 screens (viewer, annotate, measure) live in their own folders; each folder's index.ts registers its
// routes with registerRoute. Globbing them keeps main.ts free of edits when a screen is added.
import.meta.glob(['./viewer/index.ts', './annotate/index.ts', './measure/index.ts'], { eager: true });

startRouter(element('outlet'), () => session.isSignedIn());
// Edits left queued by a previous visit (server down, tab closed) go out as soon as possible.
if (session.isSignedIn()) void replayQueue();
