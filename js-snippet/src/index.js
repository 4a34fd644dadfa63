import { findScript, scriptOptions } from './script.js';
import { startTracker } from './tracker.js';
startTracker(scriptOptions(findScript()));
