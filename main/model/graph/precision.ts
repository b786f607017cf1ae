// The weight precisions a converted model can have (docs/precisions.md). Kept
// apart from graph/quantize.ts so the model's face can export it without
// loading the ONNX graph code.
export type Precision = 'fp32' | 'fp16' | 'int8' | 'int4';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8', 'int4'];
