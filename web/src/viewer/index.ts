// Registers the viewer screen (main.ts imports every screen folder's index.ts).

import { registerRoute } from '../router';
import { renderViewer } from './viewer_screen';

registerRoute('#/viewer/:imageId', renderViewer, { title: 'Viewer' });
