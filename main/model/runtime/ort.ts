// The one place that loads onnxruntime-node: ort-env.ts runs first (telemetry off).
import './ort-env';
import * as ort from 'onnxruntime-node';

export { ort };
export type OrtTensor = ort.Tensor;
export type OrtSession = ort.InferenceSession;
