/** The `eddy` command (SPEC §8). Each command lives in its own file and registers itself here. */
import { Command } from "commander";
import { isEddyError } from "../eddy-error.js";
import { log } from "../log.js";
import { loadConfig } from "../config/load-config.js";
import { registerDashboardCommand } from "./dashboard.js";
import { registerDeadLetterCommand } from "./dead-letter.js";
import { registerDeployCommand } from "./deploy.js";
import { registerDevCommand } from "./dev.js";
import { registerGetCommand } from "./get.js";
import { registerInitCommand } from "./init.js";
import { registerInvokeCommand } from "./invoke.js";
import { registerKafkaCommands } from "./kafka.js";
import { registerLogsCommand } from "./logs.js";
import { registerLsCommand } from "./ls.js";
import { registerManifestsCommand } from "./manifests.js";
import { registerPauseCommands } from "./pause.js";
import { registerProduceCommand } from "./produce.js";
import { registerRedriveCommand } from "./redrive.js";
import { registerReplayCommand } from "./replay.js";
import { registerRmCommand } from "./rm.js";
import { registerStartCommand } from "./start.js";
import { registerStateCommands } from "./state.js";
import { registerVersionCommands } from "./versions.js";
import { registerSecretCommands } from "./secret.js";
import { registerTokenCommands } from "./token.js";
import { registerWorkerCommand } from "./worker.js";

const program = new Command("eddy")
  .description("Serverless functions on Apache Kafka streams")
  .option("--url <url>", "Eddy's API (EDDY_URL, default http://127.0.0.1:8080)")
  .option("--token <token>", "API token (EDDY_API_TOKEN, default: <dataDir>/token)")
  .option("--json", "print machine-readable JSON")
  .option("--kafka <brokers>", "Kafka bootstrap brokers, comma-separated (KAFKA_BROKERS; default: a local broker)")
  .option("--data-dir <dir>", "where Eddy keeps its files (EDDY_DATA_DIR, default .eddy)")
  .option("--log-format <format>", "Eddy's own log lines on stderr: json or pretty (EDDY_LOG_FORMAT; default pretty on a terminal, else json)")
  .showHelpAfterError();

registerStartCommand(program);
registerInitCommand(program);
registerKafkaCommands(
  program,
  () => loadConfig(program.opts()).dataDir,
  () => loadConfig(program.opts()).kafkaHome ?? undefined,
);
registerDeployCommand(program);
registerDevCommand(program);
registerLsCommand(program);
registerGetCommand(program);
registerRmCommand(program);
registerLogsCommand(program);
registerInvokeCommand(program);
registerReplayCommand(program);
registerRedriveCommand(program);
registerVersionCommands(program);
registerPauseCommands(program);
registerDeadLetterCommand(program);
registerStateCommands(program);
registerProduceCommand(program);
registerSecretCommands(program);
registerTokenCommands(program);
registerWorkerCommand(program);
registerManifestsCommand(program);
registerDashboardCommand(program);

program.parseAsync().catch((error: unknown) => {
  // Errors the user can fix get one line and exit 1; anything else is a bug and is logged with its stack.
  if (isEddyError(error) && error.userError) {
    process.stderr.write(`eddy: ${error.message}\n`);
  } else {
    log.error({ err: error }, "eddy failed");
    process.stderr.write(`eddy: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
