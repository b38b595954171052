import { pino, type Logger } from "pino";

/** Eddy's logs: one JSON object a line on stderr, so stdout stays free for command output. loadConfig() sets the level. */
export const log: Logger = pino(
  { base: { pid: process.pid }, level: "info" },
  pino.destination({ fd: 2, sync: true }),
);
