/** `eddy/testing`: run a function in a real isolate from a unit test, with no Kafka and no network. */
export { testFunction, TestedFunction, type TestFunctionOptions, type TestRecord, type TestResult, type TestEmit } from "./test-function.js";
export { TestState } from "./test-state.js";
