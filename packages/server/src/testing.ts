/**
 * @eddy/server/testing: what tests of Eddy (and of apps on it) use to drive the server, kept out
 * of the main entry point so that it is not API of the server by accident.
 */
export { ManualClock } from "./clock/manual-clock.js";
