import pino from "pino";

/** Eddy's logs: one JSON object a line on stderr, so stdout stays free for command output. loadConfig()'s callers set the level. */
export const log = pino({ base: { pid: process.pid }, level: "info" }, pino.destination({ fd: 2, sync: true }));
