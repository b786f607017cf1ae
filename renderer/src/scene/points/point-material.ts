// The point shader: square points of a fixed size in pixels, per-point colour
// as stored (sRGB bytes straight to the screen, as with the Canvas's linear,
// untoned output), and a 1-byte visibility code per point: hidden points are
// moved outside the clip volume, highlighted ones take the highlight colour.

import { Color, GLSL3, RawShaderMaterial } from 'three';

const vertexShader = /* glsl */ `
precision highp float;
uniform mat4 modelViewMatrix;
uniform mat4 projectionMatrix;
uniform float pointSize;
uniform vec3 baseColor;
uniform vec3 highlightColor;
in vec3 position;
// The code as a normalized byte (code / 255): UNORM8 is a vertex format every backend reads natively.
in float visibility;
#ifdef HAS_COLOR
in vec3 color;
#endif
out vec3 vColor;
void main() {
  float code = visibility * 255.0;
  if (code < 0.5) {
    // Outside every clip plane: the point is dropped before rasterisation.
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    gl_PointSize = 0.0;
    return;
  }
#ifdef HAS_COLOR
  vColor = color;
#else
  vColor = baseColor;
#endif
  if (code > 1.5) vColor = highlightColor;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  gl_PointSize = pointSize;
}
`;

const fragmentShader = /* glsl */ `
precision highp float;
in vec3 vColor;
out vec4 fragColor;
void main() {
  fragColor = vec4(vColor, 1.0);
}
`;

export interface PointUniforms {
  [name: string]: { value: unknown };
  pointSize: { value: number };
  baseColor: { value: Color };
  highlightColor: { value: Color };
}

export function createPointMaterial(hasColor: boolean): RawShaderMaterial & { uniforms: PointUniforms } {
  const uniforms: PointUniforms = {
    pointSize: { value: 3 },
    baseColor: { value: new Color(1, 1, 1) },
    highlightColor: { value: new Color(1, 0.85, 0) },
  };
  const material = new RawShaderMaterial({
    glslVersion: GLSL3,
    vertexShader,
    fragmentShader,
    uniforms,
    defines: hasColor ? { HAS_COLOR: '' } : {},
  });
  return material as RawShaderMaterial & { uniforms: PointUniforms };
}
