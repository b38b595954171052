/**
 * The entry of the standby worker (the supervisor's SpareProcess): worker-main, loaded ahead of need. A file of its
 * own so that its command line does not name worker-main while it runs no function: `ps` and
 * `pgrep -f worker-main` show replicas only. Once it runs one, worker-main retitles the process.
 */
import "./worker-main.js";
