/**
 * The entry of a standby worker (standby-worker.ts): worker-main, loaded ahead of need. A file of its
 * own so that its command line does not name worker-main while it runs no function: `ps` and
 * `pgrep -f worker-main` show replicas only. Once it runs one, worker-main retitles the process.
 */
import "./worker-main.js";
