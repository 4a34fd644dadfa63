// The script a site embeds: the tracker, and the consent notice unless the
// tag says data-consent="off" (a site that uses another consent tool).
import { findScript, scriptOptions } from './script.js';
import { startTracker } from './tracker.js';
import { startConsent } from './consent.js';

const options = scriptOptions(findScript());
const consent = options.attr('consent') == 'off' ? null : startConsent(options);
startTracker(options, consent && { consent });
