// A single float32 MatMul as an ONNX model: the machine's practical GEMM peak
// through ONNX Runtime, against which the model benchmarks report how much of
// the machine they use (the shared bench README quotes 185 GFLOP/s for 4096³).

import { onnx } from 'onnx-proto';

function matrixInfo(name: string, rows: number, cols: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimValue: rows }, { dimValue: cols }] },
      },
    },
  };
}

/** ONNX bytes of C = A·B with A (m×k), B (k×n), all float32 graph inputs. */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 9,
    producerName: 'g2studio-matmul-probe',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'], name: 'matmul' }],
      input: [matrixInfo('a', m, k), matrixInfo('b', k, n)],
      output: [matrixInfo('c', m, n)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
