// Registers the measurement screen (main.ts imports every screen folder's index.ts).

import { registerRoute } from '../router';
import { renderMeasure } from './measure_screen';

registerRoute('#/measure/:imageId', renderMeasure, { title: 'Measurements' });
