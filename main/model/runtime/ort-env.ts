// Must be imported before onnxruntime-node loads (see ort.ts). ONNX Runtime
// 1.30 ships a telemetry client on Linux too: it persists a device id and an
// event database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and
// would upload events. ORT_DISABLE_TELEMETRY=1 (read by the native library)
// turns it off; nothing is written under ~/.cache then.
process.env.ORT_DISABLE_TELEMETRY = '1';
export const ORT_TELEMETRY_DISABLED = true;
