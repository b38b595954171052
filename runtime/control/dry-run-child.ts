/**
 * A short-lived process that runs a function once over given records, for `POST /v1/functions/:name/invoke`.
 * It touches no topic: it has no Kafka client at all. Emits and logs are collected and sent back.
 * User code never runs in the control plane's process, so this is a child like the deploy's inspect child.
 */
import { serializeForIpc } from "../sandbox/inspect-process.js";
import { FunctionSandbox } from "../sandbox/function-sandbox.js";
import { functionEnv } from "../secrets/function-env.js";
import type { DryRunReply, DryRunRequest, DryRunLog } from "./dry-run.js";

process.once("message", async (request: DryRunRequest) => {
  const logs: DryRunLog[] = [];
  let reply: DryRunReply;
  try {
    const sandbox = await FunctionSandbox.create({
      code: request.code,
      memoryMb: request.memoryMb,
      env: request.secrets ? functionEnv(request.secrets.record, Buffer.from(request.secrets.key, "base64")) : request.env,
      function: request.function,
      onLog: (level, message) => logs.push({ level, message, at: new Date().toISOString() }),
      egress: request.egress,
      topicPrefix: request.topicPrefix,
      state: request.state,
    });
    const result = await sandbox.invoke(request.records, { attempt: 1, timeoutMs: request.timeoutMs });
    sandbox.dispose();
    reply = { ok: true, result, logs };
  } catch (error) {
    reply = { ok: false, error: serializeForIpc(error), logs };
  }
  process.send?.(reply, () => process.disconnect?.());
});
