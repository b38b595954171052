// The quick start's pair (`npm start` deploys this folder): the function itself, with its notes, is functions/examples/email-sender.ts.
export { default } from "./examples/email-sender.js";
