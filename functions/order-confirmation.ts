// The quick start's pair (`npm start` deploys this folder): the function itself, with its notes, is functions/examples/order-confirmation.ts.
export { default } from "./examples/order-confirmation.js";
