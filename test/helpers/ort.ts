// ONNX Runtime for the export and import tests: onnxruntime-web, the WebAssembly build of ONNX Runtime's CPU engine (the
// same operator set as onnxruntime-node's), which ships inside its npm package — no native binary, no install script, no
// download. One thread: the tests compare values, and the runtime's own worker pool would only compete with ours.
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;

export default ort;
