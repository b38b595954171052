import { Hono } from "hono";
import { deadLetterAccepted, deadLetterBody, emptyBody, invokeBody, invokeResult, nameParams, pauseResult, redriveAccepted, replayAccepted, replayBody } from "./api-schemas.js";
import type { FunctionService } from "./function-service.js";
import { describeFunction, functionOf } from "./functions-routes.js";
import type { RouteDoc } from "./openapi.js";
import { jsonBody, nameOf } from "./validate.js";

const notFound = { 404: { description: "No such function" } };

export const operationsDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/v1/functions/:name/invoke",
    summary: "Run the handler once over the given events in the sandbox, touching no topic",
    params: nameParams,
    body: invokeBody,
    responses: { 200: { description: "What the function did (ok false when it failed)", schema: invokeResult }, ...notFound },
  },
  {
    method: "post",
    path: "/v1/functions/:name/replay",
    summary: "Move the function's consumer group to earliest, latest, a time or explicit offsets, and resume",
    params: nameParams,
    body: replayBody,
    responses: { 202: { description: "The group moved; the records are being reprocessed", schema: replayAccepted }, ...notFound },
  },
  {
    method: "post",
    path: "/v1/functions/:name/redrive",
    summary: "Reprocess the dead-letter topic (up to its end now) through the current version",
    params: nameParams,
    responses: {
      202: { description: "The redrive started; GET the function to follow it", schema: redriveAccepted },
      409: { description: "A redrive is already running, or the function has no dead-letter topic" },
      ...notFound,
    },
  },
  {
    method: "post",
    path: "/v1/functions/:name/pause",
    summary: "Stop processing (the workers drain and leave the group); kept across restarts",
    params: nameParams,
    responses: { 200: { description: "Paused", schema: pauseResult }, ...notFound },
  },
  {
    method: "post",
    path: "/v1/functions/:name/resume",
    summary: "Start processing again from the committed offsets",
    params: nameParams,
    responses: { 200: { description: "Resumed", schema: pauseResult }, ...notFound },
  },
  {
    method: "post",
    path: "/v1/functions/:name/dead-letter",
    summary: "Move a failed record that its partition waits behind to the dead-letter topic, with its last error (an operator's decision)",
    params: nameParams,
    body: deadLetterBody,
    responses: {
      202: {
        description:
          "A replica holds the record; it is written to the dead-letter topic next and its partition goes on. If it is being invoked right now (a retry, or the breaker's probe), `afterAttempt` is true: it goes there if that attempt fails, and is done if it succeeds",
        schema: deadLetterAccepted,
      },
      409: { description: "The function never dead-letters (deadLetter: false)" },
      404: { description: "No such function, or no replica holds that record as a failed record waiting" },
    },
  },
];

/** Invoke (dry run), replay, redrive, pause, resume and an operator's dead-letter. */
export function operationsRoutes(service: FunctionService): Hono {
  const app = new Hono();

  app.post("/:name/invoke", async (c) => {
    const name = nameOf(c);
    const { data } = await jsonBody(c, invokeBody);
    functionOf(service, name);
    return c.json(await service.invoke(name, data.events));
  });

  app.post("/:name/replay", async (c) => {
    const name = nameOf(c);
    const { data } = await jsonBody(c, replayBody);
    functionOf(service, name);
    return c.json(await service.replay(name, data.from), 202);
  });

  app.post("/:name/redrive", async (c) => {
    const name = nameOf(c);
    await jsonBody(c, emptyBody);
    functionOf(service, name);
    return c.json(await service.redrive(name), 202);
  });

  app.post("/:name/dead-letter", async (c) => {
    const name = nameOf(c);
    const { data } = await jsonBody(c, deadLetterBody);
    functionOf(service, name);
    return c.json(await service.deadLetter(name, data), 202);
  });

  for (const action of ["pause", "resume"] as const) {
    app.post(`/:name/${action}`, async (c) => {
      const name = nameOf(c);
      await jsonBody(c, emptyBody);
      functionOf(service, name);
      await service.setPaused(name, action === "pause");
      return c.json({ ...describeFunction(functionOf(service, name)), paused: service.isPaused(name) });
    });
  }

  return app;
}
