/**
 * A short-lived process that loads a bundle into an isolate and reports the function's definition.
 * Deploys run it so that user code (even its top level) never executes in the control plane's process.
 */
import { FunctionSandbox } from "./function-sandbox.js";
import { serializeForIpc } from "./inspect-process.js";

process.once("message", async (message: { code: string; memoryMb: number }) => {
  try {
    const sandbox = await FunctionSandbox.create({
      code: message.code,
      memoryMb: message.memoryMb,
      env: {},
      function: { name: "inspect", version: 0 },
      onLog: () => {},
    });
    process.send?.({ ok: true, info: sandbox.describe() });
    sandbox.dispose();
  } catch (error) {
    process.send?.({ ok: false, error: serializeForIpc(error) });
  }
  process.disconnect?.();
});
