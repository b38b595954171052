import { spawn } from "node:child_process";
import type { Command } from "commander";
import { tokenFor } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

/** The command that opens a URL in the desktop's browser, when there is a desktop. */
function browserOpener(): string | undefined {
  if (process.platform === "darwin") return "open";
  if (process.platform === "win32") return "explorer";
  return process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? "xdg-open" : undefined;
}

export function registerDashboardCommand(program: Command): void {
  program
    .command("dashboard")
    .description("print the web dashboard's URL, signed in with your token (and open it in a browser when there is one)")
    .option("--no-open", "only print the URL")
    .action(async (options: { open: boolean }, command: Command) => {
      const config = configFor(command);
      // The token rides in the fragment: browsers never send it to the server, and the page moves it to sessionStorage.
      const url = `${config.url}/#token=${encodeURIComponent(await tokenFor(config))}`;
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify({ url })}\n`);
        return;
      }
      process.stdout.write(`${url}\n`);
      const opener = browserOpener();
      if (options.open && opener !== undefined && process.stdout.isTTY) {
        spawn(opener, [url], { detached: true, stdio: "ignore" }).on("error", () => undefined).unref();
      }
    });
}
