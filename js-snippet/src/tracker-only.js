// The tracker-only build (dist/kruimel-tracker.js, served at
// /js/kruimel-tracker.js): for a site that needs no notice (no optional
// categories) or a page with its own consent tool. The same tracker as in
// the whole script, without the notice, within its budget of 1,200 bytes gzipped.
import { findScript, scriptOptions } from './script.js';
import { startTracker } from './tracker.js';

startTracker(scriptOptions(findScript()));
